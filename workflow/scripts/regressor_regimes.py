import logging

from bridge.logs import setup_logging
from bridge.regressor.figures import plot_mtc_regimes

setup_logging(snakemake.log[0])  # noqa: F821
counts = plot_mtc_regimes(snakemake.output.png, snakemake.output.svg)  # noqa: F821
logging.getLogger("regressor_regimes").info("spike counts per preset: %s", counts)
