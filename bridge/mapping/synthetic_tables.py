"""f-I tables of a known LIF or MTC neuron in the HH stage's contract format
(fi_curve.csv + summary.json).

Used to check that the fits recover known parameters, and to compare a fitted model with the
HH data on the same footing. Each table is what the fit's own simulator gives for one
parameter set; a model never blocks, so ``block`` is all false.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridge.mapping.lif import simulate_steps, spontaneous_count, tau_from_beta
from bridge.mapping.mtc import mtc_protocol, simulate_mtc
from bridge.mapping.objective import MS_PER_S, StepWindow
from bridge.neurons.mtc import MTCParams

#: 1 uA/cm2 on the 100 um2 compartment is 0.001 nA (hh_models.params).
NA_PER_UA_CM2 = 1e-3
#: spikes in the window that count as sustained firing (the HH summary's repetitive rheobase)
REPETITIVE_MIN_SPIKES = 2
#: Fields of MTCParams an MTC table's parameter set may set (the rest come from ``params``).
MTC_TABLE_FIELDS = ("a_fast", "a_slow_pos", "i_bias", "input_scale", "input_offset")


def _contract_tables(
    amps_uA_cm2: np.ndarray,
    count: np.ndarray,
    latency_ms: np.ndarray,
    spontaneous_rate_hz: float,
    window: StepWindow,
    condition: str,
    gnabar: float,
    tau_m_ms: float | None,
    tau_m_reason: str | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(fi_curve table, summary dict) from a model's spike counts and latencies per step."""
    amps = np.asarray(amps_uA_cm2, dtype=float)
    fi = pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": amps * NA_PER_UA_CM2,
            "spike_count": count,
            "n_spikes": count,
            "rate_hz": count * MS_PER_S / window.duration_ms,
            "first_spike_latency_ms": latency_ms,
            "block": np.zeros(amps.size, dtype=bool),
        }
    )

    def first_amp(min_spikes: int) -> float | None:
        hit = np.flatnonzero(count >= min_spikes)
        return float(amps[hit[0]]) if hit.size else None

    single = first_amp(1)
    repetitive = first_amp(REPETITIVE_MIN_SPIKES)
    summary = {
        "condition": condition,
        "params": {"gnabar": gnabar},
        "rheobase_single_uA_cm2": single,
        "rheobase_single_nA": None if single is None else single * NA_PER_UA_CM2,
        "rheobase_repetitive_uA_cm2": repetitive,
        "rheobase_repetitive_nA": None if repetitive is None else repetitive * NA_PER_UA_CM2,
        "spontaneous": spontaneous_rate_hz > 0,
        "spontaneous_rate_hz": spontaneous_rate_hz,
        "tau_m_ms": tau_m_ms,
        "tau_m_reason": tau_m_reason,
        "block_onset_uA_cm2": None,
    }
    return fi, summary


def lif_rates(
    beta: float,
    w_per_nA: float,
    bias: float,
    amps_nA: np.ndarray,
    window: StepWindow,
    dt_ms: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """(rate_hz, first-spike latency_ms (NaN: none), spontaneous rate_hz) of one LIF."""
    n_delay, n_step, n_spont = window.n_steps(dt_ms)
    amps = np.asarray(amps_nA, dtype=float)
    one_beta, one_bias = np.array([beta]), np.array([bias])
    resp = simulate_steps(one_beta, w_per_nA, one_bias, amps, n_delay, n_step, dt_ms)
    rate = resp.spike_count[0] * MS_PER_S / window.duration_ms
    spont = spontaneous_count(one_beta, one_bias, n_spont)[0]
    return rate, resp.first_latency_ms[0], float(spont * MS_PER_S / window.spontaneous_ms)


def lif_fi_table(
    beta: float,
    w_per_nA: float,
    bias: float,
    amps_uA_cm2: np.ndarray,
    window: StepWindow,
    dt_ms: float,
    condition: str = "synthetic",
    gnabar: float = 0.12,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(fi_curve table, summary dict) of a LIF with decay ``beta`` per ``dt_ms``."""
    amps = np.asarray(amps_uA_cm2, dtype=float)
    rate, latency, spont = lif_rates(beta, w_per_nA, bias, amps * NA_PER_UA_CM2, window, dt_ms)
    count = np.rint(rate * window.duration_ms / MS_PER_S).astype(int)
    fires_at_rest = spont > 0
    return _contract_tables(
        amps,
        count,
        latency,
        spont,
        window,
        condition,
        gnabar,
        tau_m_ms=None if fires_at_rest else float(tau_from_beta(beta, dt_ms)),
        tau_m_reason="fires at rest" if fires_at_rest else None,
    )


def mtc_fi_table(
    params: MTCParams,
    amps_uA_cm2: np.ndarray,
    window: StepWindow,
    time_unit_ms: float,
    condition: str = "synthetic",
    gnabar: float = 0.12,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(fi_curve table, summary dict) of one MTC neuron (``params.dt`` is the Euler step).

    The MTC's own depolarised silence is recorded as a rate of 0 (or the onset spike), as
    the HH table would record it before the block criterion.
    """
    amps = np.asarray(amps_uA_cm2, dtype=float)
    protocol = mtc_protocol(window, time_unit_ms, params.dt)
    varying = {name: np.array([float(getattr(params, name))]) for name in MTC_TABLE_FIELDS}
    resp = simulate_mtc(params, varying, amps * NA_PER_UA_CM2, protocol)
    spont = float(resp.spontaneous_count[0] * MS_PER_S / window.spontaneous_ms)
    return _contract_tables(
        amps,
        resp.spike_count[0],
        resp.first_latency_ms[0],
        spont,
        window,
        condition,
        gnabar,
        tau_m_ms=None,
        tau_m_reason="not measured for a synthetic MTC table",
    )
