from script_start import start

start(snakemake)

from pathlib import Path

from bridge.mapping.stage import run_condition

run_condition(
    snakemake.wildcards.condition,
    Path(snakemake.input.summary).parent,
    snakemake.input.reference,
    {"hh": snakemake.params.hh, "mapping": snakemake.params.mapping},
    snakemake.output.mapping,
    validation_figure=[snakemake.output.validation_png, snakemake.output.validation_svg],
)
