"""The label-mapping arm cond_<condition>.label (autoencoder.label_arm): the paper's
beta = exp(-gnabar) on the same network as the fitted arm, from the conditions table alone."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.autoencoder.scenarios import (
    RunKey,
    ScenarioError,
    benchmark_of,
    label_arms,
    label_training_section,
    planned_runs,
    resolve_scenario,
    scenario_comparisons,
    scenario_order,
    training_section,
)
from bridge.autoencoder.stage import run_scenario
from bridge.compare.paths import label_scenario, scenario_condition
from bridge.config import deep_merge, load_conditions
from bridge.config.autoencoder import arm_name, parse_arm

REPO = Path(__file__).resolve().parents[1]
#: The conditions table's gNa values and the paper's label mapping of each, by hand.
EXPECTED_BETA = {"control": 0.8869, "intermediate": 0.7788, "hyperexcitable": 0.3679}


def section(*overrides: str) -> dict[str, Any]:
    """The autoencoder section of config.yaml merged with the given override files."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name in overrides:
        config = deep_merge(config, yaml.safe_load((REPO / name).read_text()))
    return copy.deepcopy(config["autoencoder"])


def test_label_arm_beta_is_exp_minus_gnabar_of_its_row() -> None:
    full = section()
    rows = load_conditions(REPO / "config" / "conditions.tsv")
    assert [row.name for row in rows] == list(EXPECTED_BETA)
    bench = full["paper_scenarios"][full["benchmark_scenario"]]
    for row in rows:
        arm = resolve_scenario(full, f"cond_{row.name}.label", gnabar=row.gnabar)
        assert arm.params.beta == pytest.approx(math.exp(-row.gnabar), abs=1e-12)
        assert arm.params.beta == pytest.approx(EXPECTED_BETA[row.name], abs=1e-4)
        # the paper's rule for the rest: the benchmark's alpha, beta_syn, no bias
        assert (arm.params.alpha, arm.params.beta_syn) == (bench["alpha"], bench["beta_syn"])
        assert arm.params.bias == 0.0 and arm.offsets == "trained"
        record = arm.describe()
        assert record["beta_source"] == "label" and record["label_gnabar"] == row.gnabar
        assert record["beta"] == arm.params.beta and record["condition"] == row.name
        assert record["mapping_status"] is None
    # the paper's direction: more gNa, smaller beta
    betas = [
        resolve_scenario(full, f"cond_{r.name}.label", gnabar=r.gnabar).params.beta for r in rows
    ]
    assert betas == sorted(betas, reverse=True)


def test_label_arm_needs_its_gnabar_and_nothing_else(tmp_path: Path) -> None:
    full = section()
    with pytest.raises(ScenarioError, match="needs its condition's gnabar"):
        resolve_scenario(full, "cond_control.label")
    with pytest.raises(ScenarioError, match="no mapping file"):
        resolve_scenario(full, "cond_control.label", tmp_path / "control.json", gnabar=0.12)
    with pytest.raises(ScenarioError, match="takes no gnabar"):
        resolve_scenario(full, "s1_benchmark", gnabar=0.12)
    with pytest.raises(ScenarioError, match="conditions table: gnabar of condition 'x'"):
        resolve_scenario(full, "cond_x.label", gnabar=-0.1)
    with pytest.raises(ValueError, match="trained offsets"):
        arm_name("cond_control", "frozen", label=True)
    with pytest.raises(ScenarioError, match="no label arm"):
        label_training_section(full, "cond_control", 0.12)


def test_label_arm_names_params_and_comparisons() -> None:
    full = section()
    arm = parse_arm("cond_control.label.per_step_clean")
    assert (arm.base, arm.label, arm.offsets, arm.protocol) == (
        "cond_control",
        True,
        "trained",
        "per_step_clean",
    )
    assert arm.name == "cond_control.label.per_step_clean"
    assert label_scenario("control") == "cond_control.label"
    assert scenario_condition("cond_control.label") == "control"
    assert benchmark_of(full, "cond_control.label") == "s1_benchmark"
    assert benchmark_of(full, "cond_control.label.per_step_clean") == "s1_benchmark.per_step_clean"
    params = label_training_section(full, "cond_control.label", 0.12)
    assert params["label_gnabar"] == 0.12 and params["benchmark_scenario"] == "s1_benchmark"
    assert params["paper_scenarios"] == {"s1_benchmark": full["paper_scenarios"]["s1_benchmark"]}
    assert "exclude_flagged" not in params
    assert training_section(params, "cond_control.label") == params
    # the workflow's params alone resolve the arm (no gnabar argument)
    assert resolve_scenario(params, "cond_control.label").params.beta == pytest.approx(
        math.exp(-0.12)
    )
    conditions = ["control", "intermediate", "hyperexcitable"]
    assert label_arms(full, conditions) == [f"cond_{c}.label" for c in conditions]
    runs = planned_runs(full, conditions)
    labelled = [r for r in runs if parse_arm(r.scenario).label]
    # 3 conditions x 4 sigmas x 3 seeds, and again per-step at the 3 noisy sigmas
    assert len(labelled) == 3 * 4 * 3 + 3 * 3 * 3
    assert RunKey("cond_hyperexcitable.label", 0.0, 42) in labelled
    compared = {r.scenario for r in scenario_comparisons(full, conditions)}
    assert {"cond_control.label", "cond_control.label.per_step_clean"} <= compared
    order = scenario_order(full, conditions)
    assert order.index("cond_hyperexcitable.frozen") < order.index("cond_control.label")
    quick = section("config/quick.yaml")
    assert label_arms(quick, conditions) == []
    assert not any(parse_arm(r.scenario).label for r in planned_runs(quick, conditions))


def test_a_label_run_trains_and_says_which_beta_it_used(tmp_path: Path) -> None:
    tiny = section("tests/configs/tiny.yaml")
    params = label_training_section(tiny, "cond_hyperexcitable.label", 1.0)
    metrics = run_scenario(params, "cond_hyperexcitable.label", 0.0, 123, tmp_path, num_threads=1)
    assert metrics["status"] == "ok" and metrics["beta_source"] == "label"
    assert metrics["beta"] == metrics["neuron_params"]["beta"] == pytest.approx(math.exp(-1.0))
    assert metrics["neuron_params"]["beta_syn"] == 0.9 and metrics["neuron_params"]["bias"] == 0
    assert metrics["label_gnabar"] == 1.0 and metrics["offsets"] == "trained"
    assert math.isfinite(metrics["test_mse_final"])
