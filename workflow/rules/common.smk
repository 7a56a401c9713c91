from pathlib import Path

import pandas as pd
from snakemake.exceptions import WorkflowError

from bridge.autoencoder.data import mnist_files
from bridge.config import load_conditions, validate_config
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import CONDITION_MODELS, MODEL_NAMES

# Config and conditions are checked before any job runs. The library's check comes first: it
# refuses unknown keys at every level (a typo in an override file or a --config key) and
# missing sections, naming each key's dotted path; then Snakemake's validate against the
# schema generated from the same models (bridge/config/, `python -m bridge.config`).
validate_config(config)
validate(config, "../schemas/config.schema.yaml")

# load_conditions reads the table (UTF-8 with or without BOM, LF or CRLF) and rejects
# malformed rows, duplicate names (case-insensitively) and reserved names, naming the line;
# Snakemake's validate then checks the same parsed rows against the schema.
CONDITIONS = {c.name: c for c in load_conditions(config["conditions"])}
validate(
    pd.DataFrame([c.to_dict() for c in CONDITIONS.values()]),
    "../schemas/conditions.schema.yaml",
)
CONDITION_NAMES = list(CONDITIONS)


wildcard_constraints:
    condition="|".join(CONDITION_NAMES),


def hh_outputs():
    per_condition = expand(
        "results/hh/{condition}/{name}",
        condition=CONDITION_NAMES,
        name=["fi_curve.csv", "features.csv", "summary.json", "crosscheck.csv"],
    )
    return per_condition + ["results/hh/figures/hh_overview.png"]


def regressor_run_metrics():
    """metrics.json of every regressor run: condition x per-condition model x seed (mapped,
    frozen), then every model's trained arm per seed (models from bridge.neurons.registry).
    """
    seeds = config["regressor"]["seeds"]
    per_condition = expand(
        "results/regressor/{condition}/{model}/seed{seed}/metrics.json",
        condition=CONDITION_NAMES,
        model=CONDITION_MODELS,
        seed=seeds,
    )
    reference = expand(
        f"results/regressor/{REGRESSOR_REFERENCE_LABEL}/{{model}}/seed{{seed}}/metrics.json",
        model=MODEL_NAMES,
        seed=seeds,
    )
    return per_condition + reference


def regressor_outputs():
    figures = ["mtc_regimes", "predictions", "accuracy_vs_sparsity"]
    return (
        regressor_run_metrics()
        + ["results/regressor/summary/summary.csv"]
        + expand("results/regressor/figures/{name}.png", name=figures)
    )


def mapping_outputs():
    per_condition = expand(
        "results/mapping/{condition}.json", condition=CONDITION_NAMES
    )
    # NIR exports: a folder per condition (lif.nir only for a usable LIF mapping).
    nir_exports = expand("results/mapping/nir/{condition}", condition=CONDITION_NAMES)
    return (
        ["results/mapping/reference.json"]
        + per_condition
        + nir_exports
        + [
            "results/mapping/mappings.csv",
            "results/mapping/summary.json",
            "results/mapping/figures/mapping_fi.png",
            "results/mapping/figures/mapping_curves.png",
        ]
    )


def repo_file(path):
    """A repository data file named in config: a relative path is relative to the repository,
    not to the working folder."""
    return str(path if Path(path).is_absolute() else Path(workflow.basedir) / path)


# Published numbers of the two papers, each with its citations (data/paper_values/).
PAPER_VALUES = {
    stage: repo_file(config[stage]["paper_values"])
    for stage in ("autoencoder", "regressor")
}


# --- autoencoder stage (rules in autoencoder.smk) ---------------------------------------------
from bridge.autoencoder.scenarios import (
    RunKey,
    benchmark_of,
    compared_scenarios,
    label_training_section,
    null_pairs,
    paper_rule_scenarios,
    planned_runs,
    scenario_comparisons,
    training_section,
)

AUTOENCODER = config["autoencoder"]
# Paper scenarios that train, plus the frozen-offset benchmark (<benchmark>.frozen) when a
# frozen condition arm (cond_<condition>.frozen) needs it; each also as
# <name>.<sampling>_<target> per extra noise protocol (autoencoder.noise.protocols).
AE_PAPER_SCENARIOS = paper_rule_scenarios(AUTOENCODER, CONDITION_NAMES)
AE_BENCHMARK = AUTOENCODER["benchmark_scenario"]
AE_COMPARED = compared_scenarios(AUTOENCODER, CONDITION_NAMES)
AE_RUN_DIR = "results/autoencoder/{scenario}/sigma{sigma}/seed{seed}"

