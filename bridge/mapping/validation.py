"""The mapped models judged where the networks run: spike timing and the transient from rest.

Inputs: a condition's fitted LIF (beta, bias, the reference's gain w per nA) and MTC, and the
HH stage's ``validation.npz`` (:mod:`bridge.hh.validation`). Only the held-out segments are
scored; no fit reads this module.

- **Noisy current.** Each model is driven by the HH cell's current through its fitted gain:
  the LIF by the current averaged over each of its steps (``x_k = w * mean(I) + b``), its
  spike times placed inside the step by linear interpolation of U; the MTC by the current
  averaged over each Euler step. Both start at their zero-input rest (``model_settle_ms`` at
  zero input), as the HH cell does. The LIF runs at ``mapping.dt_ms`` and at ``fine_dt_ms``
  with the same continuous-time constants (beta' = beta^(dt'/dt), input per step scaled by
  (1 - beta')/(1 - beta) so the steady state is kept): the gap between the two is
  discretisation error, what the fine LIF still misses is the model class.
- **Scores per level** (spikes of all held-out segments after ``warmup_ms`` pooled): the
  coincidence factor (Kistler et al. 1997; Jolivet et al. 2008)
  ``Gamma = (N_coinc - 2 nu Delta N_hh) / (0.5 (N_hh + N_model)) / (1 - 2 nu Delta)``, nu the
  model's rate, coincidences matched one to one within +-Delta; not evaluable where
  ``2 nu Delta`` exceeds ``max_chance_coincidence`` or neither fires. The hit fraction (HH
  spikes matched within +-``hit_window_ms``), the spike-count ratio N_model / N_hh and the
  mean timing offset (model minus HH, matched pairs).
- **Transient from rest** (the autoencoder's regime): spikes in each of the HH stage's
  windows after a step from rest and the first-spike latency, per step amplitude. The LIF is
  also run from U = 0 (the autoencoder's initial state, not the LIF's own rest).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bridge.config.mapping import ValidationScoreConfig
from bridge.contracts import StageFileError
from bridge.mapping.lif import THRESHOLD, rest_run, simulate_steps
from bridge.neurons.mtc import (
    MTC_SPIKE_THRESHOLD_V,
    MTCParams,
    MTCState,
    mtc_fi_curve,
    mtc_rest_state,
    mtc_step,
)

MS_PER_S = 1000.0
#: ``segment_set`` codes of validation.npz (bridge.hh.validation writes them).
FIT_SET = 0
HELDOUT_SET = 1
#: Model keys of the scores: the LIF at mapping.dt_ms, the LIF at fine_dt_ms, the MTC.
MODELS = ("lif", "lif_fine", "mtc")
VALIDATION_KEYS = (
    "dt_ms",
    "nA_per_uA_cm2",
    "warmup_ms",
    "segment_ms",
    "levels_uA_cm2",
    "current_uA_cm2",
    "segment_level",
    "segment_set",
    "spike_times_ms",
    "spike_segment",
    "transient_windows_ms",
    "transient_amp_nA",
    "transient_counts",
    "transient_first_latency_ms",
    "v_mV",
    "store_dt_ms",
)
DEFINITIONS = {
    "gamma": "coincidence factor (Kistler 1997; Jolivet 2008) on held-out segments, no "
    "intrinsic-reliability normalisation; null with gamma_status where not evaluable",
    "hit_fraction": "HH spikes with a model spike within +-hit_window_ms (one to one)",
    "count_ratio": "model spikes / HH spikes on the held-out segments",
    "timing_offset_ms": "mean model minus HH spike time of the pairs matched within "
    "+-hit_window_ms",
    "transient": "spikes in each window after a step from rest, per amplitude; count_mae "
    "the mean |model - HH| over amplitudes; latency_mae_ms over amplitudes where both fire "
    "within the longest window",
}


#: Transient blocks of a model's scores and the flag each raises past the count-error limit.
TRANSIENT_FLAGS = (
    ("transient", "transient_mismatch"),
    ("transient_from_zero", "transient_mismatch_from_zero"),
)

# --- data --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationData:
    """The HH stage's validation.npz, checked."""

    dt_ms: float
    nA_per_uA_cm2: float
    warmup_ms: float
    segment_ms: float
    levels_uA_cm2: np.ndarray
    current_uA_cm2: np.ndarray  #: [n_segments, n_samples]
    segment_level: np.ndarray
    segment_set: np.ndarray
    spikes_ms: list[np.ndarray]  #: per segment
    transient_windows_ms: np.ndarray
    transient_amp_nA: np.ndarray
    transient_counts: np.ndarray  #: [n_amps, n_windows]
    transient_first_latency_ms: np.ndarray
    v_mV: np.ndarray  #: [n_segments, n_stored] at store_dt_ms, for figures
    store_dt_ms: float
    source: str

    def heldout(self, level: int) -> np.ndarray:
        """Segment rows of one level's held-out set."""
        return np.flatnonzero((self.segment_level == level) & (self.segment_set == HELDOUT_SET))


