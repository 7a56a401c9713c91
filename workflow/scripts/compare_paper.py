from script_start import start

start(snakemake)

from bridge.compare.stage import write_paper_tables

write_paper_tables(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    paper_autoencoder=snakemake.input.paper_autoencoder,
    paper_regressor=snakemake.input.paper_regressor,
    autoencoder_paths=(snakemake.output.ae_csv, snakemake.output.ae_md, snakemake.output.ae_html),
    regressor_paths=(snakemake.output.reg_csv, snakemake.output.reg_md, snakemake.output.reg_html),
)
