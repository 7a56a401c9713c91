import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.hh.figures import plot_hh_overview
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
plot_hh_overview(
    [Path(p).parent for p in snakemake.input.summaries],
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
