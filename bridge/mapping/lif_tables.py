"""f-I tables of a known LIF in the HH stage's contract format (fi_curve.csv + summary.json).

Used to check that the fits recover known parameters, and to compare a fitted LIF with the
HH data on the same footing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridge.mapping.lif_model import simulate_steps, spontaneous_count, tau_from_beta
from bridge.mapping.targets import MS_PER_S, StepWindow

#: 1 uA/cm2 on the 100 um2 compartment is 0.001 nA (hh_models.params).
NA_PER_UA_CM2 = 1e-3
#: spikes in the window that count as sustained firing (the HH summary's repetitive rheobase)
REPETITIVE_MIN_SPIKES = 2


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
    """(fi_curve table, summary dict) of a LIF; never blocks, so ``block`` is all false."""
    amps = np.asarray(amps_uA_cm2, dtype=float)
    amps_nA = amps * NA_PER_UA_CM2
    rate, latency, spont = lif_rates(beta, w_per_nA, bias, amps_nA, window, dt_ms)
    count = np.rint(rate * window.duration_ms / MS_PER_S).astype(int)
    fi = pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": amps_nA,
            "spike_count": count,
            "n_spikes": count,
            "rate_hz": rate,
            "first_spike_latency_ms": latency,
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
        "spontaneous": spont > 0,
        "spontaneous_rate_hz": spont,
        "tau_m_ms": None if spont > 0 else float(tau_from_beta(beta, dt_ms)),
        "tau_m_reason": "fires at rest" if spont > 0 else None,
        "block_onset_uA_cm2": None,
    }
    return fi, summary
