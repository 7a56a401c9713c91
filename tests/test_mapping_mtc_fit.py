"""MTC fit: parameter recovery, trade-offs, hard cases, determinism.

f-I tables come from an MTC neuron with known gains, input scale and offset, written in the
HH contract format (``synthetic_tables``). The protocol is short (50 ms rest, 400 ms steps) and
coarse (time unit 0.2 ms, Euler step 1 unit) so that the file runs in about a minute; the
fit is the production code with smaller grids. Determinism is checked on real HH data in
test_mapping_stage.py.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from bridge.config import MappingConfig, load_config
from bridge.io import to_jsonable
from bridge.mapping.mtc import (
    MTC_STATUS_ORDER,
    MTC_USABLE_STATUSES,
    MtcInputMap,
    fit_mtc_condition,
    fit_mtc_reference,
    mtc_onset_current,
)
from bridge.mapping.objective import StepWindow
from bridge.mapping.synthetic_tables import mtc_fi_table
from bridge.neurons.mtc import MTC_PRESETS, MTCParams, mtc_rest_is_stable, mtc_rest_state

UNIT_MS = 0.2
DT = 1.0
WINDOW = StepWindow(delay_ms=50.0, duration_ms=400.0, spontaneous_ms=400.0)
AMPS_UA_CM2 = np.arange(-4.0, 30.001, 2.0)
#: hard cases and determinism need no resolution: a short protocol on a coarse grid
SHORT = StepWindow(delay_ms=20.0, duration_ms=100.0, spontaneous_ms=100.0)
SHORT_AMPS = np.arange(-4.0, 30.001, 6.8)
REL_TOL = 0.02
BASE = MTC_PRESETS["tonic"].replace(dt=DT)
#: the reference's truth: preset a_fast and i_bias (the gauge), a known slow gain and input map
REF_SLOW, REF_SCALE, REF_ONSET_UA = 4.0, 70.0, 8.0


@pytest.fixture(scope="module")
def mapping_dict(repo_root):
    cfg = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"])["mapping"])
    cfg["mtc_time_unit_ms"] = UNIT_MS
    cfg["mtc"]["dt"] = DT
    cfg["mtc"]["grid"].update(
        a_fast_points=7, a_slow_pos_points=5, input_scale_points=5, onset_points=3
    )
    cfg["mtc"]["search"]["n_starts"] = 1
    return cfg


@pytest.fixture(scope="module")
def mapping_cfg(mapping_dict):
    return MappingConfig.from_config(mapping_dict, "mapping")


@pytest.fixture(scope="module")
def coarse_cfg(mapping_dict):
    """Hard cases test completeness and statuses, not accuracy: a coarse, cheap search."""
    cfg = copy.deepcopy(mapping_dict)
    cfg["mtc"]["grid"].update(a_fast_points=4, onset_points=2)
    cfg["mtc"]["search"]["resolution"].update(a_fast=0.05, onset_spacings=0.5)
    cfg["mtc"]["profile"]["edge_bisections"] = 1
    return MappingConfig.from_config(cfg, "mapping")


def onset_current(a_fast: float, a_slow: float) -> float:
    values = {"a_fast": np.array([a_fast]), "a_slow_pos": np.array([a_slow])}
    return float(mtc_onset_current(BASE, values)[0])


def reference_truth() -> MTCParams:
    """Offset chosen so that the rest state loses stability at REF_ONSET_UA."""
    offset = onset_current(-2.0, REF_SLOW) + 1.0 - REF_SCALE * REF_ONSET_UA * 1e-3
    return BASE.replace(a_slow_pos=REF_SLOW, input_scale=REF_SCALE, input_offset=offset)


def condition_truth(a_fast: float, onset_uA: float) -> MTCParams:
    ref = reference_truth()
    i_bias = onset_current(a_fast, REF_SLOW) - ref.input_offset - REF_SCALE * onset_uA * 1e-3
    return ref.replace(a_fast=a_fast, i_bias=i_bias)


def truth_map() -> MtcInputMap:
    ref = reference_truth()
    return MtcInputMap(REF_SCALE, float(ref.input_offset), REF_SLOW, -2.0, -1.0, "truth")


def table(
    params: MTCParams,
    condition: str = "synthetic",
    amps: np.ndarray = AMPS_UA_CM2,
    window: StepWindow = WINDOW,
):
    return mtc_fi_table(params, amps, window, UNIT_MS, condition=condition)


def within(value: float, bounds: list[float]) -> bool:
    lo, hi = sorted(bounds)
    return lo - 1e-9 * abs(lo) - 1e-12 <= value <= hi + 1e-9 * abs(hi) + 1e-12


def assert_complete(d: dict) -> None:
    """Every MTCParams field and report field present, finite; no NaN anywhere."""
    text = json.dumps(to_jsonable(d), allow_nan=False, sort_keys=True)
    assert "NaN" not in text and "Infinity" not in text
    for name in MTCParams.__dataclass_fields__:
        assert isinstance(d[name], float) and math.isfinite(d[name]), name
    for key in ("objective", "converged", "status", "intervals", "residuals", "time_unit_ms"):
        assert key in d, key
    assert d["status"] in MTC_STATUS_ORDER
    assert d["use_downstream"] == (d["status"] in MTC_USABLE_STATUSES)
    assert d["time_unit_ms"] == UNIT_MS and d["dt"] == DT
    n = len(d["residuals"]["amp_nA"])
    for key in ("rate_hh_hz", "rate_mtc_hz", "rate_residual_hz", "latency_residual_ms"):
        assert len(d["residuals"][key]) == n


def curve_matches(d: dict) -> bool:
    """MTC rates within 2 % of the curve's largest rate at every fitted amplitude."""
    res = d["residuals"]
    fit = np.asarray(res["in_fit"])
    hh = np.asarray(res["rate_hh_hz"])[fit]
    mtc = np.asarray(res["rate_mtc_hz"])[fit]
    spont_ok = abs(res["spontaneous_residual_hz"]) <= REL_TOL * max(hh.max(), 1.0)
    return bool(np.all(np.abs(mtc - hh) <= REL_TOL * hh.max()) and spont_ok)


