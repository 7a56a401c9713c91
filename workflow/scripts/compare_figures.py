from script_start import start

start(snakemake)

from bridge.compare.stage import write_figures

write_figures(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    parameter_paths=(snakemake.output.parameters_png, snakemake.output.parameters_svg),
    beta_paths=(snakemake.output.beta_png, snakemake.output.beta_svg),
)
