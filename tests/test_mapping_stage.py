"""Mapping stage on real (tiny-protocol) HH outputs: the contract, hard cases, determinism.

The HH stage runs NEURON for three conditions: control (silent at rest, blocks at the top
of the tiny grid), hyperexcitable (fires at rest) and gnabar 0 (never fires). The gnabar-0
cell runs on the whole tiny grid: from ~80 uA/cm2 its passive response crosses the -20 mV
threshold, which without a regenerative upstroke (hh.spike_min_ionic_dvdt_mV_ms) is no spike.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import snntorch
import torch
from scipy.optimize import linear_sum_assignment

from bridge.config import Condition, load_config
from bridge.contracts import VALIDATION_HEADLINE_KEYS, MappingInputError
from bridge.hh.stage import run_condition as run_hh
from bridge.mapping.stage import collect, run_condition, run_reference
from bridge.neurons.mtc import MTCParams

CONDITIONS = (
    Condition("control", 0.12, 0.036, 0.0003),
    Condition("hyperexcitable", 1.0, 0.036, 0.0003),
    Condition("nona", 0.0, 0.036, 0.0003, description="no sodium: never fires"),
)
#: docs/contracts.md, mapping stage: keys of results/mapping/{condition}.json
CONDITION_KEYS = (
    "condition", "gnabar", "status", "use_downstream", "downstream_rule", "dt_ms",
    "mtc_time_unit_ms", "beta_analytic", "beta_analytic_label", "beta_membrane", "beta_fit",
    "tau_fit_ms", "bias_fit", "w_per_nA", "alpha_syn", "alpha_source", "beta_syn",
    "objective", "converged", "intervals", "tradeoff", "residuals", "mtc", "provenance",
)  # fmt: skip
MTC_REPORT_KEYS = ("objective", "converged", "status", "intervals", "residuals")


def _no_nan(token: str) -> None:
    raise AssertionError(f"non-finite JSON value {token}")


def load(path: Path) -> dict:
    return json.loads(path.read_text(), parse_constant=_no_nan)


@pytest.fixture(scope="module")
def config(repo_root: Path) -> dict:
    return load_config(
        [repo_root / "config" / "config.yaml", repo_root / "tests/configs/tiny.yaml"]
    )


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, config: dict) -> Path:
    root = tmp_path_factory.mktemp("mapping")
    for condition in CONDITIONS:
        run_hh(condition, config["hh"], root / "hh" / condition.name)
    run_reference(root / "hh" / "control", config, root / "mapping" / "reference.json")
    for condition in CONDITIONS:
        run_condition(
            condition,
            root / "hh" / condition.name,
            root / "mapping" / "reference.json",
            config,
            root / "mapping" / f"{condition.name}.json",
            validation_figure=[root / "mapping" / "figures" / f"validation_{condition.name}.png"],
        )
    return root


def test_reference_json_holds_the_fixed_gains(stage: Path) -> None:
    ref = load(stage / "mapping" / "reference.json")
    assert ref["reference_condition"] == "control"
    assert ref["lif"]["w_per_nA"] > 0 and ref["lif"]["status"]
    for key in ("input_scale", "input_offset", "a_slow_pos", "status", "objective"):
        assert key in ref["mtc"], key
    assert ref["mtc"]["input_scale"] > 0
    assert ref["provenance"]["config_hash"] and ref["provenance"]["git_commit"]


def test_every_condition_json_has_the_contract(stage: Path, config: dict) -> None:
    ref = load(stage / "mapping" / "reference.json")
    for condition in CONDITIONS:
        d = load(stage / "mapping" / f"{condition.name}.json")
        for key in CONDITION_KEYS:
            assert key in d, (condition.name, key)
        assert d["condition"] == condition.name and d["gnabar"] == condition.gnabar
        assert d["dt_ms"] == config["mapping"]["dt_ms"]
        assert d["mtc_time_unit_ms"] == config["mapping"]["mtc_time_unit_ms"]
        assert d["alpha_source"] == "fixed" and d["beta_syn"] == d["beta_fit"]
        assert d["w_per_nA"] == ref["lif"]["w_per_nA"]
        mtc = d["mtc"]
        for name in MTCParams.__dataclass_fields__:
            assert isinstance(mtc[name], float), (condition.name, name)
        for key in MTC_REPORT_KEYS:
            assert key in mtc, (condition.name, key)
        # the reference's input map and slow gain, held fixed
        for key in ("input_scale", "input_offset", "a_slow_pos"):
            assert mtc[key] == ref["mtc"][key]
        assert mtc["dt"] == config["mapping"]["mtc"]["dt"]
        if d["beta_membrane"] is None:
            assert d["beta_membrane_detail"]["reason"]


def test_statuses_follow_the_hh_cell(stage: Path) -> None:
    control = load(stage / "mapping" / "control.json")
    hyper = load(stage / "mapping" / "hyperexcitable.json")
    nona = load(stage / "mapping" / "nona.json")
    assert control["hh"]["spontaneous"] is False and hyper["hh"]["spontaneous"] is True
    assert "spontaneous" in hyper["status_flags"] and "spontaneous" in hyper["mtc"]["status_flags"]
    # gnabar 0: complete JSON, both mappings skipped downstream, by the documented rule
    assert nona["status"] == "never_fires" and not nona["use_downstream"]
    assert nona["mtc"]["status"] == "never_fires" and not nona["mtc"]["use_downstream"]
    assert (
        "never_fires" in nona["downstream_rule"] and "never_fires" in nona["mtc"]["downstream_rule"]
    )
    assert max(nona["mtc"]["residuals"]["rate_mtc_hz"]) == 0.0
    assert nona["beta_analytic"] == 1.0  # exp(-0)


def test_condition_json_is_deterministic(stage: Path, config: dict, tmp_path: Path) -> None:
    again = tmp_path / "control.json"
    run_condition(
        "control", stage / "hh" / "control", stage / "mapping" / "reference.json", config, again
    )
    assert again.read_bytes() == (stage / "mapping" / "control.json").read_bytes()


def test_collect_writes_table_summary_and_figures(stage: Path) -> None:
    out = stage / "mapping"
    jsons = [out / f"{c.name}.json" for c in CONDITIONS]
    figs = out / "figures"
    collect(
        jsons, out / "mappings.csv", [figs / "fi.png"], [figs / "curves.png"], out / "summary.json"
    )
    table = pd.read_csv(out / "mappings.csv", keep_default_na=False)
    assert list(table["condition"]) == [c.name for c in CONDITIONS]
    assert "nan" not in (out / "mappings.csv").read_text().lower()
    for column in ("beta_fit", "bias_fit", "a_fast", "i_bias", "lif_status", "mtc_status",
                   "beta_trend_same_direction", "lif_objective", "mtc_objective"):  # fmt: skip
        assert column in table.columns, column
    nona = table.set_index("condition").loc["nona"]
    assert not nona["lif_use_downstream"] and not nona["mtc_use_downstream"]
    summary = load(out / "summary.json")
    # the trend needs two usable conditions: control and hyperexcitable
    assert summary["beta_trend"]["n_conditions_used"] == 2, summary["beta_trend"]["skipped"]
    # the coarse tiny-grid fit is poor (tests/configs/tiny.yaml uses it anyway): flagged
    hyper = load(out / "hyperexcitable.json")
    assert "poor_fit" in hyper["status_flags"] and hyper["use_downstream"]
    assert hyper["objective_per_point"] > 25.0
    assert summary["beta_trend"]["skipped"] == {"nona": "never_fires"}
    sidecar = load(out / "mappings.provenance.json")
    assert sidecar["table"] == "mappings.csv" and sidecar["config_hash"]
    for name in ("fi.png", "curves.png"):
        assert (figs / name).stat().st_size > 20_000


def test_bad_inputs_fail_early_naming_the_file(stage: Path, config: dict, tmp_path: Path) -> None:
    ref = stage / "mapping" / "reference.json"
    with pytest.raises(MappingInputError, match="summary.json: key 'condition' is 'control'"):
        run_condition("hyperexcitable", stage / "hh" / "control", ref, config, tmp_path / "x.json")
    with pytest.raises(MappingInputError, match="fi_curve.csv: missing"):
        run_condition("control", tmp_path, ref, config, tmp_path / "x.json")
    changed = json.loads(json.dumps(config))
    changed["mapping"]["alpha_syn"] = 0.5
    with pytest.raises(MappingInputError, match="config_hash.*rerun the reference"):
        run_condition("control", stage / "hh" / "control", ref, changed, tmp_path / "x.json")
    broken = tmp_path / "reference.json"
    shutil.copy(ref, broken)
    payload = json.loads(broken.read_text())
    payload["lif"]["w_per_nA"] = -1.0
    broken.write_text(json.dumps(payload))
    with pytest.raises(MappingInputError, match="lif.w_per_nA"):
        run_condition("control", stage / "hh" / "control", broken, config, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def _max_matching(data: np.ndarray, model: np.ndarray, window_ms: float) -> int:
    """Maximum one-to-one matching within +-window by the assignment problem (independent
    of the greedy sweep in bridge.mapping.validation)."""
    if data.size == 0 or model.size == 0:
        return 0
    cost = (np.abs(data[:, None] - model[None, :]) > window_ms).astype(float)
    rows, cols = linear_sum_assignment(cost)
    return int((cost[rows, cols] == 0).sum())


def test_heldout_gamma_of_the_lif_matches_an_independent_simulation(
    stage: Path, config: dict
) -> None:
    """The control LIF's held-out scores, recomputed with snntorch.Leaky, an assignment-based
    matching and the coincidence-factor formula written out here."""
    record = load(stage / "mapping" / "control.json")
    validation = record["validation"]
    assert set(validation["headline"]) == set(VALIDATION_HEADLINE_KEYS)
    assert (stage / "mapping" / "figures" / "validation_control.png").stat().st_size > 20_000
    npz = np.load(stage / "hh" / "control" / "validation.npz")
    held = np.flatnonzero(npz["segment_set"] == 1)
    warmup, seg_ms = float(npz["warmup_ms"]), float(npz["segment_ms"])
    per_step = round(record["dt_ms"] / float(npz["dt_ms"]))
    current_nA = npz["current_uA_cm2"].astype(float) * float(npz["nA_per_uA_cm2"])
    beta, bias, w = record["beta_fit"], record["bias_fit"], record["w_per_nA"]
    leaky = snntorch.Leaky(beta=beta, threshold=1.0, reset_mechanism="subtract")
    settle = round(config["mapping"]["validation"]["model_settle_ms"] / record["dt_ms"])
    levels = validation["lif"]["levels"]
    assert len(levels) == len(config["hh"]["validation"]["levels_uA_cm2"])
    for entry in levels:
        rows = held[npz["segment_level"][held] == entry["level"]]
        n_hh = n_model = 0
        coinc = {w_ms: 0 for w_ms in config["mapping"]["validation"]["windows_ms"]}
        for row in rows:
            x = current_nA[row, :-1].reshape(-1, per_step).mean(axis=1) * w + bias
            mem = torch.zeros(1, dtype=torch.float64)
            for _ in range(settle):
                _, mem = leaky(torch.tensor([bias], dtype=torch.float64), mem)
            times = []
            for k, x_k in enumerate(x):
                before = float(mem)
                spk, mem = leaky(torch.tensor([x_k], dtype=torch.float64), mem)
                if spk.item():
                    rise = float(mem) - before
                    times.append((k + min(max((1.0 - before) / rise, 0.0), 1.0)) * record["dt_ms"])
            model = np.array([t for t in times if t >= warmup])
            hh = npz["spike_times_ms"][npz["spike_segment"] == row]
            hh = np.sort(hh[hh >= warmup])
            n_hh += hh.size
            n_model += model.size
            for w_ms in coinc:
                coinc[w_ms] += _max_matching(hh, model, w_ms)
        assert entry["n_hh"] == n_hh and entry["n_model"] == n_model
        duration = rows.size * (seg_ms - warmup)
        for w_ms, n_coinc in coinc.items():
            chance = 2 * n_model / duration * w_ms
            got = entry["gamma"][f"{w_ms:g}"]
            if (
                n_hh + n_model == 0
                or chance > config["mapping"]["validation"]["max_chance_coincidence"]
            ):
                assert got is None
            else:
                expected = (n_coinc - chance * n_hh) / (0.5 * (n_hh + n_model)) / (1 - chance)
                assert got == pytest.approx(expected, abs=1e-12)
    assert n_hh > 0  # the top level fires: the comparison is not vacuous


def test_a_new_heldout_seed_leaves_the_fits_bit_identical(
    stage: Path, config: dict, tmp_path: Path
) -> None:
    changed = copy.deepcopy(config)
    changed["hh"]["validation"]["heldout_seed"] += 11
    run_hh(CONDITIONS[0], changed["hh"], tmp_path / "hh" / "control")
    run_reference(tmp_path / "hh" / "control", changed, tmp_path / "reference.json")
    run_condition(
        "control",
        tmp_path / "hh" / "control",
        tmp_path / "reference.json",
        changed,
        tmp_path / "control.json",
    )
    old, new = load(stage / "mapping" / "control.json"), load(tmp_path / "control.json")
    for key in ("beta_fit", "bias_fit", "tau_fit_ms", "w_per_nA", "objective", "intervals"):
        assert new[key] == old[key], key
    for key in ("a_fast", "i_bias", "input_scale", "input_offset", "objective", "intervals"):
        assert new["mtc"][key] == old["mtc"][key], key
    fit_a = old["validation"]["lif_timing_fit"]
    fit_b = new["validation"]["lif_timing_fit"]
    assert (fit_a["tau_ms"], fit_a["w_per_nA"], fit_a["fit_score"]) == (
        fit_b["tau_ms"],
        fit_b["w_per_nA"],
        fit_b["fit_score"],
    )
    # ... while the held-out judgement did change (other segments)
    assert old["validation"]["lif"]["levels"] != new["validation"]["lif"]["levels"]


def test_a_cell_without_sodium_trains_nothing_downstream(stage: Path, config: dict) -> None:
    """gnabar 0 from NEURON to the networks: never_fires, and both network stages skip it."""
    from bridge.autoencoder.scenarios import load_condition_scenario
    from bridge.config.regressor import RegressorRunConfig
    from bridge.regressor.neuron_setup import neuron_setup

    hh = load(stage / "hh" / "nona" / "summary.json")
    assert hh["excitability"] == "never_fires" and hh["rheobase_single_uA_cm2"] is None
    assert max(config["hh"]["steps"]["amp_segments_uA_cm2"][-1][:2]) >= 80.0  # passive range
    path = stage / "mapping" / "nona.json"
    for offsets in ("trained", "frozen"):
        scenario = load_condition_scenario(path, "nona", offsets=offsets)
        assert scenario.skipped and "never_fires" in scenario.skip_reason
    settings = RegressorRunConfig.from_config(
        {k: v for k, v in config["regressor"].items() if k != "paper_values"}, "regressor"
    )
    for model in ("lif", "mtc"):
        setup = neuron_setup(model, load(path), settings, str(path))
        assert setup.spec is None and "never_fires" in setup.skip_reason
    assert load(path)["validation"]["headline"]["lif_gamma"] is None  # no fitted LIF
