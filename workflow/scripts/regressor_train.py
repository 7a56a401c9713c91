from script_start import start

start(snakemake)

import torch

from bridge.contracts import read_mapping_record
from bridge.regressor.stage import train_regressor

torch.set_num_threads(snakemake.threads)
mapping_path = snakemake.input.get("mapping")
expected = snakemake.wildcards.get("condition")
# The record's condition must be the run's (StageFileError naming the file otherwise).
mapping = read_mapping_record(mapping_path, expected).to_dict() if mapping_path else None
train_regressor(
    mapping,
    snakemake.params.model,
    int(snakemake.params.seed),
    snakemake.params.regressor,
    snakemake.params.out_dir,
    mapping_source=mapping_path or "reference (no mapping)",
)
