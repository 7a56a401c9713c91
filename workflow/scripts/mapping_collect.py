from script_start import start

start(snakemake)

from bridge.mapping.stage import collect

collect(
    list(snakemake.input.mappings),
    snakemake.output.table,
    [snakemake.output.fi_png, snakemake.output.fi_svg],
    [snakemake.output.curves_png, snakemake.output.curves_svg],
    snakemake.output.summary,
)
