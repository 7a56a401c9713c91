import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.hh.stage import run_condition
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
run_condition(
    snakemake.params.condition,
    snakemake.params.hh,
    Path(snakemake.output.fi).parent,
)
