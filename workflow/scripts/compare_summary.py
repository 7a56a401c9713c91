from script_start import start

start(snakemake)

from bridge.compare.stage import write_summary

write_summary(
    config=snakemake.params.compare,
    conditions=list(snakemake.params.conditions),
    runs_path=snakemake.input.runs,
    gaps_path=snakemake.input.gaps,
    paper_autoencoder=snakemake.input.paper_autoencoder,
    paper_regressor=snakemake.input.paper_regressor,
    claims_path=snakemake.output.claims,
    summary_path=snakemake.output.summary,
    summary_html_path=snakemake.output.html,
)