def read_validation(path: str | Path) -> ValidationData:
    """Load ``validation.npz``; StageFileError naming the file and the missing array."""
    path = Path(path)
    if not path.is_file():
        raise StageFileError.at(path, "missing (HH stage output)")
    with np.load(path) as npz:
        missing = [k for k in VALIDATION_KEYS if k not in npz.files]
        if missing:
            raise StageFileError.at(path, f"array(s) {missing} missing")
        data = {k: npz[k] for k in VALIDATION_KEYS}
    n_segments = data["current_uA_cm2"].shape[0]
    owner = data["spike_segment"]
    spikes = [np.sort(data["spike_times_ms"][owner == i]) for i in range(n_segments)]
    return ValidationData(
        dt_ms=float(data["dt_ms"]),
        nA_per_uA_cm2=float(data["nA_per_uA_cm2"]),
        warmup_ms=float(data["warmup_ms"]),
        segment_ms=float(data["segment_ms"]),
        levels_uA_cm2=data["levels_uA_cm2"],
        current_uA_cm2=data["current_uA_cm2"].astype(float),
        segment_level=data["segment_level"],
        segment_set=data["segment_set"],
        spikes_ms=spikes,
        transient_windows_ms=data["transient_windows_ms"],
        transient_amp_nA=data["transient_amp_nA"],
        transient_counts=data["transient_counts"],
        transient_first_latency_ms=data["transient_first_latency_ms"],
        v_mV=data["v_mV"],
        store_dt_ms=float(data["store_dt_ms"]),
        source=str(path),
    )


def step_average(current: np.ndarray, data_dt_ms: float, step_ms: float, source: str) -> np.ndarray:
    """Mean of ``current [n, n_samples]`` over each model step (the last sample is unused)."""
    ratio = step_ms / data_dt_ms
    per_step = round(ratio)
    n_intervals = current.shape[1] - 1
    if per_step < 1 or not math.isclose(per_step, ratio, rel_tol=1e-9):
        raise StageFileError.at(
            source, f"model step {step_ms} ms is not a multiple of the HH step {data_dt_ms} ms"
        )
    if n_intervals % per_step:
        raise StageFileError.at(
            source, f"segment of {n_intervals} HH steps is not a whole number of {step_ms} ms"
        )
    return current[:, :n_intervals].reshape(current.shape[0], -1, per_step).mean(axis=2)


# --- the models under the HH current --------------------------------------------------------


