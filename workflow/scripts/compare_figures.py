import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.compare.stage import write_figures
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_figures(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gnabar_paths=(snakemake.output.gnabar_png, snakemake.output.gnabar_svg),
    beta_paths=(snakemake.output.beta_png, snakemake.output.beta_svg),
)
