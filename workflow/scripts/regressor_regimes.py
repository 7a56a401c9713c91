from script_start import start

start(snakemake)

import logging

from bridge.regressor.figures import plot_mtc_regimes

counts = plot_mtc_regimes(snakemake.output.png, snakemake.output.svg)
logging.getLogger("regressor_regimes").info("spike counts per preset: %s", counts)
