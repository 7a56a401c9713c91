"""Spike features on real NEURON traces: no-spike sweeps, block, rheobase edge cases, tau_m."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bridge.hh.features import (
    FEATURE_COLUMNS,
    BlockCriterion,
    block_flags,
    fi_table,
    first_amplitude,
    membrane_time_constant,
    rest_state,
    single_run_row,
    step_feature_rows,
)
from hh_models.params import HHParams, StepProtocol
from hh_models.protocols import run_spontaneous, run_steps

THRESHOLD_mV = -20.0
SHORT = {"delay_ms": 20.0, "duration_ms": 300.0, "after_ms": 20.0}
CRITERION = BlockCriterion(window_ms=100.0, min_spikes=2, v_mean_above_mV=-50.0)


def cell(gnabar: float = 0.12, **changes: float) -> HHParams:
    return HHParams(gnabar=gnabar, gkbar=0.036, gl=0.0003, **changes)


def steps(params: HHParams, amps: tuple[float, ...]):
    return run_steps(params, StepProtocol(amps, **SHORT), THRESHOLD_mV, 0.1)


def _no_nan(row: dict) -> None:
    for key, value in row.items():
        assert not (isinstance(value, float) and math.isnan(value)), key


def test_no_spike_sweep_is_well_defined() -> None:
    run = steps(cell(), (-5.0, 0.0, 1.0))
    rows = step_feature_rows(run, CRITERION)
    for row in rows:
        _no_nan(row)
        assert row["spike_count"] == 0 and row["n_spikes_window"] == 0
        for column in FEATURE_COLUMNS:
            if column != "spike_count":
                assert row[column] is None, column
        assert row["block"] is False
    fi = fi_table(run, CRITERION)
    assert list(fi["spike_count"]) == [0, 0, 0]
    assert fi["first_spike_latency_ms"] == [None, None, None]
    text = pd.DataFrame(rows).to_csv(index=False, na_rep="")
    assert "nan" not in text.lower()


def test_rebound_spike_after_the_step_is_not_in_the_step_window() -> None:
    """A hyperpolarising step ends with an anode-break spike: n_spikes 1, spike_count 0."""
    run = steps(cell(), (-10.0,))
    fi = fi_table(run, CRITERION)
    assert fi["n_spikes"][0] == 1 and fi["spike_count"][0] == 0
    row = step_feature_rows(run, CRITERION)[0]
    assert row["spike_count"] == 0 and row["mean_frequency_hz"] is None


def test_repetitive_sweep_features_agree_with_netcon() -> None:
    run = steps(cell(), (10.0,))
    row = step_feature_rows(run, CRITERION)[0]
    _no_nan(row)
    assert row["spike_count"] == row["n_spikes_window"] >= 15
    rate_hz = row["n_spikes_window"] / 0.3
    assert row["mean_frequency_hz"] == pytest.approx(rate_hz, rel=0.1)
    assert 0.0 <= row["isi_cv"] < 0.05, "tonic HH firing is regular"
    assert 70.0 < row["ap_amplitude_mV"] < 120.0
    assert 0.0 < row["time_to_first_spike_ms"] < 5.0
    assert row["burst_number"] == 0


def test_block_flag_true_on_a_real_block_sweep() -> None:
    """gnabar 0.25 at 250 uA/cm2: two spikes, then V settles near -36 mV with no oscillation."""
    run = steps(cell(0.25), (250.0,))
    row = step_feature_rows(run, CRITERION)[0]
    assert row["n_spikes_window"] >= 2
    assert row["v_mean_last_window_mV"] > -50.0
    assert row["v_ptp_last_window_mV"] < 1.0
    assert row["block"] is True


def test_single_spike_sweep_is_not_block() -> None:
    """Control at 200 uA/cm2: one spike, then depolarised and silent -- not block by definition."""
    run = steps(cell(), (200.0,))
    assert run.spike_times_ms[0].size == 1
    row = step_feature_rows(run, CRITERION)[0]
    assert row["v_mean_last_window_mV"] > -50.0
    assert bool(block_flags(run, CRITERION)[0]) is False
    assert row["block"] is False
    assert row["isi_cv"] is None and row["mean_frequency_hz"] is None
    _no_nan(row)


def test_first_amplitude_nulls() -> None:
    amps = np.array([-1.0, 0.0, 1.0])
    nA = amps * 1e-3
    none = first_amplitude(amps, nA, np.array([False, False, False]), "fires")
    assert none.amp_uA_cm2 is None and "no amplitude" in none.reason
    below = first_amplitude(amps, nA, np.array([True, True, True]), "fires")
    assert below.amp_uA_cm2 is None and "below the grid" in below.reason
    found = first_amplitude(amps, nA, np.array([False, True, True]), "fires")
    assert (found.amp_uA_cm2, found.amp_nA, found.reason) == (0.0, 0.0, None)


def test_rest_and_tau_m_of_control_and_a_spontaneous_cell() -> None:
    amps = (-1.0, -0.5, 0.0)
    quiet = rest_state(run_spontaneous(cell(), 200.0, 0.025, THRESHOLD_mV), 0.0)
    assert not quiet.spontaneous and quiet.v_rest_mV == pytest.approx(-64.97, abs=0.05)
    tau = membrane_time_constant(steps(cell(), amps), quiet)
    assert tau.amp_uA_cm2 == -0.5
    assert 0.8 < tau.tau_m_ms < 2.0
    # twice the capacitance: a slower membrane
    slow_params = cell(cm_uF_cm2=2.0)
    slow_rest = rest_state(run_spontaneous(slow_params, 200.0, 0.025, THRESHOLD_mV), 0.0)
    slow = membrane_time_constant(steps(slow_params, amps), slow_rest)
    assert 1.4 < slow.tau_m_ms / tau.tau_m_ms < 2.2

    firing_run = run_spontaneous(cell(0.25), 300.0, 0.025, THRESHOLD_mV)
    firing = rest_state(firing_run, 0.0)
    assert firing.spontaneous and firing.v_rest_mV is None
    assert firing.v_min_mV < firing.v_mean_mV < -40.0
    undefined = membrane_time_constant(steps(cell(0.25), amps), firing)
    assert undefined.tau_m_ms is None and "fires without input" in undefined.reason
    row = single_run_row(firing_run, "spontaneous")
    _no_nan(row)
    assert row["spike_count"] >= 10 and row["isi_cv"] is not None
