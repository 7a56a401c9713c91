from script_start import start

start(snakemake)

from bridge.autoencoder.summary import write_autoencoder_summary

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
