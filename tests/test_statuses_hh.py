"""Honest HH statuses from real NEURON runs: passive crossings are no spikes, and each cell's
excitability (never_fires, block_at_rest, onset_only, spontaneous, silent_at_rest)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bridge.config import Condition, load_config
from bridge.contracts import (
    EXCITABILITY_STATUSES,
    HHSummary,
    StageFileError,
    read_hh_summary,
)
from bridge.hh.features import (
    FEATURE_COLUMNS,
    BlockCriterion,
    excitability,
    fi_table,
    single_run_row,
    step_feature_rows,
)
from bridge.hh.stage import run_condition
from hh_models.params import HHParams, StepProtocol
from hh_models.protocols import ou_current, run_noise, run_spontaneous, run_steps
from hh_models.spikes import accepted_mask, detect_single, detect_steps
from tests.hh_helpers import shorten_validation

THRESHOLD_mV = -20.0
DT_ms = 0.025
#: the config default (config/config.yaml: net inward ionic current)
MIN_UPSTROKE = 0.0
CRITERION = BlockCriterion(window_ms=100.0, min_spikes=2, v_mean_above_mV=-50.0)
SHORT = {"delay_ms": 10.0, "duration_ms": 300.0, "after_ms": 10.0}
REST_ms = 300.0


def cell(gnabar: float, gkbar: float = 0.036) -> HHParams:
    return HHParams(gnabar=gnabar, gkbar=gkbar, gl=0.0003)


def steps(params: HHParams, amps: tuple[float, ...], duration_ms: float = 300.0):
    protocol = StepProtocol(amps, **{**SHORT, "duration_ms": duration_ms})
    return run_steps(params, protocol, THRESHOLD_mV, 0.1)


def test_passive_crossings_of_a_cell_without_sodium_are_no_spikes() -> None:
    amps = (80.0, 150.0, 300.0)
    raw = steps(cell(0.0), amps, duration_ms=50.0)
    # NetCon alone counts one crossing per sweep, at a raw dV/dt like an action potential's
    assert [s.size for s in raw.spike_times_ms] == [1, 1, 1]
    kept, found = detect_steps(raw, MIN_UPSTROKE)
    assert [s.size for s in kept.spike_times_ms] == [0, 0, 0]
    assert found.n_rejected.tolist() == [1, 1, 1]
    # K and leak stay outward: the membrane's own rate is negative at every crossing
    rates = np.concatenate(found.upstroke_rate_mV_ms)
    assert (rates < -30.0).all(), rates
    # eFEL would report an AP amplitude; with the crossing rejected the row has none
    rows = step_feature_rows(kept, CRITERION, found.rejected_times_ms)
    for row in rows:
        assert row["spike_count"] == 0 and row["n_spikes_window"] == 0
        assert all(row[c] is None for c in FEATURE_COLUMNS if c != "spike_count")
    assert list(fi_table(kept, CRITERION)["spike_count"]) == [0, 0, 0]


def test_action_potentials_keep_their_netcon_times() -> None:
    raw = steps(cell(0.12), (10.0,), duration_ms=100.0)
    kept, found = detect_steps(raw, MIN_UPSTROKE)
    assert raw.spike_times_ms[0].size > 3
    np.testing.assert_array_equal(kept.spike_times_ms[0], raw.spike_times_ms[0])
    assert found.total_rejected == 0
    assert (found.upstroke_rate_mV_ms[0] > 50.0).all()


@pytest.mark.parametrize(
    ("gnabar", "amps"),
    [
        # 86 uA/cm2: the control cell's oscillation near the upper bifurcation (peaks -13 mV,
        # upstrokes with net outward current) stays counted after its first real spike
        (0.12, (-5.0, 3.0, 10.0, 40.0, 86.0, 150.0)),
        (0.25, (-2.0, 10.0, 60.0, 200.0)),
        (1.0, (-5.0, 20.0, 164.0, 300.0)),
    ],
)
def test_default_conditions_keep_every_count(gnabar: float, amps: tuple[float, ...]) -> None:
    raw = steps(cell(gnabar), amps, duration_ms=200.0)
    kept, found = detect_steps(raw, MIN_UPSTROKE)
    assert found.total_rejected == 0
    assert [s.size for s in kept.spike_times_ms] == [s.size for s in raw.spike_times_ms]
    assert sum(s.size for s in raw.spike_times_ms) > 20


def test_crossings_count_from_the_first_regenerative_upstroke() -> None:
    rates = np.array([-40.0, -5.0, 120.0, -60.0, 30.0])
    assert accepted_mask(rates, 0.0).tolist() == [False, False, True, True, True]
    assert accepted_mask(rates, 200.0).tolist() == [False] * 5
    assert accepted_mask(np.zeros(0), 0.0).size == 0


def test_noise_and_rest_runs_use_the_same_rule() -> None:
    strong = {"duration_ms": 300.0, "mean_uA_cm2": 90.0, "sigma_uA_cm2": 40.0, "tau_ms": 5.0}
    raw = run_noise(cell(0.0), {**strong, "seed": 3}, DT_ms, THRESHOLD_mV)
    assert raw.spike_times_ms.size >= 1  # the strong current pushes it across passively
    kept, found = detect_single(raw, MIN_UPSTROKE)
    assert kept.spike_times_ms.size == 0 and found.total_rejected == raw.spike_times_ms.size
    row = single_run_row(kept, "noise", rejected_ms=found.rejected_times_ms[0])
    assert row["spike_count"] == 0 and row["ap_amplitude_mV"] is None
    spont, found = detect_single(run_spontaneous(cell(1.0), REST_ms, DT_ms, THRESHOLD_mV), 0.0)
    assert spont.spike_times_ms.size >= 10 and found.total_rejected == 0
    # the current the rule subtracts is the one applied: same samples as ou_current
    again = ou_current(raw.i_uA_cm2.size, DT_ms, 90.0, 40.0, 5.0, np.random.default_rng(3))
    np.testing.assert_array_equal(raw.i_uA_cm2, again)


def classify(params: HHParams, amps: tuple[float, ...]) -> tuple[str, object]:
    run, _ = detect_steps(steps(params, amps), MIN_UPSTROKE)
    rest, _ = detect_single(run_spontaneous(params, REST_ms, DT_ms, THRESHOLD_mV), MIN_UPSTROKE)
    found = excitability(run, rest, CRITERION)
    return found.status, found


AMPS = (0.0, 5.0, 10.0, 20.0, 40.0, 100.0)


@pytest.mark.parametrize(
    ("name", "params", "expected"),
    [
        ("gNa 0", cell(0.0), "never_fires"),
        ("gNa 5 (one spike, then depolarised)", cell(5.0), "block_at_rest"),
        ("gK 0.001 (one spike, then depolarised)", cell(0.12, gkbar=0.001), "block_at_rest"),
        ("gNa 0.07 (onset spikes only)", cell(0.07), "onset_only"),
        ("control", cell(0.12), "silent_at_rest"),
        ("intermediate", cell(0.25), "spontaneous"),
        ("hyperexcitable", cell(1.0), "spontaneous"),
    ],
)
def test_excitability_status(name: str, params: HHParams, expected: str) -> None:
    status, found = classify(params, AMPS + ((100.0, 150.0) if params.gnabar == 0 else ()))
    assert status == expected, (name, found)
    if expected == "block_at_rest":
        assert found.rest_n_spikes >= 1 and found.rest_last_window_n_spikes == 0
        assert found.rest_last_window_v_mean_mV > CRITERION.v_mean_above_mV
    if expected == "onset_only":
        assert found.n_firing_sweeps >= 3 and found.n_sustained_sweeps == 0


@pytest.fixture(scope="module")
def small_hh(repo_root: Path) -> dict:
    hh = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"])["hh"])
    hh["steps"].update(
        delay_ms=10.0,
        duration_ms=100.0,
        after_ms=10.0,
        amp_segments_uA_cm2=[[0.0, 10.0, 10.0], [100.0, 300.0, 100.0]],
    )
    hh["spontaneous"]["duration_ms"] = 100.0
    hh["noise"]["duration_ms"] = 100.0
    shorten_validation(hh, 100.0, 10.0, [[5.0, 3.0]])
    hh["block"]["window_ms"] = 50.0
    return hh


def test_stage_writes_never_fires_for_a_cell_without_sodium(tmp_path: Path, small_hh: dict) -> None:
    run_condition(Condition("no_sodium", 0.0, 0.036, 0.0003), small_hh, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["excitability"] == "never_fires"
    assert summary["rheobase_single_uA_cm2"] is None and summary["spontaneous"] is False
    assert summary["spike_detection"]["n_rejected_crossings"]["steps"] == 3  # 100-300 uA/cm2
    assert summary["excitability_detail"]["n_firing_sweeps"] == 0
    assert read_hh_summary(tmp_path / "summary.json").excitability == "never_fires"
    table = pd.read_csv(tmp_path / "features.csv")
    assert (table["spike_count"] == 0).all() and table["ap_amplitude_mV"].isna().all()
    assert (pd.read_csv(tmp_path / "fi_curve.csv")["n_spikes"] == 0).all()


def test_contract_rejects_an_unknown_excitability() -> None:
    base = {
        "condition": "x",
        "params": {"gnabar": 0.1, "gkbar": 0.036, "gl": 0.0003},
        "spontaneous": False,
        "n_block_sweeps": 0,
        **{
            k: None
            for k in (
                "spontaneous_rate_hz",
                "rheobase_single_uA_cm2",
                "rheobase_repetitive_uA_cm2",
                "block_onset_uA_cm2",
                "v_rest_mV",
                "tau_m_ms",
            )
        },
    }
    assert HHSummary.from_dict(base).excitability is None
    for status in EXCITABILITY_STATUSES:
        assert HHSummary.from_dict({**base, "excitability": status}).excitability == status
    with pytest.raises(StageFileError, match="field 'excitability'"):
        HHSummary.from_dict({**base, "excitability": "spontaneous_only"})
