import torch

from bridge.contracts import read_mapping_record
from bridge.logs import setup_logging
from bridge.regressor.stage import train_regressor

setup_logging(snakemake.log[0])  # noqa: F821
torch.set_num_threads(snakemake.threads)  # noqa: F821
mapping_path = snakemake.input.get("mapping")  # noqa: F821
expected = snakemake.wildcards.get("condition")  # noqa: F821
# The record's condition must be the run's (StageFileError naming the file otherwise).
mapping = read_mapping_record(mapping_path, expected).to_dict() if mapping_path else None
train_regressor(
    mapping,
    snakemake.params.model,  # noqa: F821
    int(snakemake.params.seed),  # noqa: F821
    snakemake.params.regressor,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
    mapping_source=mapping_path or "reference (no mapping)",
)
