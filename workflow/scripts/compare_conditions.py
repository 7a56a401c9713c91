from script_start import start

start(snakemake)

from bridge.compare.stage import write_conditions

write_conditions(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gaps_path=snakemake.input.gaps,
    csv_path=snakemake.output.csv,
    md_path=snakemake.output.md,
    html_path=snakemake.output.html,
)