def lif_runs(
    beta: np.ndarray,
    w_per_nA: np.ndarray,
    bias: np.ndarray,
    i_nA: np.ndarray,
    dt_ms: float,
    settle_steps: int,
    record_trace: bool = False,
) -> tuple[list[list[np.ndarray]], np.ndarray | None]:
    """Spike times [set][segment] (ms from the first input step) of LIFs (one per parameter
    set, ``beta``/``w_per_nA``/``bias`` [sets]) driven by ``i_nA [segments, steps]``, and
    with ``record_trace`` their U [sets, segments, steps + 1] (threshold units).

    Each starts from its zero-input state after ``settle_steps``; a crossing during update k
    (input step k, 0-based) is placed at (k + frac) dt, frac interpolating U linearly.
    """
    beta, w, b = (np.atleast_1d(np.asarray(x, dtype=float)) for x in (beta, w_per_nA, bias))
    n_sets, (n_seg, n_steps) = beta.size, i_nA.shape
    u0, s0, _ = rest_run(beta, b, settle_steps)
    u = np.repeat(u0[:, None], n_seg, axis=1)
    spike = np.repeat(s0[:, None], n_seg, axis=1)
    trace = np.empty((n_sets, n_seg, n_steps + 1)) if record_trace else None
    if trace is not None:
        trace[:, :, 0] = u
    times: list[list[list[float]]] = [[[] for _ in range(n_seg)] for _ in range(n_sets)]
    for k in range(n_steps):
        before = u
        drive = w[:, None] * i_nA[None, :, k] + b[:, None]
        u = beta[:, None] * u + drive - spike  # reset of the previous step's spike, one step late
        spike = u > THRESHOLD
        if trace is not None:
            trace[:, :, k + 1] = u
        rows, cols = np.nonzero(spike)
        if rows.size:
            rise = u[rows, cols] - before[rows, cols]
            frac = np.clip((THRESHOLD - before[rows, cols]) / np.where(rise > 0, rise, 1.0), 0, 1)
            for r, c, f in zip(rows, cols, frac, strict=True):
                times[r][c].append((k + f) * dt_ms)
    return [[np.asarray(t) for t in per_set] for per_set in times], trace


