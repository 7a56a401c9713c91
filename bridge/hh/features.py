"""Spike statistics of HH sweeps: eFEL features, f-I curve, rheobases, block, rest, tau_m.

Spikes are counted in two ways that share one threshold (``hh.spike_threshold_mV``):
NetCon upward crossings (exact times; the f-I curve, rheobases, block) and eFEL peaks
(the feature columns). They can differ by one at a window edge, when a crossing falls
just inside the window and its peak just outside.

eFEL runs with ``Threshold`` = the shared threshold, ``interp_step`` = the simulation dt
(the trace is used at its own resolution), and ``strict_stiminterval`` on, so every
feature describes only the analysis window [stim_start, stim_end] (the step for step
sweeps, the whole run for the spontaneous and noise runs). Feature columns (unit, eFEL name):

- ``spike_count``              eFEL ``spike_count``: peaks in the window
- ``mean_frequency_hz``        eFEL ``mean_frequency`` = n / (last peak - stim_start);
                               null with < 2 spikes (one spike gives no frequency)
- ``isi_cv``                   eFEL ``ISI_CV`` (first ISI ignored): null with < 4 spikes
- ``ap_amplitude_mV``          mean of eFEL ``AP_amplitude`` (peak - AP onset); null: 0 spikes
- ``time_to_first_spike_ms``   eFEL ``time_to_first_spike`` (first peak - stim_start)
- ``adaptation_index``         eFEL ``adaptation_index2``: null with < 4 spikes
- ``burst_number``             eFEL ``burst_number``: null when eFEL cannot decide
                               (fewer than 4 ISIs after the first, where it returns 0)

Undefined values are None (empty in CSV), never NaN and never a made-up 0; ``n_spikes``
and ``spike_count`` stand beside them.

Spikes are the crossings ``hh_models.spikes`` accepts (a regenerative upstroke, not a
passive crossing). eFEL finds its peaks from the threshold alone, so in a window holding a
rejected crossing its feature columns are null and ``spike_count`` is the accepted NetCon
count (a gnabar-0 cell's passive crossing is no spike, and has no AP amplitude).

Depolarisation block (issue 2): no spike in the last ``block.window_ms`` of the step after
at least ``block.min_spikes`` spikes earlier in the step, with the mean V over that last
window above ``block.v_mean_above_mV``. A single-spike sweep is therefore never block.
eFEL's own ``depol_block_bool`` uses another criterion (time above AP onset), so this
definition is computed here from the NetCon spikes and the trace.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import efel
import numpy as np

from bridge.contracts import EXCITABILITY_STATUSES
from hh_models.protocols import SingleRun, StepRun, spike_counts_in_window

log = logging.getLogger(__name__)

#: feature column -> eFEL feature name
EFEL_FEATURES: dict[str, str] = {
    "spike_count": "spike_count",
    "mean_frequency_hz": "mean_frequency",
    "isi_cv": "ISI_CV",
    "ap_amplitude_mV": "AP_amplitude",
    "time_to_first_spike_ms": "time_to_first_spike",
    "adaptation_index": "adaptation_index2",
    "burst_number": "burst_number",
}
FEATURE_COLUMNS = tuple(EFEL_FEATURES)
#: eFEL's burst detection needs this many ISIs (first ISI excluded); below it, it returns 0.
EFEL_BURST_MIN_ISIS = 4
#: A frequency needs at least one interval.
MIN_SPIKES_FOR_FREQUENCY = 2


@dataclass(frozen=True)
class BlockCriterion:
    """Depolarisation-block test (config ``hh.block``)."""

    window_ms: float
    min_spikes: int
    v_mean_above_mV: float

    @classmethod
    def from_config(cls, block_cfg: Mapping[str, Any]) -> BlockCriterion:
        return cls(
            window_ms=float(block_cfg["window_ms"]),
            min_spikes=int(block_cfg["min_spikes"]),
            v_mean_above_mV=float(block_cfg["v_mean_above_mV"]),
        )


@contextmanager
def _efel_settings(threshold_mV: float, dt_ms: float):
    """Configure eFEL's global settings for one batch of traces; quiet its expected warnings."""
    efel.reset()
    efel.set_setting("Threshold", float(threshold_mV))
    efel.set_setting("interp_step", float(dt_ms))
    efel.set_setting("strict_stiminterval", True)
    efel_logger = logging.getLogger("efel")
    level = efel_logger.level
    # eFEL logs a warning for every sweep with too few spikes for bursts: expected here.
    efel_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # eFEL's burst code calls its own deprecated ISI_values()
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        efel_logger.setLevel(level)
        efel.reset()


