from script_start import start

start(snakemake)

from pathlib import Path

from bridge.mapping.stage import run_reference

run_reference(
    Path(snakemake.input.summary).parent,
    {"hh": snakemake.params.hh, "mapping": snakemake.params.mapping},
    snakemake.output.reference,
)