def lif_run(
    beta: float, w_per_nA: float, bias: float, i_nA: np.ndarray, dt_ms: float, settle_steps: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`lif_runs` of one parameter set: spike times per segment and U [segments,
    steps + 1]."""
    times, trace = lif_runs(beta, w_per_nA, bias, i_nA, dt_ms, settle_steps, record_trace=True)
    return times[0], trace[0]


def fine_lif(beta: float, w_per_nA: float, bias: float, dt_ms: float, fine_dt_ms: float) -> tuple:
    """(beta', w', b') at ``fine_dt_ms`` with the same time constant and steady state."""
    beta_fine = beta ** (fine_dt_ms / dt_ms)
    scale = (1.0 - beta_fine) / (1.0 - beta) if beta < 1.0 else fine_dt_ms / dt_ms
    return beta_fine, w_per_nA * scale, bias * scale


def mtc_params_from(mtc: Mapping[str, Any]) -> MTCParams | None:
    """MTCParams from a mapping record's ``mtc`` dict; None where a value is missing."""
    values = {}
    for f in fields(MTCParams):
        value = mtc.get(f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        values[f.name] = float(value)
    return MTCParams(**values)


def mtc_run(
    params: MTCParams, i_nA: np.ndarray, step_ms: float, settle_steps: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """MTC spike times (ms) under ``i_nA [n, steps]`` and its V [n, steps + 1] (model units)."""
    x = torch.as_tensor(i_nA, dtype=torch.float64)
    n, n_steps = x.shape
    with torch.no_grad():
        rest = mtc_rest_state(params, (n,), 0.0, dtype=torch.float64)
        state = MTCState(*rest)
        zero = torch.zeros(n, dtype=torch.float64)
        for _ in range(settle_steps):
            _, state = mtc_step(zero, state, params)
        v = torch.empty(n, n_steps + 1, dtype=torch.float64)
        v[:, 0] = state.v
        for k in range(n_steps):
            _, state = mtc_step(x[:, k], state, params)
            v[:, k + 1] = state.v
    v_np = v.numpy()
    times = []
    thr = MTC_SPIKE_THRESHOLD_V
    for row in v_np:
        k = np.flatnonzero((row[:-1] < thr) & (row[1:] >= thr))
        frac = (thr - row[k]) / (row[k + 1] - row[k])
        times.append((k + frac) * step_ms)
    return times, v_np


# --- scores ------------------------------------------------------------------------------


def match_spikes(
    data_ms: np.ndarray, model_ms: np.ndarray, window_ms: float
) -> list[tuple[float, float]]:
    """One-to-one pairs (data, model) within +-window, greedy in time order (maximal)."""
    pairs = []
    j = 0
    for t in data_ms:
        while j < model_ms.size and model_ms[j] < t - window_ms:
            j += 1
        if j < model_ms.size and model_ms[j] <= t + window_ms:
            pairs.append((float(t), float(model_ms[j])))
            j += 1
    return pairs


def coincidence_factor(
    n_coinc: int,
    n_data: int,
    n_model: int,
    duration_ms: float,
    window_ms: float,
    max_chance: float,
) -> tuple[float | None, str]:
    """(Gamma, status): status 'ok', 'no_spikes' or 'chance_too_high' (Gamma None)."""
    if n_data + n_model == 0:
        return None, "no_spikes"
    chance = 2.0 * (n_model / duration_ms) * window_ms
    if chance > max_chance:
        return None, "chance_too_high"
    expected = chance * n_data
    return (n_coinc - expected) / (0.5 * (n_data + n_model)) / (1.0 - chance), "ok"


def _scored(times: np.ndarray, warmup_ms: float) -> np.ndarray:
    return times[times >= warmup_ms]


def level_scores(
    hh: Sequence[np.ndarray],
    model: Sequence[np.ndarray],
    duration_ms: float,
    warmup_ms: float,
    cfg: ValidationScoreConfig,
) -> dict[str, Any]:
    """Scores of one level, spikes of its held-out segments pooled."""
    scored_ms = len(hh) * (duration_ms - warmup_ms)
    hh_s = [_scored(np.asarray(t), warmup_ms) for t in hh]
    mo_s = [_scored(np.asarray(t), warmup_ms) for t in model]
    n_hh = int(sum(t.size for t in hh_s))
    n_model = int(sum(t.size for t in mo_s))
    gamma, status = {}, {}
    for window in cfg.windows_ms:
        n_coinc = sum(len(match_spikes(a, b, window)) for a, b in zip(hh_s, mo_s, strict=True))
        value, why = coincidence_factor(
            n_coinc, n_hh, n_model, scored_ms, window, cfg.max_chance_coincidence
        )
        gamma[f"{window:g}"] = value
        status[f"{window:g}"] = why
    pairs = [
        p for a, b in zip(hh_s, mo_s, strict=True) for p in match_spikes(a, b, cfg.hit_window_ms)
    ]
    return {
        "n_hh": n_hh,
        "n_model": n_model,
        "hh_rate_hz": n_hh / scored_ms * MS_PER_S,
        "model_rate_hz": n_model / scored_ms * MS_PER_S,
        "gamma": gamma,
        "gamma_status": status,
        "hit_fraction": len(pairs) / n_hh if n_hh else None,
        "count_ratio": n_model / n_hh if n_hh else None,
        "timing_offset_ms": float(np.mean([m - d for d, m in pairs])) if pairs else None,
    }


def heldout_level_scores(
    data: ValidationData, model_spikes_ms: Sequence[np.ndarray], cfg: ValidationScoreConfig
) -> list[dict[str, Any]]:
    """:func:`level_scores` of every level; ``model_spikes_ms`` follows the held-out rows."""
    heldout = np.flatnonzero(data.segment_set == HELDOUT_SET)
    rows = []
    for level in (int(x) for x in np.unique(data.segment_level)):
        sel = np.flatnonzero(data.segment_level[heldout] == level)
        mean, sigma = (float(x) for x in data.levels_uA_cm2[level])
        scores = level_scores(
            [data.spikes_ms[heldout[i]] for i in sel],
            [model_spikes_ms[i] for i in sel],
            data.segment_ms,
            data.warmup_ms,
            cfg,
        )
        rows.append({"level": level, "mean_uA_cm2": mean, "sigma_uA_cm2": sigma, **scores})
    return rows


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def summarise_levels(levels: Sequence[Mapping[str, Any]], cfg: ValidationScoreConfig) -> dict:
    """Means over levels of each score (not-evaluable levels left out, their count given)."""
    out: dict[str, Any] = {}
    for window in cfg.windows_ms:
        key = f"{window:g}"
        out[f"gamma_{key}ms"] = _mean([lv["gamma"][key] for lv in levels])
        out[f"gamma_{key}ms_levels"] = sum(lv["gamma"][key] is not None for lv in levels)
    for key in ("hit_fraction", "count_ratio", "timing_offset_ms"):
        out[key] = _mean([lv[key] for lv in levels])
    return out


def transient_scores(
    counts: np.ndarray,
    latency_ms: np.ndarray,
    hh_counts: np.ndarray,
    hh_latency_ms: np.ndarray,
    windows_ms: np.ndarray,
) -> dict[str, Any]:
    """Per-amplitude counts/latency and their errors against the HH cell's."""
    both = np.isfinite(latency_ms) & np.isfinite(hh_latency_ms)
    return {
        "counts": counts.tolist(),
        "first_latency_ms": [None if not np.isfinite(v) else float(v) for v in latency_ms],
        **{
            f"count_mae_{w:g}ms": float(np.mean(np.abs(counts[:, j] - hh_counts[:, j])))
            for j, w in enumerate(windows_ms)
        },
        "latency_mae_ms": float(np.mean(np.abs(latency_ms[both] - hh_latency_ms[both])))
        if both.any()
        else None,
        "fires_when_hh_fires": float(np.mean((counts[:, 0] > 0) == (hh_counts[:, 0] > 0))),
    }


def _lif_transient(
    beta: float,
    w: float,
    bias: float,
    amps_nA: np.ndarray,
    windows_ms: np.ndarray,
    dt_ms: float,
    settle_steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros((amps_nA.size, windows_ms.size), dtype=np.int64)
    latency = np.full(amps_nA.size, np.nan)
    for j, window in enumerate(windows_ms):
        n_step = max(1, round(window / dt_ms))
        response = simulate_steps(
            np.array([beta]), w, np.array([bias]), amps_nA, settle_steps, n_step, dt_ms
        )
        counts[:, j] = response.spike_count[0]
        if j == int(np.argmax(windows_ms)):
            latency = response.first_latency_ms[0]
    return counts, latency


def _mtc_transient(
    params: MTCParams,
    amps_nA: np.ndarray,
    windows_ms: np.ndarray,
    step_ms: float,
    settle_steps: int,
) -> tuple[np.ndarray, np.ndarray]:
    amps = torch.as_tensor(amps_nA, dtype=torch.float64)
    counts = np.zeros((amps_nA.size, windows_ms.size), dtype=np.int64)
    latency = np.full(amps_nA.size, np.nan)
    with torch.no_grad():
        for j, window in enumerate(windows_ms):
            fi = mtc_fi_curve(
                amps, params, max(1, round(window / step_ms)), settle_steps=settle_steps
            )
            counts[:, j] = fi.spike_count.numpy()
            if j == int(np.argmax(windows_ms)):
                first = fi.first_spike_time.numpy() * (step_ms / params.dt)
                latency = np.where(np.isfinite(first), first, np.nan)
    return counts, latency


@dataclass
class ModelRun:
    """One model's held-out spike trains (and, for the figure, its traces)."""

    spikes_ms: list[np.ndarray]
    trace: np.ndarray | None = None  #: [n_heldout, steps + 1]
    step_ms: float | None = None


def validate_condition(
    record: Mapping[str, Any],
    data: ValidationData,
    cfg: ValidationScoreConfig,
    lif_dt_ms: float,
    mtc_time_unit_ms: float,
) -> tuple[dict[str, Any], dict[str, ModelRun]]:
    """Scores of the LIF (two steps) and the MTC of one mapping record; and the runs.

    ``record`` is the condition's mapping dict before writing (flat LIF fields, ``mtc``).
    A model without fitted numbers is reported ``not_evaluable`` with the reason.
    """
    heldout = np.flatnonzero(data.segment_set == HELDOUT_SET)
    current_nA = data.current_uA_cm2[heldout] * data.nA_per_uA_cm2
    results: dict[str, Any] = {}
    runs: dict[str, ModelRun] = {}
    amps = np.asarray(data.transient_amp_nA, dtype=float)
    windows = np.asarray(data.transient_windows_ms, dtype=float)
    hh_counts = np.asarray(data.transient_counts)
    hh_latency = np.asarray(data.transient_first_latency_ms, dtype=float)

    beta, bias, w = (record.get(k) for k in ("beta_fit", "bias_fit", "w_per_nA"))
    lif_ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (beta, bias, w))
    for model, step in (("lif", lif_dt_ms), ("lif_fine", cfg.fine_dt_ms)):
        if not lif_ok:
            results[model] = {"evaluable": False, "reason": "no fitted beta_fit/bias_fit/w_per_nA"}
            continue
        b_m, w_m, bias_m = (
            (beta, w, bias) if model == "lif" else fine_lif(beta, w, bias, lif_dt_ms, step)
        )
        i_steps = step_average(current_nA, data.dt_ms, step, data.source)
        settle = round(cfg.model_settle_ms / step)
        spikes, u = lif_run(b_m, w_m, bias_m, i_steps, step, settle)
        runs[model] = ModelRun(spikes, u, step)
        results[model] = {
            "evaluable": True,
            "step_ms": step,
            "beta": b_m,
            "w_per_nA": w_m,
            "bias": bias_m,
        }
    if lif_ok:
        rest_c, rest_l = _lif_transient(
            beta, w, bias, amps, windows, lif_dt_ms, round(cfg.model_settle_ms / lif_dt_ms)
        )
        zero_c, zero_l = _lif_transient(beta, w, bias, amps, windows, lif_dt_ms, 0)
        results["lif"]["transient"] = transient_scores(
            rest_c, rest_l, hh_counts, hh_latency, windows
        )
        results["lif"]["transient_from_zero"] = transient_scores(
            zero_c, zero_l, hh_counts, hh_latency, windows
        )

    params = mtc_params_from(record.get("mtc") or {})
    if params is None:
        results["mtc"] = {"evaluable": False, "reason": "no fitted MTC parameters"}
    else:
        step = mtc_time_unit_ms * params.dt
        i_steps = step_average(current_nA, data.dt_ms, step, data.source)
        settle = round(cfg.model_settle_ms / step)
        spikes, v = mtc_run(params, i_steps, step, settle)
        runs["mtc"] = ModelRun(spikes, v, step)
        c, lat = _mtc_transient(params, amps, windows, step, settle)
        results["mtc"] = {
            "evaluable": True,
            "step_ms": step,
            "transient": transient_scores(c, lat, hh_counts, hh_latency, windows),
        }

    for model, run in runs.items():
        results[model]["levels"] = heldout_level_scores(data, run.spikes_ms, cfg)
        results[model]["summary"] = summarise_levels(results[model]["levels"], cfg)
    results["hh_transient"] = {
        "amp_nA": amps.tolist(),
        "windows_ms": windows.tolist(),
        "counts": hh_counts.tolist(),
        "first_latency_ms": [None if not np.isfinite(v) else float(v) for v in hh_latency],
    }
    return results, runs


def flags(
    results: Mapping[str, Any], cfg: ValidationScoreConfig, windows_ms: Sequence[float]
) -> dict:
    """Validation flags per model: timing_below_floor / timing_not_evaluable, and
    transient_mismatch (from the model's rest) / transient_mismatch_from_zero (the LIF from
    U = 0, where every autoencoder image starts)."""
    key = f"gamma_{cfg.hit_window_ms:g}ms"
    shortest = f"count_mae_{min(windows_ms):g}ms"
    out = {}
    for model in MODELS:
        res = results.get(model, {})
        found: list[str] = []
        if not res.get("evaluable"):
            found.append("timing_not_evaluable")
        else:
            gamma = res["summary"].get(key)
            if gamma is None:
                found.append("timing_not_evaluable")
            elif gamma < cfg.gamma_floor:
                found.append("timing_below_floor")
            for part, flag in TRANSIENT_FLAGS:
                transient = res.get(part)
                if transient is not None and transient[shortest] > cfg.transient_max_count_mae:
                    found.append(flag)
        out[model] = found
    return out