def _scalar(values: Any, reduce_mean: bool = False) -> float | None:
    """eFEL's array result -> one finite float, or None when eFEL gave nothing usable."""
    if values is None:
        return None
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        return None
    value = float(arr.mean()) if reduce_mean else float(arr[0])
    return value + 0.0  # -0.0 -> 0.0


def efel_features(
    t_ms: np.ndarray,
    v_traces_mV: Sequence[np.ndarray],
    windows_ms: Sequence[tuple[float, float]],
    threshold_mV: float,
    dt_ms: float,
) -> list[dict[str, float | int | None]]:
    """eFEL feature columns (see module doc) for each trace and its analysis window."""
    traces = [
        {"T": t_ms, "V": np.asarray(v, dtype=float), "stim_start": [start], "stim_end": [end]}
        for v, (start, end) in zip(v_traces_mV, windows_ms, strict=True)
    ]
    names = sorted(set(EFEL_FEATURES.values()) | {"all_ISI_values"})
    with _efel_settings(threshold_mV, dt_ms):
        raw = efel.get_feature_values(traces, names, raise_warnings=False)
    rows = []
    for values in raw:
        count = _scalar(values["spike_count"])
        n = int(count) if count is not None else 0
        all_isi = values["all_ISI_values"]
        # eFEL's burst code drops the first ISI (ignore_first_ISI, on by default)
        n_isi = 0 if all_isi is None else max(len(all_isi) - 1, 0)
        row: dict[str, float | int | None] = {
            "spike_count": n,
            "mean_frequency_hz": (
                _scalar(values["mean_frequency"]) if n >= MIN_SPIKES_FOR_FREQUENCY else None
            ),
            "isi_cv": _scalar(values["ISI_CV"]),
            "ap_amplitude_mV": _scalar(values["AP_amplitude"], reduce_mean=True) if n else None,
            "time_to_first_spike_ms": _scalar(values["time_to_first_spike"]) if n else None,
            "adaptation_index": _scalar(values["adaptation_index2"]),
            "burst_number": (
                int(_scalar(values["burst_number"]) or 0)
                if n_isi >= EFEL_BURST_MIN_ISIS and values["burst_number"] is not None
                else None
            ),
        }
        rows.append(row)
    return rows


def _window_slice(t_ms: np.ndarray, start_ms: float, end_ms: float) -> slice:
    """Samples with start <= t < end."""
    i0 = int(np.searchsorted(t_ms, start_ms - 1e-9, side="left"))
    i1 = int(np.searchsorted(t_ms, end_ms - 1e-9, side="left"))
    return slice(i0, i1)


@dataclass(frozen=True)
class LastWindow:
    """Spikes and voltage in the last part of the step (the block window)."""

    start_ms: float
    end_ms: float
    n_spikes_before: np.ndarray  #: spikes in the step before the window
    n_spikes_in: np.ndarray
    v_mean_mV: np.ndarray
    v_ptp_mV: np.ndarray  #: max - min V in the window (subthreshold oscillation size)


def last_window(run: StepRun, criterion: BlockCriterion) -> LastWindow:
    start = max(run.step_start_ms, run.step_end_ms - criterion.window_ms)
    end = run.step_end_ms
    sl = _window_slice(run.t_full_ms, start, end)
    v = run.v_full_mV[:, sl]
    return LastWindow(
        start_ms=start,
        end_ms=end,
        n_spikes_before=spike_counts_in_window(run.spike_times_ms, run.step_start_ms, start),
        n_spikes_in=spike_counts_in_window(run.spike_times_ms, start, end),
        v_mean_mV=v.mean(axis=1),
        v_ptp_mV=v.max(axis=1) - v.min(axis=1),
    )


def block_flags(run: StepRun, criterion: BlockCriterion) -> np.ndarray:
    """Depolarisation block per sweep (definition in the module doc)."""
    w = last_window(run, criterion)
    return (
        (w.n_spikes_before >= criterion.min_spikes)
        & (w.n_spikes_in == 0)
        & (w.v_mean_mV > criterion.v_mean_above_mV)
    )


def sustained_flags(run: StepRun, criterion: BlockCriterion) -> np.ndarray:
    """Sustained (repetitive) firing per sweep.

    Sustained = at least 2 spikes in the step AND at least one of them in the last
    ``block.window_ms`` of the step, i.e. the firing outlasts the onset transient and is
    still going when the step ends (the complement of block in that window).
    """
    w = last_window(run, criterion)
    in_step = spike_counts_in_window(run.spike_times_ms, run.step_start_ms, run.step_end_ms)
    return (in_step >= MIN_SPIKES_FOR_FREQUENCY) & (w.n_spikes_in >= 1)