def test_onset_current_is_where_the_rest_state_turns_unstable():
    """Tonic preset: the band starts near I_app -0.87 (module docs: about -0.85)."""
    i_on = onset_current(-2.0, 2.0)
    assert -0.9 < i_on < -0.8
    for shift, stable in ((-0.01, True), (0.01, False)):
        params = BASE.replace(i_bias=i_on + shift)
        state = mtc_rest_state(params, (1,), 0.0)
        assert bool(mtc_rest_is_stable(state.v_slow, params)[0]) is stable


@pytest.fixture(scope="module")
def reference(mapping_cfg):
    fi, summary = table(reference_truth(), condition="control")
    return fit_mtc_reference(fi, summary, mapping_cfg, window=WINDOW).to_dict()


def test_reference_recovers_input_scale_and_reports_the_tradeoff(reference):
    d = reference
    truth = reference_truth()
    assert_complete(d)
    assert d["status"] == "ok" and d["converged"] and d["fit"] == "reference"
    assert d["a_fast"] == -2.0 and d["i_bias"] == -1.0  # the gauge
    assert d["input_scale"] == pytest.approx(REF_SCALE, rel=REL_TOL)
    assert d["a_slow_pos"] == pytest.approx(REF_SLOW, rel=REL_TOL)
    # slow gain and offset trade off along the discrete counts: the region holds the truth
    iv = d["intervals"]
    assert within(REF_SCALE, iv["input_scale"])
    assert within(REF_SLOW, iv["a_slow_pos"])
    assert within(float(truth.input_offset), iv["input_offset"])
    assert d["objective"] < 1.0
    assert curve_matches(d)


