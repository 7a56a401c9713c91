from script_start import start

start(snakemake)

from bridge.regressor.stage import write_regressor_summary

write_regressor_summary(
    metrics_paths=list(snakemake.input.metrics),
    condition_order=list(snakemake.params.conditions),
    trace_seed=int(snakemake.params.trace_seed),
    config_section=snakemake.params.regressor,
    table_path=snakemake.output.table,
    predictions_paths=(snakemake.output.predictions_png, snakemake.output.predictions_svg),
    sparsity_paths=(snakemake.output.sparsity_png, snakemake.output.sparsity_svg),
    paper_values_path=snakemake.input.paper_values,
)
