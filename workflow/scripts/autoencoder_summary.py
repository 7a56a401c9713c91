import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.autoencoder.summary import write_autoencoder_summary
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_autoencoder_summary(
    metrics_paths=list(snakemake.input.metrics),
    msel_paths=list(snakemake.input.msel),
    paper_values_path=snakemake.input.paper_values,
    section=snakemake.params.autoencoder,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.output.runs,
    table2_path=snakemake.output.table2,
    msel_path=snakemake.output.msel,
)