# MNIST (autoencoder.data.source mnist_idx): the four IDX files are inputs of every training
# rule. Missing ones are fetched once by the localrule autoencoder_mnist_download, on the
# machine Snakemake runs on (a cluster's login node has network, its compute nodes may not);
# with download false they stop the workflow while the DAG is built, before any job, with a
# message naming the folder. The embedded source reads no files: no inputs, no download rule.
AE_DATA = AUTOENCODER["data"]
AE_MNIST = (
    mnist_files(AE_DATA["mnist_dir"]) if AE_DATA["source"] == "mnist_idx" else None
)


def autoencoder_mnist_inputs(wildcards):
    """The MNIST IDX files a training run reads (none for the embedded source)."""
    if AE_MNIST is None:
        return []
    if AE_MNIST.missing and not AE_DATA["download"]:
        raise WorkflowError(AE_MNIST.missing_message())
    return list(AE_MNIST.inputs)


AE_TRAIN_RESOURCES = dict(
    mem_mb=AUTOENCODER["mem_mb"],
    runtime=AUTOENCODER["runtime_min"],
    gpu=AUTOENCODER["gpus"],
)
AE_FIGURES = [
    "table2",
    "layer_rates",
    "network_rate",
    "layer_rates_conditions",
    "mse_vs_sigma",
    "reconstructions",
]


def autoencoder_run_file(run, name):
    """A file of one run (a bridge.autoencoder.scenarios.RunKey)."""
    folder = AE_RUN_DIR.format(
        scenario=run.scenario, sigma=run.sigma_label, seed=run.seed
    )
    return f"{folder}/{name}"


def autoencoder_run_metrics():
    return [
        autoencoder_run_file(r, "metrics.json")
        for r in planned_runs(AUTOENCODER, CONDITION_NAMES)
    ]


def autoencoder_run_features():
    return [
        autoencoder_run_file(r, "features.npz")
        for r in planned_runs(AUTOENCODER, CONDITION_NAMES)
    ]


def autoencoder_msel_files():
    per_scenario = expand(
        "results/autoencoder/msel/{scenario}.json", scenario=AE_COMPARED
    )
    return per_scenario + ["results/autoencoder/msel/null.json"]


def autoencoder_outputs():
    summary = expand(
        "results/autoencoder/summary/{name}.csv", name=["runs", "table2", "msel"]
    )
    figures = expand("results/autoencoder/figures/{name}.png", name=AE_FIGURES)
    return autoencoder_run_metrics() + autoencoder_msel_files() + summary + figures


def _ae_comparisons(scenario):
    return [
        r
        for r in scenario_comparisons(AUTOENCODER, CONDITION_NAMES)
        if r.scenario == scenario
    ]


def _ae_benchmark_run(run, seed=None):
    """The benchmark run ``run`` is compared with (trained with the same offsets)."""
    reference = benchmark_of(AUTOENCODER, run.scenario)
    return RunKey(reference, run.sigma, run.seed if seed is None else seed)


# --- compare stage (rules in compare.smk) -----------------------------------------------------
from bridge.compare.paths import expected_files
from bridge.config.compare import compare_config_view, compare_settings

COMPARE_CONFIG = compare_config_view(config)
# Checked at parse time: a control that is no condition or a noise level the autoencoder
# does not run stops the workflow before any job, naming the key.
COMPARE_SETTINGS = compare_settings(config, CONDITION_NAMES)
COMPARE_INPUTS = expected_files(COMPARE_SETTINGS, "results")
COMPARE_RESOURCES = dict(mem_mb=2000, runtime=15)
COMPARE_SUB = "All conditions"


def compare_outputs():
    return [
        "results/summary.md",
        "results/compare/claims.csv",
        "results/compare/conditions.csv",
        "results/compare/stats.csv",
        "results/compare/paper_vs_ours_autoencoder.csv",
        "results/compare/paper_vs_ours_regressor.csv",
        "results/compare/figures/dose_response_parameters.png",
        "results/compare/figures/dose_response_beta.png",
    ]
