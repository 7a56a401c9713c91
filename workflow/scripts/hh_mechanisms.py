from bridge.logs import setup_logging
from hh_models.mechanisms import compile_mechanisms

setup_logging(snakemake.log[0])  # noqa: F821
compile_mechanisms(stamp_path=snakemake.output.stamp)  # noqa: F821
