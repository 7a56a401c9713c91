# Config and conditions are checked before any job runs. The library's check comes first
from pathlib import Path

# because its messages name file, line and column; Snakemake's schema check follows.
import pandas as pd

from bridge.config import load_conditions, validate_config

validate_config(config)
validate(config, "../schemas/config.schema.yaml")

CONDITIONS = {c.name: c for c in load_conditions(config["conditions"])}
validate(
    pd.read_csv(config["conditions"], sep="\t", dtype={"name": str, "description": str}),
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


# The regressor stage writes the AdLIF reference under this name, so no condition may use it.
REGRESSOR_REFERENCE_LABEL = "reference"
if REGRESSOR_REFERENCE_LABEL in CONDITIONS:
    raise ValueError(
        f"{config['conditions']}: a condition may not be named '{REGRESSOR_REFERENCE_LABEL}' "
        "(the regressor stage writes its AdLIF reference under results/regressor/reference/)"
    )


def regressor_run_metrics():
    """metrics.json of every regressor run: condition x {mtc, lif} x seed, AdLIF per seed."""
    seeds = config["regressor"]["seeds"]
    per_condition = expand(
        "results/regressor/{condition}/{model}/seed{seed}/metrics.json",
        condition=CONDITION_NAMES,
        model=["mtc", "lif"],
        seed=seeds,
    )
    reference = expand("results/regressor/reference/adlif/seed{seed}/metrics.json", seed=seeds)
    return per_condition + reference


def regressor_outputs():
    figures = ["mtc_regimes", "predictions", "accuracy_vs_sparsity"]
    return (
        regressor_run_metrics()
        + ["results/regressor/summary/summary.csv"]
        + expand("results/regressor/figures/{name}.png", name=figures)
    )


def mapping_outputs():
    per_condition = expand("results/mapping/{condition}.json", condition=CONDITION_NAMES)
    return (
        ["results/mapping/reference.json"]
        + per_condition
        + [
            "results/mapping/mappings.csv",
            "results/mapping/summary.json",
            "results/mapping/figures/mapping_fi.png",
            "results/mapping/figures/mapping_curves.png",
        ]
    )
