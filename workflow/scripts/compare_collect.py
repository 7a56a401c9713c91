from script_start import start

start(snakemake)

from bridge.compare.stage import collect

collect(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    results_dir=snakemake.params.results_dir,
    runs_path=snakemake.output.runs,
    gaps_path=snakemake.output.gaps,
)
