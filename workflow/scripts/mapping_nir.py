from script_start import start

start(snakemake)

from bridge.mapping.nir_export import export_mapping_nir

export_mapping_nir(snakemake.input.mapping, snakemake.output.nir, snakemake.wildcards.condition)
