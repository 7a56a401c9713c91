from pathlib import Path

from bridge.logs import setup_logging
from bridge.plots.hh_overview import plot_hh_overview

setup_logging(snakemake.log[0])  # noqa: F821
plot_hh_overview(
    [Path(p).parent for p in snakemake.input.summaries],  # noqa: F821
    png=snakemake.output.png,  # noqa: F821
    svg=snakemake.output.svg,  # noqa: F821
)
