"""The autoencoder scenario table: paper scenarios from config, one per condition from its own
mapping JSON (hand-written in tmp_path), the skip rule, the run grid and the null pairs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bridge.autoencoder.model import NeuronParams
from bridge.autoencoder.scenarios import (
    RunKey,
    ScenarioError,
    benchmark_of,
    load_condition_scenario,
    null_pairs,
    paper_scenario_names,
    planned_runs,
    resolve_scenario,
    scenario_comparisons,
    scenario_table,
    sigma_label,
    training_section,
)
from bridge.autoencoder.stage import run_scenario
from bridge.config import ConfigError, deep_merge
from bridge.io import write_json

REPO = Path(__file__).resolve().parents[1]


def section(*overrides: str) -> dict[str, Any]:
    """The autoencoder section of config.yaml merged with the given override files."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name in overrides:
        config = deep_merge(config, yaml.safe_load((REPO / name).read_text()))
    return copy.deepcopy(config["autoencoder"])


def mapping(condition: str, *, usable: bool = True, **values: Any) -> dict[str, Any]:
    """The fields of results/mapping/{condition}.json the autoencoder reads (docs/contracts.md)."""
    record = {
        "condition": condition,
        "status": "ok" if usable else "no_repetitive_firing",
        "use_downstream": usable,
        "downstream_rule": "use beta_fit, bias_fit, beta_syn and alpha_syn when use_downstream",
        "beta_fit": 0.8 if usable else None,
        "alpha_syn": 0.9,
        "beta_syn": 0.8 if usable else None,
        "bias_fit": 0.05 if usable else None,
    }
    record.update(values)
    return record


def write_mappings(folder: Path, records: list[dict[str, Any]]) -> dict[str, Path]:
    paths = {}
    for record in records:
        paths[record["condition"]] = folder / f"{record['condition']}.json"
        write_json(paths[record["condition"]], record)
    return paths


def test_one_scenario_per_condition_from_its_own_mapping(tmp_path: Path) -> None:
    records = [
        mapping("control", beta_fit=0.70, beta_syn=0.70, bias_fit=0.29),
        mapping("intermediate", beta_fit=0.73, beta_syn=0.71, alpha_syn=0.85, bias_fit=0.27),
        mapping("hyper", beta_fit=0.75, beta_syn=0.75, bias_fit=-0.1),
    ]
    table = scenario_table(section("config/quick.yaml"), write_mappings(tmp_path, records))
    names = [s.name for s in table]
    assert names == ["s1_benchmark", "s3_syn_beta", "cond_control", "cond_intermediate",
                     "cond_hyper"]  # fmt: skip
    assert table[1].params == NeuronParams(beta=0.9, alpha=0.9, beta_syn=1e-4, bias=0.0)
    inter = table[3]
    assert inter.kind == "condition" and inter.condition == "intermediate"
    assert inter.params == NeuronParams(beta=0.73, alpha=0.85, beta_syn=0.71, bias=0.27)
    assert inter.source.endswith("intermediate.json") and not inter.skipped
    assert table[4].params.bias == -0.1
    # The full config runs all five paper scenarios.
    assert len(scenario_table(section(), {})) == 5


def test_unusable_mapping_is_skipped_with_its_reason(tmp_path: Path) -> None:
    paths = write_mappings(tmp_path, [mapping("silent", usable=False)])
    scenario = load_condition_scenario(paths["silent"], "silent")
    assert scenario.skipped and scenario.params is None
    assert "no_repetitive_firing" in scenario.skip_reason
    assert "use_downstream is false" in scenario.skip_reason
    # The skipped run writes its files (no NaN, no training) and says why.
    metrics = run_scenario(
        training_section(section("tests/configs/tiny.yaml"), "cond_silent"),
        "cond_silent", 0.2, 7, tmp_path / "run", mapping_path=paths["silent"],
    )  # fmt: skip
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["status"] == metrics["status"] == "skipped"
    assert written["sigma"] == 0.2 and written["seed"] == 7 and written["provenance"]
    assert "test_mse_final" not in written
    with np.load(tmp_path / "run" / "features.npz") as data:
        assert data["status"].item() == "skipped"
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (mapping("a", beta_fit=None), "field 'beta_fit' must be a finite number"),
        ({k: v for k, v in mapping("a").items() if k != "bias_fit"}, "field 'bias_fit' is missing"),
        (mapping("a", beta_fit=1.5), "beta must be a number in [0, 1]"),
        (mapping("a", use_downstream="yes"), "'use_downstream' must be true or false"),
        (mapping("b"), "field 'condition' is 'b', expected 'a'"),
    ],
)
def test_bad_mapping_names_file_and_field(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "a.json"
    write_json(path, record)
    with pytest.raises(ScenarioError, match="a.json") as err:
        load_condition_scenario(path, "a")
    assert message in str(err.value)


def test_nan_in_a_mapping_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(mapping("a", bias_fit=float("nan"))))
    with pytest.raises(ScenarioError, match="'bias_fit' must be a finite number"):
        load_condition_scenario(path, "a")


