from script_start import start

start(snakemake)

from bridge.compare.stage import write_figures

write_figures(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gnabar_paths=(snakemake.output.gnabar_png, snakemake.output.gnabar_svg),
    beta_paths=(snakemake.output.beta_png, snakemake.output.beta_svg),
)
