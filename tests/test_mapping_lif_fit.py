"""LIF fit: parameter recovery, trade-offs, hard cases, determinism, figure.

f-I tables come from a LIF with known (beta, w, b) in the HH contract format, on a short
protocol (50 ms rest, 400 ms steps) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bridge.config import MappingConfig, load_config
from bridge.io import to_jsonable
from bridge.mapping.figures import plot_mapping_fi
from bridge.mapping.lif import USABLE_STATUSES, fit_lif_condition, fit_reference
from bridge.mapping.objective import StepWindow
from bridge.mapping.synthetic_tables import lif_fi_table, lif_rates

DT_MS = 1.0
WINDOW = StepWindow(delay_ms=50.0, duration_ms=400.0, spontaneous_ms=400.0)
AMPS_UA_CM2 = np.arange(-5.0, 30.001, 1.0)
REL_TOL = 0.02
REQUIRED_KEYS = (
    "beta_analytic",
    "beta_membrane",
    "beta_fit",
    "bias_fit",
    "alpha_syn",
    "alpha_source",
    "beta_syn",
    "objective",
    "converged",
    "status",
    "intervals",
    "residuals",
    "tradeoff",
    "use_downstream",
    "dt_ms",
)


def beta_of(tau_ms: float) -> float:
    return math.exp(-DT_MS / tau_ms)


def bias_for_rheobase(tau_ms: float, w: float, rheobase_nA: float) -> float:
    return (1.0 - beta_of(tau_ms)) - w * rheobase_nA


@pytest.fixture(scope="module")
def mapping_cfg(repo_root):
    mapping = load_config([repo_root / "config" / "config.yaml"])["mapping"]
    return MappingConfig.from_config(mapping, "mapping")


def table(tau_ms, w, bias, condition="synthetic"):
    return lif_fi_table(beta_of(tau_ms), w, bias, AMPS_UA_CM2, WINDOW, DT_MS, condition)


def assert_complete(d: dict) -> None:
    """Every required field present; the JSON has no NaN/inf anywhere."""
    for key in REQUIRED_KEYS:
        assert key in d, key
    text = json.dumps(to_jsonable(d), allow_nan=False, sort_keys=True)
    assert "NaN" not in text and "Infinity" not in text
    for key in ("beta_fit", "bias_fit", "beta_syn", "objective", "tau_fit_ms", "w_per_nA"):
        assert isinstance(d[key], float) and math.isfinite(d[key]), key
    assert d["alpha_source"] == "fixed" and d["alpha_syn"] == 0.9
    assert d["beta_syn"] == d["beta_fit"]
    n = len(d["residuals"]["amp_nA"])
    for key in ("rate_hh_hz", "rate_lif_hz", "rate_residual_hz", "latency_residual_ms"):
        assert len(d["residuals"][key]) == n
    assert d["use_downstream"] == (d["status"] in USABLE_STATUSES)


def curve_matches(d: dict) -> bool:
    """LIF rates within 2 % of the curve's largest rate at every fitted amplitude."""
    res = d["residuals"]
    fit = np.asarray(res["in_fit"])
    hh = np.asarray(res["rate_hh_hz"])[fit]
    lif = np.asarray(res["rate_lif_hz"])[fit]
    spont_ok = abs(res["spontaneous_residual_hz"]) <= REL_TOL * max(hh.max(), 1.0)
    return bool(np.all(np.abs(lif - hh) <= REL_TOL * hh.max()) and spont_ok)


def within(value: float, bounds: list[float]) -> bool:
    lo, hi = bounds
    return lo * (1 - 1e-9) - 1e-12 <= value <= hi * (1 + 1e-9) + 1e-12


@pytest.fixture(scope="module")
def reference(mapping_cfg):
    """Silent-at-rest reference: tau 12 ms, w 3 /nA, rheobase 4 uA/cm2."""
    truth = {"tau_ms": 12.0, "w": 3.0, "bias": bias_for_rheobase(12.0, 3.0, 0.004)}
    fi, summary = table(truth["tau_ms"], truth["w"], truth["bias"], condition="control")
    return truth, fit_reference(fi, summary, mapping_cfg, window=WINDOW)