@dataclass(frozen=True)
class Threshold:
    """A rheobase-like amplitude (uA/cm2 and nA) or None with the reason."""

    amp_uA_cm2: float | None
    amp_nA: float | None
    reason: str | None = None


def first_amplitude(
    amps_uA_cm2: np.ndarray, amps_nA: np.ndarray, hits: np.ndarray, what: str
) -> Threshold:
    """The lowest amplitude where ``hits`` is true.

    None when no amplitude qualifies, and also when the lowest amplitude of the grid
    already does: the true value then lies below the grid and is unknown.
    """
    idx = np.flatnonzero(hits)
    if idx.size == 0:
        return Threshold(None, None, f"no amplitude up to {amps_uA_cm2.max():g} uA/cm2 {what}")
    if idx[0] == 0:
        return Threshold(
            None,
            None,
            f"already {what} at the lowest amplitude of the grid ({amps_uA_cm2[0]:g} uA/cm2): "
            "the threshold lies below the grid",
        )
    return Threshold(float(amps_uA_cm2[idx[0]]), float(amps_nA[idx[0]]))


def rheobase_single(run: StepRun) -> Threshold:
    """First amplitude with >= 1 spike inside the step window."""
    counts = spike_counts_in_window(run.spike_times_ms, run.step_start_ms, run.step_end_ms)
    return first_amplitude(run.amps_uA_cm2, run.amps_nA, counts >= 1, "fires in the step")


def rheobase_repetitive(run: StepRun, criterion: BlockCriterion) -> Threshold:
    """First amplitude with sustained firing (see :func:`sustained_flags`)."""
    return first_amplitude(
        run.amps_uA_cm2, run.amps_nA, sustained_flags(run, criterion), "fires repetitively"
    )


def block_onset(run: StepRun, criterion: BlockCriterion) -> Threshold:
    """First amplitude whose sweep is in depolarisation block."""
    flags = block_flags(run, criterion)
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return Threshold(
            None, None, f"no sweep in depolarisation block up to {run.amps_uA_cm2.max():g} uA/cm2"
        )
    return Threshold(float(run.amps_uA_cm2[idx[0]]), float(run.amps_nA[idx[0]]))


def fi_table(run: StepRun, criterion: BlockCriterion) -> dict[str, np.ndarray | list]:
    """Columns of fi_curve.csv (:data:`bridge.contracts.FI_COLUMNS`), ascending amplitude."""
    start, end = run.step_start_ms, run.step_end_ms
    counts = spike_counts_in_window(run.spike_times_ms, start, end)
    latency: list[float | None] = []
    for spikes in run.spike_times_ms:
        inside = spikes[(spikes >= start) & (spikes < end)]
        latency.append(float(inside[0] - start) if inside.size else None)
    return {
        "amp_uA_cm2": run.amps_uA_cm2,
        "amp_nA": run.amps_nA,
        "spike_count": counts,
        "n_spikes": np.array([s.size for s in run.spike_times_ms], dtype=int),
        "rate_hz": counts / (run.protocol.duration_ms / 1000.0),
        "first_spike_latency_ms": latency,
        "block": block_flags(run, criterion),
    }


@dataclass(frozen=True)
class RestState:
    """No-input run summary (mV, Hz). v_rest_mV is None when the cell fires on its own."""

    spontaneous: bool
    n_spikes: int
    rate_hz: float
    v_rest_mV: float | None
    v_mean_mV: float
    v_min_mV: float
    v_max_mV: float
    analysed_from_ms: float
    analysed_ms: float


def rest_state(run: SingleRun, settle_ms: float) -> RestState:
    """Spontaneous = at least one spike after ``settle_ms`` with no input.

    The resting potential is the mean V after ``settle_ms`` of a silent run; a cell that
    fires has none (its mean and minimum V are given instead).
    """
    t = run.t_full_ms
    if settle_ms >= run.duration_ms:
        raise ValueError(
            f"hh.spontaneous.settle_ms = {settle_ms} must be shorter than the run "
            f"({run.duration_ms} ms)"
        )
    v = run.v_full_mV[_window_slice(t, settle_ms, run.duration_ms + run.dt_ms)]
    n = int(np.count_nonzero(run.spike_times_ms >= settle_ms))
    analysed = run.duration_ms - settle_ms
    return RestState(
        spontaneous=n > 0,
        n_spikes=n,
        rate_hz=n / (analysed / 1000.0),
        v_rest_mV=None if n > 0 else float(v.mean()),
        v_mean_mV=float(v.mean()),
        v_min_mV=float(v.min()),
        v_max_mV=float(v.max()),
        analysed_from_ms=settle_ms,
        analysed_ms=analysed,
    )


