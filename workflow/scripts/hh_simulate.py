from script_start import start

start(snakemake)

from pathlib import Path

from bridge.hh.stage import run_condition

run_condition(
    snakemake.params.condition,
    snakemake.params.hh,
    Path(snakemake.output.fi).parent,
)