def test_condition_recovers_fast_gain_and_drive(mapping_cfg):
    a_fast = -2.5
    truth = condition_truth(a_fast, 6.0)
    fi, summary = table(truth, condition="mild")
    d = fit_mtc_condition(fi, summary, mapping_cfg, truth_map(), window=WINDOW).to_dict()
    assert_complete(d)
    assert d["status"] == "ok" and d["converged"]
    assert d["a_fast"] == pytest.approx(a_fast, rel=REL_TOL)
    # i_bias is identified to the data's resolution: less than one amplitude step of input
    spacing_nA = float(np.diff(AMPS_UA_CM2)[0]) * 1e-3
    assert abs(d["i_bias"] - float(truth.i_bias)) < REF_SCALE * spacing_nA
    assert within(a_fast, d["intervals"]["a_fast"])
    assert within(float(truth.i_bias), d["intervals"]["i_bias"])
    assert d["intervals"]["a_fast_ratio"] <= mapping_cfg.mtc.profile.max_gain_ratio
    # input map and slow gain are the reference's, not refitted
    assert d["input_scale"] == REF_SCALE and d["a_slow_pos"] == REF_SLOW
    assert d["free_parameters"] == ["a_fast", "i_bias"]
    assert curve_matches(d)
    prof = d["tradeoff"]["profile"]
    assert len(prof["a_fast"]) == len(prof["objective"]) == len(prof["i_bias"])


def test_spontaneous_condition_recovers_fast_gain(mapping_cfg):
    """Fires at rest (onset below zero input): no latencies, rates + rest rate identify it."""
    truth = condition_truth(-2.7, -3.0)
    fi, summary = table(truth, condition="hyper")
    assert summary["spontaneous"]
    d = fit_mtc_condition(fi, summary, mapping_cfg, truth_map(), window=WINDOW).to_dict()
    assert_complete(d)
    assert d["fit_data"]["n_latency_points"] == 0
    assert d["status"] == "ok" and "spontaneous" in d["status_flags"]
    assert "rest_state_mismatch" not in d["status_flags"]
    assert d["a_fast"] == pytest.approx(-2.7, rel=REL_TOL)
    assert within(-2.7, d["intervals"]["a_fast"])
    assert within(float(truth.i_bias), d["intervals"]["i_bias"])
    assert curve_matches(d)


def test_never_fires_is_complete_and_skipped(coarse_cfg):
    """Onset far above the grid: silent everywhere; a_fast is unconstrained."""
    fi, summary = table(condition_truth(-2.0, 500.0), amps=SHORT_AMPS, window=SHORT)
    assert (fi["spike_count"] == 0).all() and not summary["spontaneous"]
    d = fit_mtc_condition(fi, summary, coarse_cfg, truth_map(), window=SHORT).to_dict()
    assert_complete(d)
    assert d["status"] == "never_fires" and not d["use_downstream"]
    assert "a_fast_unidentified" in d["status_flags"]
    assert d["a_fast"] == -2.0  # a flat objective keeps the reference's gain
    assert max(d["residuals"]["rate_mtc_hz"]) == 0.0
    assert d["residuals"]["spontaneous_rate_mtc_hz"] == 0.0


def test_spontaneous_only_is_complete_and_skipped(coarse_cfg):
    """Fires at rest, every positive step blocks: nothing pins the input response."""
    fi, summary = table(condition_truth(-2.5, -3.0), amps=SHORT_AMPS, window=SHORT)
    pos = fi["amp_uA_cm2"] > 0
    fi.loc[pos, ["spike_count", "n_spikes"]] = 2
    fi.loc[pos, "rate_hz"] = 5.0
    fi.loc[pos, "first_spike_latency_ms"] = 1.0
    fi.loc[pos, "block"] = True
    d = fit_mtc_condition(fi, summary, coarse_cfg, truth_map(), window=SHORT).to_dict()
    assert_complete(d)
    assert d["status"] == "spontaneous_only" and not d["use_downstream"]
    assert d["fit_data"]["n_excluded_block"] == int(pos.sum())
    assert "depolarisation_block" in d["status_flags"]


