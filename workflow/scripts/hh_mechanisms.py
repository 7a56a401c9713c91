import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.logs import setup_logging
from hh_models.mechanisms import compile_mechanisms

setup_logging(snakemake.log[0])
compile_mechanisms(stamp_path=snakemake.output.stamp)