def test_config_checks() -> None:
    quick = section("config/quick.yaml")
    assert paper_scenario_names(quick) == ["s1_benchmark", "s3_syn_beta"]
    bad = copy.deepcopy(quick)
    bad["run_paper_scenarios"] = ["s3_syn_beta"]
    with pytest.raises(ConfigError, match="'autoencoder.benchmark_scenario'"):
        paper_scenario_names(bad)
    bad = copy.deepcopy(quick)
    bad["paper_scenarios"]["cond_x"] = {"beta": 0.9, "alpha": 0.9, "beta_syn": 0.9}
    with pytest.raises(ConfigError, match="'autoencoder.paper_scenarios.cond_x'.*reserved"):
        paper_scenario_names(bad)
    bad = copy.deepcopy(quick)
    bad["null_seeds"] = [123]
    with pytest.raises(ConfigError, match="'autoencoder.null_seeds': \\[123\\] already in seeds"):
        planned_runs(bad, ["control"])
    bad["null_seeds"] = [7]
    bad["noise"]["sigmas"] = [0.2]
    with pytest.raises(ConfigError, match="'autoencoder.null_seeds': the null runs are noiseless"):
        planned_runs(bad, ["control"])
    with pytest.raises(ScenarioError, match="needs its condition's mapping"):
        resolve_scenario(quick, "cond_control")


def test_sigma_labels_round_trip() -> None:
    for sigma, label in [(0.0, "0"), (0.1, "0.1"), (0.25, "0.25"), (1.0, "1"), (1e-05, "1e-05")]:
        assert sigma_label(sigma) == label
        assert float(label) == sigma
    with pytest.raises(ScenarioError):
        sigma_label(-0.1)


def test_run_grid_and_null_pairs() -> None:
    quick = section("config/quick.yaml")
    # 2 paper scenarios + the frozen-offset benchmark + 2 conditions x 2 offset arms, each
    # x 2 sigmas x 3 seeds; every seed pair is a null comparison at every sigma.
    assert len(planned_runs(quick, ["control", "hyper"])) == 7 * 2 * 3
    assert len(null_pairs(quick)) == 2 * 3
    assert len(scenario_comparisons(quick, ["control", "hyper"])) == 10 * 3
    # One seed: the extra noiseless null-seed benchmark run gives the null.
    quick = {**quick, "seeds": [123], "null_seeds": [999]}
    runs = planned_runs(quick, ["control", "hyper"])
    assert len(runs) == 7 * 2 + 1
    assert runs[-1] == RunKey("s1_benchmark", 0.0, 999)
    assert null_pairs(quick) == [(0.0, 123, 999)]
    compared = scenario_comparisons(quick, ["control", "hyper"])
    arms = {"cond_control", "cond_hyper", "cond_control.frozen", "cond_hyper.frozen"}
    assert {r.scenario for r in compared} == {"s3_syn_beta"} | arms
    assert all(r.seed == 123 for r in compared) and len(compared) == 10
    # frozen arms against the frozen benchmark, trained ones (and the paper's) against s1
    assert benchmark_of(quick, "cond_hyper.frozen") == "s1_benchmark.frozen"
    assert benchmark_of(quick, "cond_hyper") == benchmark_of(quick, "s3_syn_beta") == "s1_benchmark"
    trained_only = {**quick, "condition_offsets": ["trained"]}
    assert len(planned_runs(trained_only, ["control", "hyper"])) == 9
    assert "s1_benchmark.frozen" not in {r.scenario for r in planned_runs(quick, [])}
    full = section()
    # three seeds: every pair at every sigma, no extra runs
    assert len(null_pairs(full)) == 3 * 4
    # ... with the condition's label arm, and every scenario again under per-step noise at
    # the three noisy sigmas
    assert len(planned_runs(full, ["control"])) == (5 + 1 + 2 + 1) * 4 * 3 + (5 + 1 + 2 + 1) * 3 * 3


