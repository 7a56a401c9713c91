"""Which threshold crossings are spikes: the crossing plus a regenerative upstroke.

NEURON's NetCon reports every upward crossing of the threshold (-20 mV). A cell without
sodium (gnabar 0) crosses it passively under a strong step (80 uA/cm2 and above), so the
crossing alone is not a spike. What a passive crossing lacks is the membrane's own
depolarising current: with C dV/dt = I_inj - I_ion, the *ionic* rate

    r = dV/dt - I_inj / C_m = -I_ion / C_m        (mV/ms)

is positive only where the net ionic current is inward (the sodium upstroke). The raw
dV/dt at the crossing does not separate the two: under a 300 uA/cm2 step the passive
gnabar-0 cell crosses at 266 mV/ms, above the 130-190 mV/ms of the control cell's own
action potentials at -20 mV (measured, NEURON, dt 0.025 ms).

Rule (``accepted_mask``): a trace's crossings count from its first *regenerative* crossing
on, i.e. the first whose largest r over the ``UPSTROKE_WINDOW_ms`` after the crossing
exceeds ``min_ionic_dvdt_mV_ms``; crossings before it are passive and rejected. Later
crossings of the same trace all count, as before: near the upper bifurcation of the
f-I curve the HH cell keeps oscillating with peaks of -13 to -20 mV whose own upstrokes
have r < 0 (control 62-98 uA/cm2, ~140 Hz; intermediate 106-200 uA/cm2), and the
default f-I curves (and the block onsets the mappings exclude from) count them. Judging
every crossing on its own would move the control cell's block onset from 100 to 62
uA/cm2 and the intermediate cell's from 202 to 106 uA/cm2.

NEURON's interpolated NetCon times are kept for the accepted crossings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hh_models.protocols import SingleRun, StepRun

#: Time after a crossing (ms) over which its upstroke's ionic rate is read: the control
#: cell's action potential peaks 0.3-0.5 ms after crossing -20 mV at 6.3 degC, and the
#: inward sodium current is largest before the peak.
UPSTROKE_WINDOW_ms = 0.5
#: A crossing time within this of a sample time (ms) belongs to the step that ends there.
TIME_TOL_ms = 1e-9


@dataclass(frozen=True)
class Detection:
    """Accepted spike times per trace and how many crossings were rejected."""

    spike_times_ms: list[np.ndarray]
    rejected_times_ms: list[np.ndarray]  #: per trace, the passive crossings left out
    upstroke_rate_mV_ms: list[np.ndarray]  #: per trace, the ionic rate of every crossing

    @property
    def n_rejected(self) -> np.ndarray:
        """Rejected crossings per trace."""
        return np.array([r.size for r in self.rejected_times_ms], dtype=int)

    @property
    def total_rejected(self) -> int:
        return int(self.n_rejected.sum())


def ionic_rate(
    v_mV: np.ndarray, i_uA_cm2: np.ndarray, dt_ms: float, cm_uF_cm2: float
) -> np.ndarray:
    """dV/dt - I_inj/C (mV/ms) of each time step k -> k+1, along the last axis.

    ``i_uA_cm2`` is the injected current density applied during [k dt, (k+1) dt) (sample k;
    the convention of ``hh_models.protocols``), broadcast against ``v_mV``.
    """
    v = np.asarray(v_mV, dtype=float)
    i = np.broadcast_to(np.asarray(i_uA_cm2, dtype=float), v.shape)
    return np.diff(v, axis=-1) / dt_ms - i[..., :-1] / cm_uF_cm2


def upstroke_rates(spike_times_ms: np.ndarray, rate_mV_ms: np.ndarray, dt_ms: float) -> np.ndarray:
    """Largest ionic rate over ``UPSTROKE_WINDOW_ms`` from the time step of each crossing.

    ``rate_mV_ms`` is one trace's :func:`ionic_rate`; a crossing at t lies in the step
    that ends at the first sample time >= t.
    """
    times = np.asarray(spike_times_ms, dtype=float)
    n_steps = rate_mV_ms.size
    width = max(1, round(UPSTROKE_WINDOW_ms / dt_ms))
    out = np.empty(times.size)
    for j, t in enumerate(times):
        k_end = int(np.ceil(t / dt_ms - TIME_TOL_ms / dt_ms))
        first = min(max(k_end - 1, 0), n_steps - 1)
        out[j] = rate_mV_ms[first : first + width].max()
    return out


def accepted_mask(rates_mV_ms: np.ndarray, min_ionic_dvdt_mV_ms: float) -> np.ndarray:
    """True from the first crossing whose upstroke rate exceeds the minimum on (module doc)."""
    rates = np.asarray(rates_mV_ms, dtype=float)
    regenerative = np.flatnonzero(rates > min_ionic_dvdt_mV_ms)
    mask = np.zeros(rates.size, dtype=bool)
    if regenerative.size:
        mask[regenerative[0] :] = True
    return mask


def detect(
    spike_times_ms: Sequence[np.ndarray],
    v_mV: np.ndarray,
    i_uA_cm2: np.ndarray,
    dt_ms: float,
    cm_uF_cm2: float,
    min_ionic_dvdt_mV_ms: float,
) -> Detection:
    """Accepted crossings of each trace (rows of ``v_mV`` [n, n_samples] at ``dt_ms``).

    ``spike_times_ms`` are the NetCon crossing times per trace, ``i_uA_cm2`` the injected
    current per sample (broadcast against ``v_mV``).
    """
    v = np.atleast_2d(np.asarray(v_mV, dtype=float))
    if len(spike_times_ms) != v.shape[0]:
        raise ValueError(f"{len(spike_times_ms)} spike trains for {v.shape[0]} voltage traces")
    rates = ionic_rate(v, i_uA_cm2, dt_ms, cm_uF_cm2)
    kept, rejected, upstrokes = [], [], []
    for times, rate in zip(spike_times_ms, rates, strict=True):
        times = np.asarray(times, dtype=float)
        up = upstroke_rates(times, rate, dt_ms)
        mask = accepted_mask(up, min_ionic_dvdt_mV_ms)
        kept.append(times[mask])
        rejected.append(times[~mask])
        upstrokes.append(up)
    return Detection(kept, rejected, upstrokes)


def step_current(run: StepRun) -> np.ndarray:
    """Injected current density [n_sweeps, n_samples] (uA/cm2) of a step run, per sample.

    Sample k (applied during [k dt, (k+1) dt)) carries the amplitude from the step's first
    sample, delay/dt, to the one before (delay + duration)/dt (NEURON's IClamp timing).
    """
    n = run.v_full_mV.shape[1]
    k_on = round(run.step_start_ms / run.dt_ms)
    k_off = round(run.step_end_ms / run.dt_ms)
    on = np.zeros(n)
    on[k_on:k_off] = 1.0
    return run.amps_uA_cm2[:, None] * on[None, :]


def detect_steps(run: StepRun, min_ionic_dvdt_mV_ms: float) -> tuple[StepRun, Detection]:
    """The step run with only accepted spikes, and the detection record."""
    found = detect(
        run.spike_times_ms,
        run.v_full_mV,
        step_current(run),
        run.dt_ms,
        run.params.cm_uF_cm2,
        min_ionic_dvdt_mV_ms,
    )
    return dataclasses.replace(run, spike_times_ms=found.spike_times_ms), found


def detect_single(run: SingleRun, min_ionic_dvdt_mV_ms: float) -> tuple[SingleRun, Detection]:
    """A spontaneous or noise run with only accepted spikes, and the detection record."""
    found = detect(
        [run.spike_times_ms],
        run.v_full_mV[None, :],
        run.i_uA_cm2[None, :],
        run.dt_ms,
        run.params.cm_uF_cm2,
        min_ionic_dvdt_mV_ms,
    )
    return dataclasses.replace(run, spike_times_ms=found.spike_times_ms[0]), found
