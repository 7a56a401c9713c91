from bridge.logs import setup_logging
from bridge.mapping.stage import collect

setup_logging(snakemake.log[0])  # noqa: F821
collect(
    list(snakemake.input.mappings),  # noqa: F821
    snakemake.output.table,  # noqa: F821
    [snakemake.output.fi_png, snakemake.output.fi_svg],  # noqa: F821
    [snakemake.output.curves_png, snakemake.output.curves_svg],  # noqa: F821
    snakemake.output.summary,  # noqa: F821
)
