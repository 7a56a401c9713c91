from script_start import start

start(snakemake)

from hh_models.mechanisms import compile_mechanisms

compile_mechanisms(stamp_path=snakemake.output.stamp)
