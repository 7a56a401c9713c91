import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.compare.stage import write_conditions
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_conditions(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gaps_path=snakemake.input.gaps,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    html_path=snakemake.output.html,
)