@pytest.fixture(scope="module")
def block_case(coarse_cfg):
    truth = condition_truth(-2.5, 6.0)
    fi, summary = table(truth, condition="blocky", amps=SHORT_AMPS, window=SHORT)
    high = fi["amp_uA_cm2"] >= 20.0
    assert high.sum() >= 2
    fi.loc[high, ["spike_count", "n_spikes"]] = 3
    fi.loc[high, "rate_hz"] = 30.0
    fi.loc[high, "block"] = True
    summary["block_onset_uA_cm2"] = 20.0
    result = fit_mtc_condition(fi, summary, coarse_cfg, truth_map(), window=SHORT)
    return truth, fi, summary, result


def test_block_sweeps_are_left_out(block_case):
    truth, fi, _, result = block_case
    d = result.to_dict()
    assert_complete(d)
    assert d["status"] in ("depolarisation_block", "a_fast_unidentified")
    assert "depolarisation_block" in d["status_flags"] and d["use_downstream"]
    assert d["fit_data"]["n_excluded_block"] == int((fi["amp_uA_cm2"] >= 20.0).sum())
    assert not any(np.asarray(d["residuals"]["in_fit"])[(fi["amp_uA_cm2"] >= 20.0).to_numpy()])
    assert within(-2.5, d["intervals"]["a_fast"])


def test_reported_parameters_reproduce_the_reported_curve(block_case):
    """The residual table is what the reported MTCParams do (no stale values)."""
    _, fi, _, result = block_case
    d = result.to_dict()
    params = MTCParams(**{name: d[name] for name in MTCParams.__dataclass_fields__})
    again, summary = table(params, amps=SHORT_AMPS, window=SHORT)
    np.testing.assert_array_equal(
        again["rate_hz"].to_numpy(), np.asarray(d["residuals"]["rate_mtc_hz"])
    )
    assert summary["spontaneous_rate_hz"] == d["residuals"]["spontaneous_rate_mtc_hz"]


def test_reference_input_map_is_validated():
    with pytest.raises(ValueError, match="mtc.input_scale"):
        MtcInputMap.from_reference(
            {"input_scale": None, "input_offset": 0.0, "a_slow_pos": 2.0, "a_fast": -2.0,
             "i_bias": -1.0},
            "control",
        )  # fmt: skip


def test_reference_must_be_the_configured_condition(mapping_cfg):
    fi, summary = table(reference_truth(), "intermediate", amps=SHORT_AMPS, window=SHORT)
    with pytest.raises(ValueError, match="reference_condition is 'control'"):
        fit_mtc_reference(fi, summary, mapping_cfg, window=WINDOW)


def test_search_finds_the_rest_state_the_data_ask_for(coarse_cfg):
    """Regression: a cell that fires at rest and keeps speeding up beyond the circuit's
    reach (as the default intermediate HH cell does). The coarse start grid settles silent
    at rest at the a_fast bound (J ~3.4e4); a set firing at rest fits better (J ~1.9e4), and
    the search restricted to matching rest states must find it."""
    fi, summary = table(condition_truth(-2.0, -3.0), window=SHORT)
    assert summary["spontaneous"]
    boost = 1.0 + np.clip(fi["amp_uA_cm2"].to_numpy(), 0.0, None) / AMPS_UA_CM2.max()
    counts = np.round(fi["spike_count"].to_numpy() * boost).astype(int)
    fi["spike_count"] = counts
    fi["rate_hz"] = counts * 1000.0 / SHORT.duration_ms
    d = fit_mtc_condition(fi, summary, coarse_cfg, truth_map(), window=SHORT).to_dict()
    assert_complete(d)
    assert d["residuals"]["spontaneous_rate_mtc_hz"] > 0
    assert "rest_state_mismatch" not in d["status_flags"]
    assert d["rest_state_alternative"] is None
    assert d["objective"] < 2.0e4
