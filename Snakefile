# Hodgkin-Huxley channelopathies -> spiking-network parameters -> trained SNNs.
# Entry point: `snakemake --cores 8` (full protocol) or add `--configfile config/quick.yaml`.
from snakemake.utils import min_version, validate

min_version("9.20")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/hh.smk"
include: "workflow/rules/mapping.smk"
include: "workflow/rules/regressor.smk"
include: "workflow/rules/autoencoder.smk"


rule all:
    input:
        hh_outputs(),
        mapping_outputs(),
        regressor_outputs(),
        autoencoder_outputs(),
    default_target: True
