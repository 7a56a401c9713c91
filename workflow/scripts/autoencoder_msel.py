import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.autoencoder.comparison import write_comparisons
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_comparisons(
    snakemake.params.kind,
    list(snakemake.input.features),
    list(snakemake.input.reference),
    list(snakemake.params.identities),
    snakemake.output.msel,
)