def test_reference_recovers_tau_gain_and_bias(reference):
    truth, ref = reference
    d = ref.result.to_dict()
    assert_complete(d)
    assert d["status"] == "ok" and d["converged"]
    assert d["tau_fit_ms"] == pytest.approx(truth["tau_ms"], rel=REL_TOL)
    assert ref.w_per_nA == pytest.approx(truth["w"], rel=REL_TOL)
    assert d["bias_fit"] == pytest.approx(truth["bias"], rel=REL_TOL)
    assert within(truth["tau_ms"], d["intervals"]["tau_ms"])
    assert d["intervals"]["tau_ratio"] <= 2.0
    assert d["w_source"] == "fitted on this condition"
    assert curve_matches(d)


def test_fixed_gain_condition_recovers_tau_and_bias(reference, mapping_cfg):
    """A second silent condition, w held at the reference's fitted value."""
    _, ref = reference
    tau, bias = 5.0, bias_for_rheobase(5.0, 3.0, 0.002)
    fi, summary = table(tau, 3.0, bias, condition="mild")
    d = fit_lif_condition(
        fi, summary, mapping_cfg, ref.w_per_nA, window=WINDOW, w_source="reference:control"
    ).to_dict()
    assert_complete(d)
    assert d["status"] == "ok"
    assert d["w_per_nA"] == ref.w_per_nA and d["w_source"] == "reference:control"
    assert d["tau_fit_ms"] == pytest.approx(tau, rel=REL_TOL)
    assert d["bias_fit"] == pytest.approx(bias, rel=REL_TOL)
    assert d["beta_fit"] == pytest.approx(beta_of(tau), rel=REL_TOL)
    assert d["tradeoff"]["corr_beta_w"] is None


def test_spontaneous_condition_recovers_tau(mapping_cfg):
    """Fires at rest: no latencies enter, rates + spontaneous rate still identify tau."""
    tau, w, bias = 8.0, 3.35, 0.124
    fi, summary = table(tau, w, bias)
    assert summary["spontaneous"]
    d = fit_lif_condition(fi, summary, mapping_cfg, w, window=WINDOW).to_dict()
    assert_complete(d)
    assert d["fit_data"]["n_latency_points"] == 0
    assert d["fit_data"]["drive_coordinate"] == "ln_rest_isi_steps"
    assert d["status"] == "ok" and "spontaneous" in d["status_flags"]
    assert d["tau_fit_ms"] == pytest.approx(tau, rel=REL_TOL)
    assert d["bias_fit"] == pytest.approx(bias, rel=REL_TOL)
    assert curve_matches(d)


def test_beta_gain_tradeoff_reported_and_unidentified(mapping_cfg):
    """Slow spontaneous cell, w free: tau spans > 2x, the region holds the true values."""
    tau, w, bias = 80.0, 4.0, 0.03
    fi, summary = table(tau, w, bias)
    d = fit_lif_condition(fi, summary, mapping_cfg, None, window=WINDOW).to_dict()
    assert_complete(d)
    iv = d["intervals"]
    assert iv["tau_ms"][1] / iv["tau_ms"][0] > 2.0
    assert d["status"] == "beta_unidentified" and d["use_downstream"]
    assert within(tau, iv["tau_ms"])
    assert within(w, iv["w_per_nA"])
    assert within(bias, iv["bias"])
    assert within(beta_of(tau), iv["beta"])
    assert curve_matches(d)
    trade = d["tradeoff"]
    assert trade["n_accepted"] >= 3
    assert trade["corr_beta_bias"] is not None and trade["corr_beta_bias"] < 0
    assert trade["corr_beta_w"] is not None
    prof = trade["profile"]
    assert len(prof["tau_ms"]) == len(prof["objective"]) == len(prof["w_per_nA"])


def test_never_fires_is_complete_and_skipped(mapping_cfg):
    fi, summary = table(10.0, 1.0, -0.5)
    assert (fi["spike_count"] == 0).all() and not summary["spontaneous"]
    d = fit_lif_condition(fi, summary, mapping_cfg, 3.0, window=WINDOW).to_dict()
    assert_complete(d)
    assert d["status"] == "never_fires"
    assert not d["use_downstream"]
    # the fitted LIF stays silent on the whole grid and at rest
    assert max(d["residuals"]["rate_lif_hz"]) == 0.0
    assert d["residuals"]["spontaneous_rate_lif_hz"] == 0.0


