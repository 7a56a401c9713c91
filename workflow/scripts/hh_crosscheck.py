from bridge.crosscheck import run_crosscheck
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])  # noqa: F821
run_crosscheck(
    snakemake.params.condition,  # noqa: F821
    snakemake.params.hh,  # noqa: F821
    neuron_fi_csv=snakemake.input.fi,  # noqa: F821
    out_csv=snakemake.output.crosscheck,  # noqa: F821
)
