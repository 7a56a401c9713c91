from script_start import start

start(snakemake)

from bridge.autoencoder.comparison import write_comparisons

write_comparisons(
    snakemake.params.kind,
    list(snakemake.input.features),
    list(snakemake.input.reference),
    list(snakemake.params.identities),
    snakemake.output.msel,
)
