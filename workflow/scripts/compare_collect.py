import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.compare.stage import collect
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
collect(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    results_dir=snakemake.params.results_dir,
    runs_path=snakemake.output.runs,
    gaps_path=snakemake.output.gaps,
)
