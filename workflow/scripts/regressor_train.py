import torch

from bridge.io import read_json
from bridge.logs import setup_logging
from bridge.regressor import train_regressor

setup_logging(snakemake.log[0])  # noqa: F821
torch.set_num_threads(snakemake.threads)  # noqa: F821
mapping_path = snakemake.input.get("mapping")  # noqa: F821
mapping = read_json(mapping_path) if mapping_path else None
expected = snakemake.wildcards.get("condition")  # noqa: F821
if mapping is not None and mapping.get("condition") != expected:
    raise ValueError(
        f"{mapping_path}: field 'condition' is {mapping.get('condition')!r}, expected {expected!r}"
    )
train_regressor(
    mapping,
    snakemake.params.model,  # noqa: F821
    int(snakemake.params.seed),  # noqa: F821
    snakemake.params.regressor,  # noqa: F821
    snakemake.params.out_dir,  # noqa: F821
    mapping_source=mapping_path or "reference (no mapping)",
)
