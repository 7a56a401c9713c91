import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.compare.stage import write_summary
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_summary(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gaps_path=snakemake.input.gaps,
    paper_autoencoder=snakemake.input.paper_autoencoder,
    paper_regressor=snakemake.input.paper_regressor,
    claims_path=snakemake.output.claims,
    summary_path=snakemake.output.summary,
    summary_html_path=snakemake.output.html,
)
