"""The HH stage's validation data: noisy-current segments and the transient from rest.

The mapping stage judges each mapped model where the networks run (docs/mapping.md,
"Validation"): on Ornstein-Uhlenbeck current segments at several mean/SD levels, split into
fit segments (a fit may use them) and held-out segments (only the judgement sees them), and
on the first milliseconds after a step from rest. This module produces the HH side of both
and writes ``validation.npz``:

- ``current_uA_cm2 [n_segments, n_samples]`` at ``dt_ms`` (sample k drives [k dt, (k+1) dt)),
  ``segment_level``, ``segment_set`` (0 fit, 1 held out), ``segment_index``;
- the HH spike times of every segment (``spike_times_ms`` with ``spike_segment``), and its
  voltage at ``store_dt_ms`` for figures;
- per step amplitude of the f-I protocol: spikes in each of ``transient_windows_ms`` after
  step onset and the first-spike latency (NaN: none in the longest window).

Each segment's current is drawn from ``SeedSequence([seed, level, index])``: a new
held-out seed changes the held-out currents only.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bridge.config.hh import ValidationConfig
from bridge.io import write_npz
from hh_models.params import HHParams
from hh_models.protocols import StepRun, decimation_factor, ou_current, run_played_currents
from hh_models.spikes import detect

#: ``segment_set`` codes.
FIT_SET = 0
HELDOUT_SET = 1
SET_NAMES = {FIT_SET: "fit", HELDOUT_SET: "heldout"}


@dataclass(frozen=True)
class Segments:
    """The validation currents of one configuration (identical for every condition)."""

    dt_ms: float
    current_uA_cm2: np.ndarray  #: [n_segments, n_samples]
    level: np.ndarray  #: [n_segments] index into levels_uA_cm2
    set_code: np.ndarray  #: [n_segments] FIT_SET or HELDOUT_SET
    index: np.ndarray  #: [n_segments] index within (level, set)


def validation_segments(cfg: ValidationConfig, dt_ms: float) -> Segments:
    """OU currents of every (level, set, segment), common to all conditions (same seeds)."""
    n_samples = round(cfg.segment_ms / dt_ms) + 1
    rows, level, set_code, index = [], [], [], []
    for li, (mean, sigma) in enumerate(cfg.levels_uA_cm2):
        for code, seed, count in (
            (FIT_SET, cfg.fit_seed, cfg.fit_segments),
            (HELDOUT_SET, cfg.heldout_seed, cfg.heldout_segments),
        ):
            for si in range(count):
                rng = np.random.default_rng(np.random.SeedSequence([seed, li, si]))
                rows.append(ou_current(n_samples, dt_ms, mean, sigma, cfg.tau_ms, rng))
                level.append(li)
                set_code.append(code)
                index.append(si)
    return Segments(
        dt_ms=dt_ms,
        current_uA_cm2=np.vstack(rows),
        level=np.asarray(level, dtype=np.int32),
        set_code=np.asarray(set_code, dtype=np.int32),
        index=np.asarray(index, dtype=np.int32),
    )


def transient_from_rest(
    steps: StepRun, windows_ms: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Spikes in each window after step onset [n_amps, n_windows] and first latency (ms).

    The latency is NaN where no spike falls in the longest window.
    """
    onset = steps.step_start_ms
    longest = max(windows_ms)
    counts = np.zeros((len(steps.spike_times_ms), len(windows_ms)), dtype=np.int64)
    latency = np.full(len(steps.spike_times_ms), np.nan)
    for i, spikes in enumerate(steps.spike_times_ms):
        after = np.asarray(spikes) - onset
        after = after[after >= 0.0]
        for j, window in enumerate(windows_ms):
            counts[i, j] = int(np.count_nonzero(after < window))
        if after.size and after[0] < longest:
            latency[i] = float(after[0])
    return counts, latency


def run_validation(
    params: HHParams,
    cfg: ValidationConfig,
    steps: StepRun,
    dt_ms: float,
    store_dt_ms: float,
    threshold_mV: float,
    min_ionic_dvdt_mV_ms: float,
    out_npz: Path,
    provenance: dict[str, Any],
) -> dict[str, Any]:
    """Simulate every segment in NEURON, write ``out_npz``; return a summary per level/set.

    Spikes need the regenerative upstroke of :func:`hh_models.spikes.detect`, as in every
    other HH protocol; ``steps`` must already be filtered the same way.
    """
    segments = validation_segments(cfg, dt_ms)
    run = run_played_currents(params, segments.current_uA_cm2, dt_ms, threshold_mV)
    found = detect(
        run.spike_times_ms,
        run.v_full_mV,
        run.i_uA_cm2,
        dt_ms,
        params.cm_uF_cm2,
        min_ionic_dvdt_mV_ms,
    )
    run = dataclasses.replace(run, spike_times_ms=found.spike_times_ms)
    k = decimation_factor(dt_ms, store_dt_ms)
    counts, latency = transient_from_rest(steps, cfg.transient_windows_ms)
    spike_segment = np.concatenate(
        [np.full(s.size, i, dtype=np.int32) for i, s in enumerate(run.spike_times_ms)]
    )
    write_npz(
        out_npz,
        dt_ms=np.float64(dt_ms),
        nA_per_uA_cm2=np.float64(params.density_to_nA(1.0)),
        store_dt_ms=np.float64(store_dt_ms),
        warmup_ms=np.float64(cfg.warmup_ms),
        segment_ms=np.float64(cfg.segment_ms),
        levels_uA_cm2=np.asarray(cfg.levels_uA_cm2, dtype=float),
        current_uA_cm2=segments.current_uA_cm2.astype(np.float32),
        segment_level=segments.level,
        segment_set=segments.set_code,
        segment_index=segments.index,
        spike_times_ms=np.concatenate(run.spike_times_ms),
        spike_segment=spike_segment,
        v_mV=run.v_full_mV[:, ::k].astype(np.float32),
        transient_windows_ms=np.asarray(cfg.transient_windows_ms, dtype=float),
        transient_amp_nA=np.asarray(steps.amps_nA, dtype=float),
        transient_counts=counts,
        transient_first_latency_ms=latency,
        provenance_json=np.array(json.dumps(provenance, sort_keys=True)),
    )
    scored_ms = cfg.segment_ms - cfg.warmup_ms
    summary: dict[str, Any] = {"levels_uA_cm2": [list(x) for x in cfg.levels_uA_cm2]}
    rates = []
    for li, (mean, sigma) in enumerate(cfg.levels_uA_cm2):
        for code, name in SET_NAMES.items():
            rows = np.flatnonzero((segments.level == li) & (segments.set_code == code))
            n = sum(int(np.count_nonzero(run.spike_times_ms[r] >= cfg.warmup_ms)) for r in rows)
            rate = n / (rows.size * scored_ms / 1000.0) if rows.size else None
            rates.append(
                {
                    "level": li,
                    "mean_uA_cm2": mean,
                    "sigma_uA_cm2": sigma,
                    "set": name,
                    "segments": int(rows.size),
                    "n_spikes": n,
                    "rate_hz": rate,
                }
            )
    summary["rates"] = rates
    summary["rejected_crossings"] = int(sum(t.size for t in found.rejected_times_ms))
    return summary