def test_silent_cell_that_fires_only_in_block_sweeps_never_fires(mapping_cfg):
    """Every sweep blocks: nothing left for the LIF but the silent rest state."""
    fi, summary = table(12.0, 3.0, bias_for_rheobase(12.0, 3.0, 0.004))
    fi["spike_count"] = 2
    fi["n_spikes"] = 2
    fi["rate_hz"] = 5.0
    fi["first_spike_latency_ms"] = 1.0
    fi["block"] = True
    d = fit_lif_condition(fi, summary, mapping_cfg, 3.0, window=WINDOW).to_dict()
    assert_complete(d)
    assert d["status"] == "never_fires" and not d["use_downstream"]
    assert "depolarisation_block" in d["status_flags"]
    assert d["fit_data"]["n_rate_points"] == 0


def test_spontaneous_only_is_complete_and_skipped(mapping_cfg):
    """Fires at rest, every positive step blocks: the inputs say nothing about the drive."""
    fi, summary = table(8.0, 3.0, 0.14)
    pos = fi["amp_uA_cm2"] > 0
    fi.loc[pos, ["spike_count", "n_spikes"]] = 2
    fi.loc[pos, "rate_hz"] = 5.0
    fi.loc[pos, "first_spike_latency_ms"] = 1.0
    fi.loc[pos, "block"] = True
    d = fit_lif_condition(fi, summary, mapping_cfg, 3.0, window=WINDOW).to_dict()
    assert_complete(d)
    assert d["status"] == "spontaneous_only"
    assert not d["use_downstream"]
    assert d["fit_data"]["n_excluded_block"] == int(pos.sum())
    assert not any(np.asarray(d["residuals"]["in_fit"])[pos.to_numpy()])


@pytest.fixture(scope="module")
def block_case(mapping_cfg):
    tau, w = 12.0, 3.0
    bias = bias_for_rheobase(tau, w, 0.004)
    fi, summary = table(tau, w, bias, condition="blocky")
    high = fi["amp_uA_cm2"] >= 22.0
    fi.loc[high, ["spike_count", "n_spikes"]] = 3
    fi.loc[high, "rate_hz"] = 7.5
    fi.loc[high, "block"] = True
    summary["block_onset_uA_cm2"] = 22.0
    result = fit_lif_condition(fi, summary, mapping_cfg, w, window=WINDOW)
    return (tau, bias, fi, summary), result


def test_block_sweeps_are_left_out(block_case):
    (tau, bias, fi, _), result = block_case
    d = result.to_dict()
    assert_complete(d)
    assert d["status"] == "depolarisation_block" and d["use_downstream"]
    assert d["fit_data"]["n_excluded_block"] == int((fi["amp_uA_cm2"] >= 22.0).sum())
    assert d["tau_fit_ms"] == pytest.approx(tau, rel=REL_TOL)
    assert d["bias_fit"] == pytest.approx(bias, rel=REL_TOL)


def test_fit_is_deterministic(block_case, mapping_cfg):
    (_, _, fi, summary), first = block_case
    second = fit_lif_condition(fi.copy(), dict(summary), mapping_cfg, 3.0, window=WINDOW)
    a = json.dumps(to_jsonable(first.to_dict()), sort_keys=True, allow_nan=False)
    b = json.dumps(to_jsonable(second.to_dict()), sort_keys=True, allow_nan=False)
    assert a == b


def test_reported_parameters_reproduce_the_reported_curve(block_case):
    """The residual table is what the reported (beta, w, bias) LIF does (no stale values)."""
    _, result = block_case
    rate, _, spont = lif_rates(
        result.beta_fit,
        result.w_per_nA,
        result.bias_fit,
        np.asarray(result.residuals["amp_nA"]),
        WINDOW,
        DT_MS,
    )
    assert rate.tolist() == result.residuals["rate_lif_hz"]
    assert spont == result.residuals["spontaneous_rate_lif_hz"]


def test_fit_reference_checks_the_condition(mapping_cfg):
    fi, summary = table(12.0, 3.0, 0.05, condition="not_control")
    with pytest.raises(ValueError, match="reference_condition"):
        fit_reference(fi, summary, mapping_cfg, window=WINDOW)


def test_figure_overlays_hh_and_lif(reference, block_case, tmp_path):
    _, ref = reference
    _, block = block_case
    out = tmp_path / "mapping_fi.png"
    plot_mapping_fi([ref.result.to_dict(), block.to_dict()], out)
    assert out.stat().st_size > 10_000
    with pytest.raises(ValueError, match="no results"):
        plot_mapping_fi([], tmp_path / "empty.png")
