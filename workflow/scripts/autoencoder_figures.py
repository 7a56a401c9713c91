import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.autoencoder.figures import write_autoencoder_figures
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_autoencoder_figures(
    metrics_paths=list(snakemake.input.metrics),
    table2_path=snakemake.input.table2,
    paper_values_path=snakemake.input.paper_values,
    section=snakemake.params.autoencoder,
    conditions=list(snakemake.params.conditions),
    outputs={
        name: (snakemake.output[f"{name}_png"], snakemake.output[f"{name}_svg"])
        for name in snakemake.params.names
    },
)