def test_training_section_leaves_out_what_does_not_change_a_run() -> None:
    quick = section("config/quick.yaml")
    reduced = training_section(quick, "s3_syn_beta")
    assert set(reduced["paper_scenarios"]) == {"s3_syn_beta"}
    assert reduced["noise"] == {"clamp": False}
    for key in ("seeds", "null_seeds", "figures", "run_paper_scenarios", "gpus"):
        assert key not in reduced
    more = copy.deepcopy(quick)
    more["noise"]["sigmas"].append(0.3)
    more["seeds"].append(5)
    assert training_section(more, "s3_syn_beta") == reduced
    assert training_section(quick, "cond_control")["paper_scenarios"] == {}
    # the frozen benchmark reads the benchmark's constants; condition arms the exclusion key
    frozen = training_section(quick, "s1_benchmark.frozen")
    assert frozen["paper_scenarios"] == {"s1_benchmark": quick["paper_scenarios"]["s1_benchmark"]}
    assert "exclude_beta_unidentified" not in frozen
    assert training_section(quick, "cond_control.frozen")["exclude_beta_unidentified"] is False


def test_frozen_arms_resolve_to_their_base_with_frozen_offsets(tmp_path: Path) -> None:
    quick = section("config/quick.yaml")
    paths = write_mappings(tmp_path, [mapping("control", beta_fit=0.7, bias_fit=0.29)])
    frozen = resolve_scenario(quick, "cond_control.frozen", paths["control"])
    trained = resolve_scenario(quick, "cond_control", paths["control"])
    assert (frozen.name, frozen.offsets, trained.offsets) == (
        "cond_control.frozen",
        "frozen",
        "trained",
    )
    assert frozen.params == trained.params and frozen.params.bias == 0.29
    assert frozen.describe()["base_scenario"] == "cond_control"
    bench = resolve_scenario(quick, "s1_benchmark.frozen")
    assert bench.kind == "paper" and bench.offsets == "frozen"
    assert bench.params == resolve_scenario(quick, "s1_benchmark").params


def test_beta_unidentified_mapping_is_marked_or_excluded(tmp_path: Path) -> None:
    records = [
        mapping("flat", status="beta_unidentified"),
        # another status may win, the flag still says beta is not identified
        mapping(
            "blocked",
            status="depolarisation_block",
            status_flags=["beta_unidentified", "depolarisation_block"],
        ),  # fmt: skip
        mapping("fine", status_flags=[]),
    ]
    paths = write_mappings(tmp_path, records)
    quick = section("config/quick.yaml")
    marked = {c: resolve_scenario(quick, f"cond_{c}.frozen", p) for c, p in paths.items()}
    assert {c: s.beta_unidentified for c, s in marked.items()} == {
        "flat": True,
        "blocked": True,
        "fine": False,
    }
    assert not any(s.skipped for s in marked.values())
    assert marked["flat"].describe()["beta_unidentified"] is True
    excluding = {**quick, "exclude_beta_unidentified": True}
    skipped = {c: resolve_scenario(excluding, f"cond_{c}", p) for c, p in paths.items()}
    assert skipped["flat"].skipped and skipped["blocked"].skipped
    assert "autoencoder.exclude_beta_unidentified" in skipped["flat"].skip_reason
    assert not skipped["fine"].skipped and skipped["fine"].params is not None


def test_transient_gate_flags_are_carried_and_exclusion_is_opt_in(tmp_path: Path) -> None:
    """The mapping's autoencoder gate (validation.gates.autoencoder) travels into the run's
    record; only autoencoder.exclude_flagged skips the arm."""
    gates = {"autoencoder": ["transient_mismatch"], "regressor_lif": [], "regressor_mtc": []}
    records = [
        mapping("late", validation={"gates": gates}),
        mapping("fine", validation={"gates": {**gates, "autoencoder": []}}),
    ]
    paths = write_mappings(tmp_path, records)
    quick = section("config/quick.yaml")
    carried = {c: resolve_scenario(quick, f"cond_{c}", p) for c, p in paths.items()}
    assert carried["late"].describe()["validation_flags"] == ["transient_mismatch"]
    assert carried["fine"].describe()["validation_flags"] == []
    assert not any(s.skipped for s in carried.values())
    excluding = {**quick, "exclude_flagged": True}
    late = resolve_scenario(excluding, "cond_late.frozen", paths["late"])
    assert late.skipped and "autoencoder.exclude_flagged" in late.skip_reason
    assert not resolve_scenario(excluding, "cond_fine", paths["fine"]).skipped
    assert training_section(excluding, "cond_late")["exclude_flagged"] is True
    assert "exclude_flagged" not in training_section(excluding, "s1_benchmark")
