from bridge.logs import setup_logging
from bridge.regressor.stage import write_regressor_summary

setup_logging(snakemake.log[0])  # noqa: F821
write_regressor_summary(
    metrics_paths=list(snakemake.input.metrics),  # noqa: F821
    condition_order=list(snakemake.params.conditions),  # noqa: F821
    trace_seed=int(snakemake.params.trace_seed),  # noqa: F821
    config_section=snakemake.params.regressor,  # noqa: F821
    table_path=snakemake.output.table,  # noqa: F821
    predictions_paths=(snakemake.output.predictions_png, snakemake.output.predictions_svg),  # noqa: F821
    sparsity_paths=(snakemake.output.sparsity_png, snakemake.output.sparsity_svg),  # noqa: F821
    paper_values_path=snakemake.input.paper_values,  # noqa: F821
)
