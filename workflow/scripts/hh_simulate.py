from pathlib import Path

from bridge.hh_stage import run_condition
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821
run_condition(
    snakemake.params.condition,  # noqa: F821
    snakemake.params.hh,  # noqa: F821
    Path(snakemake.output.fi).parent,  # noqa: F821
)
