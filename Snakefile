# Hodgkin-Huxley channelopathies -> spiking-network parameters -> trained SNNs.
# Entry point: `snakemake --cores 8` (full protocol) or add `--configfile config/quick.yaml`.
from snakemake.utils import min_version, validate

min_version("9.20")


configfile: "config/config.yaml"


# Top page of `snakemake --report results/report.html`.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/hh.smk"
include: "workflow/rules/mapping.smk"
include: "workflow/rules/regressor.smk"
include: "workflow/rules/autoencoder.smk"
include: "workflow/rules/compare.smk"


rule all:
    default_target: True
    input:
        hh_outputs(),
        mapping_outputs(),
        regressor_outputs(),
        autoencoder_outputs(),
        compare_outputs(),
