import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.autoencoder.stage import run_scenario
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
run_scenario(
    snakemake.params.autoencoder,
    snakemake.params.scenario,
    snakemake.params.sigma,
    snakemake.params.seed,
    snakemake.params.out_dir,
    mapping_path=snakemake.input.get("mapping"),
    num_threads=snakemake.threads,
)
