from script_start import start

start(snakemake)

from pathlib import Path

from bridge.hh.figures import plot_hh_overview

plot_hh_overview(
    [Path(p).parent for p in snakemake.input.summaries],
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
