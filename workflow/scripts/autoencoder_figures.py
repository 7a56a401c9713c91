from script_start import start

start(snakemake)

from bridge.autoencoder.figures import write_autoencoder_figures

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
