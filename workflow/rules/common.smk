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