@dataclass(frozen=True)
class TimeConstant:
    tau_m_ms: float | None
    amp_uA_cm2: float | None
    reason: str | None = None


def membrane_time_constant(run: StepRun, rest: RestState) -> TimeConstant:
    """tau_m (ms): eFEL ``time_constant`` on the smallest hyperpolarising step.

    eFEL fits an exponential to the voltage decay from 10 samples after the step onset
    to the plateau. The smallest-magnitude negative amplitude of the grid keeps the
    response closest to linear. Undefined (None + reason) when the cell fires at rest,
    the grid has no negative amplitude, the sweep spikes, or eFEL finds no decay.
    """
    if rest.spontaneous:
        return TimeConstant(None, None, "cell fires without input: no resting state to perturb")
    negative = np.flatnonzero(run.amps_uA_cm2 < 0)
    if negative.size == 0:
        return TimeConstant(None, None, "no hyperpolarising (negative) amplitude in the grid")
    i = int(negative[np.argmax(run.amps_uA_cm2[negative])])
    amp = float(run.amps_uA_cm2[i])
    if run.spike_times_ms[i].size:
        return TimeConstant(None, amp, f"the {amp:g} uA/cm2 sweep spikes")
    trace = {
        "T": run.t_full_ms,
        "V": run.v_full_mV[i],
        "stim_start": [run.step_start_ms],
        "stim_end": [run.step_end_ms],
    }
    with _efel_settings(run.threshold_mV, run.dt_ms):
        values = efel.get_feature_values([trace], ["time_constant"], raise_warnings=False)[0]
    tau = _scalar(values["time_constant"])
    if tau is None or tau <= 0 or not math.isfinite(tau):
        return TimeConstant(None, amp, f"eFEL found no exponential decay at {amp:g} uA/cm2")
    return TimeConstant(tau, amp)


def _without_passive_crossings(
    features: dict[str, Any], rejected_ms: np.ndarray | None, window: tuple[float, float], n: int
) -> dict[str, Any]:
    """eFEL's columns, or nulls with the accepted count ``n`` when the window holds a
    rejected (passive) crossing that eFEL would count as a spike (module doc)."""
    if rejected_ms is None:
        return features
    inside = np.count_nonzero((rejected_ms >= window[0]) & (rejected_ms < window[1]))
    if inside == 0:
        return features
    return {column: (n if column == "spike_count" else None) for column in FEATURE_COLUMNS}


def step_feature_rows(
    run: StepRun,
    criterion: BlockCriterion,
    rejected_ms: Sequence[np.ndarray] | None = None,
) -> list[dict[str, Any]]:
    """features.csv rows of the step sweeps (``rejected_ms``: passive crossings per sweep)."""
    windows = [(run.step_start_ms, run.step_end_ms)] * len(run.amps_uA_cm2)
    feats = efel_features(run.t_full_ms, list(run.v_full_mV), windows, run.threshold_mV, run.dt_ms)
    w = last_window(run, criterion)
    block = block_flags(run, criterion)
    in_step = spike_counts_in_window(run.spike_times_ms, run.step_start_ms, run.step_end_ms)
    rows = []
    for i, f in enumerate(feats):
        f = _without_passive_crossings(
            f, None if rejected_ms is None else rejected_ms[i], windows[i], int(in_step[i])
        )
        if f["spike_count"] != in_step[i]:
            log.debug(
                "sweep %g uA/cm2: eFEL counts %s peaks, NetCon %d crossings in the step",
                run.amps_uA_cm2[i],
                f["spike_count"],
                in_step[i],
            )
        rows.append(
            {
                "protocol": "step",
                "sweep": i,
                "amp_uA_cm2": float(run.amps_uA_cm2[i]),
                "amp_nA": float(run.amps_nA[i]),
                "window_start_ms": run.step_start_ms,
                "window_end_ms": run.step_end_ms,
                "n_spikes": int(run.spike_times_ms[i].size),
                "n_spikes_window": int(in_step[i]),
                **f,
                "block": bool(block[i]),
                "v_mean_last_window_mV": float(w.v_mean_mV[i]),
                "v_ptp_last_window_mV": float(w.v_ptp_mV[i]),
            }
        )
    return rows


