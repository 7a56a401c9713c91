from pathlib import Path

from bridge.logs import setup_logging
from bridge.mapping.stage import run_condition

setup_logging(snakemake.log[0])  # noqa: F821
run_condition(
    snakemake.wildcards.condition,  # noqa: F821
    Path(snakemake.input.summary).parent,  # noqa: F821
    snakemake.input.reference,  # noqa: F821
    {"hh": snakemake.params.hh, "mapping": snakemake.params.mapping},  # noqa: F821
    snakemake.output.mapping,  # noqa: F821
)
