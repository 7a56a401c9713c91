import sys
from pathlib import Path

# The library comes from this source tree, also inside conda envs and on cluster nodes.
sys.path.insert(0, str(Path(snakemake.scriptdir).parents[1]))

from bridge.compare.stage import write_paper_tables
from bridge.logs import setup_logging

setup_logging(snakemake.log[0])
write_paper_tables(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    paper_autoencoder=snakemake.input.paper_autoencoder,
    paper_regressor=snakemake.input.paper_regressor,
    autoencoder_paths=(snakemake.output.ae_csv, snakemake.output.ae_md, snakemake.output.ae_html),
    regressor_paths=(snakemake.output.reg_csv, snakemake.output.reg_md, snakemake.output.reg_html),
)