def single_run_row(
    run: SingleRun, protocol: str, start_ms: float = 0.0, rejected_ms: np.ndarray | None = None
) -> dict[str, Any]:
    """features.csv row of a spontaneous or noise run (window = whole run after start;
    ``rejected_ms``: its passive crossings)."""
    end = run.duration_ms
    f = efel_features(
        run.t_full_ms, [run.v_full_mV], [(start_ms, end)], run.threshold_mV, run.dt_ms
    )
    n_window = int(np.count_nonzero(run.spike_times_ms >= start_ms))
    f[0] = _without_passive_crossings(f[0], rejected_ms, (start_ms, end + run.dt_ms), n_window)
    return {
        "protocol": protocol,
        "sweep": 0,
        "amp_uA_cm2": None,
        "amp_nA": None,
        "window_start_ms": start_ms,
        "window_end_ms": end,
        "n_spikes": int(run.spike_times_ms.size),
        "n_spikes_window": n_window,
        **f[0],
        "block": None,
        "v_mean_last_window_mV": None,
        "v_ptp_last_window_mV": None,
    }


#: The rule of each HH-level status (``bridge.contracts.EXCITABILITY_STATUSES``), in order
#: of precedence: a cell gets the first that applies (``excitability``).
EXCITABILITY_RULES = {
    "never_fires": "no spike in any step window and none in the no-input run",
    "block_at_rest": (
        "the no-input run fires, then its last block.window_ms holds no spike with mean V "
        "above block.v_mean_above_mV (depolarised and silent at rest)"
    ),
    "spontaneous": (
        "fires repetitively without input: >= 2 spikes in the no-input run and >= 1 in its "
        "last block.window_ms"
    ),
    "onset_only": (
        "silent at rest and fires in some step, but no step sweep fires repetitively "
        "(>= 2 spikes with >= 1 in the last block.window_ms of the step): onset spikes only"
    ),
    "silent_at_rest": "silent at rest (or back at a hyperpolarised rest) and fires repetitively "
    "in some step",
}


if tuple(EXCITABILITY_RULES) != EXCITABILITY_STATUSES:
    raise RuntimeError("EXCITABILITY_RULES must define every contract status, in order")


@dataclass(frozen=True)
class Excitability:
    """HH-level excitability of one cell (``EXCITABILITY_RULES``); V in mV."""

    status: str
    n_firing_sweeps: int  #: step sweeps with >= 1 spike in the step window
    n_sustained_sweeps: int  #: step sweeps that fire repetitively (``sustained_flags``)
    rest_n_spikes: int  #: spikes of the whole no-input run
    rest_last_window_n_spikes: int
    rest_last_window_v_mean_mV: float
    rest_last_window_start_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "rule": EXCITABILITY_RULES[self.status]}


def excitability(steps: StepRun, rest: SingleRun, criterion: BlockCriterion) -> Excitability:
    """Classify the cell from its step sweeps and its no-input run (first rule that applies).

    The no-input run's last window is the block window (``criterion.window_ms``, at most the
    whole run): a cell that fired and sits there depolarised and silent is in block at rest
    (e.g. gnabar 5 or gkbar 0.001), not spontaneous.
    """
    in_step = spike_counts_in_window(steps.spike_times_ms, steps.step_start_ms, steps.step_end_ms)
    n_firing = int(np.count_nonzero(in_step > 0))
    n_sustained = int(np.count_nonzero(sustained_flags(steps, criterion)))
    start = max(0.0, rest.duration_ms - criterion.window_ms)
    t = rest.t_full_ms
    v_last = rest.v_full_mV[_window_slice(t, start, rest.duration_ms + rest.dt_ms)]
    n_rest = int(rest.spike_times_ms.size)
    n_last = int(np.count_nonzero(rest.spike_times_ms >= start))
    v_mean_last = float(v_last.mean())
    if n_firing == 0 and n_rest == 0:
        status = "never_fires"
    elif n_rest > 0 and n_last == 0 and v_mean_last > criterion.v_mean_above_mV:
        status = "block_at_rest"
    elif n_rest >= MIN_SPIKES_FOR_FREQUENCY and n_last > 0:
        status = "spontaneous"
    elif n_sustained == 0:
        status = "onset_only"
    else:
        status = "silent_at_rest"
    return Excitability(
        status=status,
        n_firing_sweeps=n_firing,
        n_sustained_sweeps=n_sustained,
        rest_n_spikes=n_rest,
        rest_last_window_n_spikes=n_last,
        rest_last_window_v_mean_mV=v_mean_last,
        rest_last_window_start_ms=start,
    )
