from script_start import start

start(snakemake)

from bridge.autoencoder.stage import run_scenario

run_scenario(
    snakemake.params.autoencoder,
    snakemake.params.scenario,
    snakemake.params.sigma,
    snakemake.params.seed,
    snakemake.params.out_dir,
    mapping_path=snakemake.input.get("mapping"),
    num_threads=snakemake.threads,
)
