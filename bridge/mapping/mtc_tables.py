"""f-I tables of a known MTC neuron in the HH stage's contract format (fi_curve + summary).

Used to check that the MTC fits recover known gains, input scale and offset: the table is
what ``mtc_model.simulate_mtc`` (the fit's own simulator) gives for one parameter set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridge.mapping.lif_tables import NA_PER_UA_CM2, REPETITIVE_MIN_SPIKES
from bridge.mapping.mtc_model import mtc_protocol, simulate_mtc
from bridge.mapping.targets import MS_PER_S, StepWindow
from bridge.neurons.mtc import MTCParams

#: Fields of MTCParams a table's parameter set may set (the rest come from ``base``).
TABLE_FIELDS = ("a_fast", "a_slow_pos", "i_bias", "input_scale", "input_offset")


def mtc_fi_table(
    params: MTCParams,
    amps_uA_cm2: np.ndarray,
    window: StepWindow,
    time_unit_ms: float,
    condition: str = "synthetic",
    gnabar: float = 0.12,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """(fi_curve table, summary dict) of one MTC neuron (``params.dt`` is the Euler step).

    ``block`` is all false: the MTC's own depolarised silence is recorded as a rate of 0
    (or the onset spike), as the HH table would record it before the block criterion.
    """
    amps = np.asarray(amps_uA_cm2, dtype=float)
    amps_nA = amps * NA_PER_UA_CM2
    protocol = mtc_protocol(window, time_unit_ms, params.dt)
    varying = {name: np.array([float(getattr(params, name))]) for name in TABLE_FIELDS}
    resp = simulate_mtc(params, varying, amps_nA, protocol)
    count = resp.spike_count[0]
    spont = float(resp.spontaneous_count[0] * MS_PER_S / window.spontaneous_ms)
    fi = pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": amps_nA,
            "spike_count": count,
            "n_spikes": count,
            "rate_hz": count * MS_PER_S / window.duration_ms,
            "first_spike_latency_ms": resp.first_latency_ms[0],
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
        "tau_m_ms": None,
        "tau_m_reason": "not measured for a synthetic MTC table",
        "block_onset_uA_cm2": None,
    }
    return fi, summary
