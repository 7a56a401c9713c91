"""The timing-optimised LIF: the best coincidence factor the model class reaches.

The mapping's LIF is fitted to the f-I curve. To tell a poor fit from a model class that
cannot follow the HH cell's spike timing, this grid search picks, on the **fit segments
only**, the LIF (tau, w, resting drive b / (1 - beta)) with the highest coincidence factor
at the hit window, averaged over the levels (a level that is not evaluable scores 0: a
model firing past the chance limit predicts nothing). The chosen LIF is then scored on the
held-out segments by :func:`bridge.mapping.validation.level_scores`, beside the f-I fit.
It never replaces the f-I fit downstream: it is a ceiling, not a mapping.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from bridge.config.mapping import TimingFitConfig, ValidationScoreConfig
from bridge.mapping.validation import (
    FIT_SET,
    HELDOUT_SET,
    ValidationData,
    coincidence_factor,
    heldout_level_scores,
    lif_run,
    lif_runs,
    match_spikes,
    step_average,
    summarise_levels,
)

#: Parameter sets simulated at once (bounds the [sets, segments] state arrays).
CHUNK_SETS = 1024


def _grid(cfg: TimingFitConfig) -> np.ndarray:
    taus = np.geomspace(*cfg.tau_bounds_ms, cfg.tau_points)
    ws = np.geomspace(*cfg.w_bounds_per_nA, cfg.w_points)
    drives = np.linspace(*cfg.drive_bounds, cfg.drive_points)
    return np.array(list(itertools.product(taus, ws, drives)))


def _fit_score(
    times: list[np.ndarray],
    hh: list[np.ndarray],
    levels: np.ndarray,
    data: ValidationData,
    cfg: ValidationScoreConfig,
) -> float:
    """Mean over levels of the coincidence factor at the hit window (not evaluable: 0)."""
    window = cfg.hit_window_ms
    scores = []
    for level in np.unique(levels):
        rows = np.flatnonzero(levels == level)
        model = [np.asarray(times[r]) for r in rows]
        model = [m[m >= data.warmup_ms] for m in model]
        n_coinc = sum(len(match_spikes(hh[r], m, window)) for r, m in zip(rows, model, strict=True))
        n_hh = sum(hh[r].size for r in rows)
        n_model = sum(m.size for m in model)
        duration = rows.size * (data.segment_ms - data.warmup_ms)
        gamma, _ = coincidence_factor(
            n_coinc, n_hh, n_model, duration, window, cfg.max_chance_coincidence
        )
        scores.append(0.0 if gamma is None else gamma)
    return float(np.mean(scores))


def timing_optimised_lif(
    data: ValidationData, cfg: ValidationScoreConfig, dt_ms: float
) -> dict[str, Any]:
    """Grid-search the LIF on the fit segments; score the best one on the held-out ones."""
    fit_rows = np.flatnonzero(data.segment_set == FIT_SET)
    if fit_rows.size == 0:
        return {"evaluable": False, "reason": "no fit segments (hh.validation.fit_segments 0)"}
    grid = _grid(cfg.timing_fit)
    i_fit = step_average(
        data.current_uA_cm2[fit_rows] * data.nA_per_uA_cm2, data.dt_ms, dt_ms, data.source
    )
    hh_fit = [data.spikes_ms[r][data.spikes_ms[r] >= data.warmup_ms] for r in fit_rows]
    levels = data.segment_level[fit_rows]
    settle = round(cfg.model_settle_ms / dt_ms)
    beta_all = np.exp(-dt_ms / grid[:, 0])
    bias_all = grid[:, 2] * (1.0 - beta_all)
    scores = np.empty(len(grid))
    for start in range(0, len(grid), CHUNK_SETS):
        sl = slice(start, min(len(grid), start + CHUNK_SETS))
        times, _ = lif_runs(beta_all[sl], grid[sl, 1], bias_all[sl], i_fit, dt_ms, settle)
        for j, t in enumerate(times):
            scores[start + j] = _fit_score(t, hh_fit, levels, data, cfg)
    best = int(np.argmax(scores))
    tau, w, drive = (float(x) for x in grid[best])
    beta, bias = float(beta_all[best]), float(bias_all[best])

    held = np.flatnonzero(data.segment_set == HELDOUT_SET)
    i_held = step_average(
        data.current_uA_cm2[held] * data.nA_per_uA_cm2, data.dt_ms, dt_ms, data.source
    )
    spikes, _ = lif_run(beta, w, bias, i_held, dt_ms, settle)
    rows = heldout_level_scores(data, spikes, cfg)
    return {
        "evaluable": True,
        "step_ms": dt_ms,
        "tau_ms": tau,
        "beta": beta,
        "w_per_nA": w,
        "bias": bias,
        "resting_drive": drive,
        "fit_score": float(scores[best]),
        "grid_sets": int(len(grid)),
        "at_grid_edge": [
            name
            for name, value, (lo, hi) in (
                ("tau_ms", tau, cfg.timing_fit.tau_bounds_ms),
                ("w_per_nA", w, cfg.timing_fit.w_bounds_per_nA),
                ("resting_drive", drive, cfg.timing_fit.drive_bounds),
            )
            if np.isclose(value, lo) or np.isclose(value, hi)
        ],
        "levels": rows,
        "summary": summarise_levels(rows, cfg),
    }
