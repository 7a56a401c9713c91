from script_start import start

start(snakemake)

from bridge.hh.crosscheck import run_crosscheck

run_crosscheck(
    snakemake.params.condition,
    snakemake.params.hh,
    neuron_fi_csv=snakemake.input.fi,
    out_csv=snakemake.output.crosscheck,
)
