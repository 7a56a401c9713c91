"""Paired-by-seed statistics of a difference between two sets of runs.

Runs of two conditions (or scenarios, or models) that share a seed share their initial
weights and data order, so each seed gives one difference d_i = a_i - b_i:

* mean difference and its two-sided t interval, mean(d) +- t_{(1+c)/2, n-1} sd(d) / sqrt(n)
  (n >= 2; the interval is empty for one seed);
* Hedges' g_av (Lakens 2013, "d_av" with Hedges' small-sample correction): the mean
  difference over the average of the two groups' SDs, sqrt((sd_a^2 + sd_b^2) / 2), times
  J = 1 - 3 / (4 df - 1) with df = 2 (n - 1). It expresses the change in units of the
  seed-to-seed spread of the runs themselves (empty for n < 2 or when both SDs are 0);
* a paired t-test p-value only from ``min_n_p_value`` paired seeds on (config).

:func:`mean_interval` gives the same t interval for one group's mean (the figures' bars).

Seeds present on one side only are left out and counted (``n_unpaired``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

#: A spread below this fraction of the values' magnitude is rounding error, not spread: the
#: standardised effect would be a ratio of noise (1e15 for identical seeds-to-seed offsets).
ZERO_SPREAD_REL = 1e-9


@dataclass(frozen=True)
class PairedStats:
    """One paired comparison; every undefined number is None with ``note`` saying why."""

    n: int
    n_unpaired: int
    mean_a: float | None
    mean_b: float | None
    mean_diff: float | None
    sd_diff: float | None
    ci_low: float | None
    ci_high: float | None
    hedges_g: float | None
    p_value: float | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hedges_correction(df: int) -> float:
    """Hedges' small-sample factor J = 1 - 3 / (4 df - 1)."""
    if df < 1:
        raise ValueError(f"hedges_correction: df must be >= 1, got {df}")
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def hedges_g_av(a: np.ndarray, b: np.ndarray) -> float | None:
    """Hedges' g_av of paired samples ``a`` and ``b`` (same length >= 2); None when both
    samples have zero spread."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.size < 2:
        raise ValueError("hedges_g_av: two paired samples of equal length >= 2 needed")
    s_av = math.sqrt((np.var(a, ddof=1) + np.var(b, ddof=1)) / 2.0)
    magnitude = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    if s_av <= ZERO_SPREAD_REL * magnitude:
        return None
    return float(np.mean(a - b) / s_av * hedges_correction(2 * (a.size - 1)))


def paired_stats(
    a: Mapping[int, float],
    b: Mapping[int, float],
    confidence: float = 0.95,
    min_n_p_value: int = 5,
) -> PairedStats:
    """Statistics of a - b over the seeds both mappings hold (seed -> value)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"paired_stats: confidence must lie in (0, 1), got {confidence}")
    seeds = sorted(set(a) & set(b))
    n_unpaired = len(set(a) ^ set(b))
    notes = []
    if n_unpaired:
        notes.append(f"{n_unpaired} unpaired seed(s) left out")
    n = len(seeds)
    if n == 0:
        notes.insert(0, "no paired seeds")
        return PairedStats(0, n_unpaired, *([None] * 8), note="; ".join(notes))
    xa = np.array([a[s] for s in seeds], dtype=float)
    xb = np.array([b[s] for s in seeds], dtype=float)
    d = xa - xb
    mean_diff = float(d.mean())
    sd_diff = ci_low = ci_high = g = p = None
    if n >= 2:
        sd_diff = float(d.std(ddof=1))
        interval = mean_interval(d, confidence)
        ci_low, ci_high = interval.ci_low, interval.ci_high
        g = hedges_g_av(xa, xb)
        if g is None:
            notes.append("no Hedges' g: both groups have zero spread")
    else:
        notes.append("n = 1: no interval, no effect size")
    if n >= min_n_p_value:
        if sd_diff is not None and sd_diff <= ZERO_SPREAD_REL * abs(mean_diff):
            notes.append("no p-value: all paired differences equal")
        else:
            p = float(sps.ttest_rel(xa, xb).pvalue)
    else:
        notes.append(f"n < {min_n_p_value}: no p-value")
    return PairedStats(
        n=n,
        n_unpaired=n_unpaired,
        mean_a=float(xa.mean()),
        mean_b=float(xb.mean()),
        mean_diff=mean_diff,
        sd_diff=sd_diff,
        ci_low=ci_low,
        ci_high=ci_high,
        hedges_g=g,
        p_value=p,
        note="; ".join(notes),
    )


@dataclass(frozen=True)
class MeanInterval:
    """Mean over seeds and its two-sided t interval (None for one seed)."""

    n: int
    mean: float
    ci_low: float | None
    ci_high: float | None


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> MeanInterval:
    """Mean of ``values`` (one per seed) with mean +- t_{(1+c)/2, n-1} sd / sqrt(n)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"mean_interval: confidence must lie in (0, 1), got {confidence}")
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("mean_interval: no values")
    mean = float(x.mean())
    if x.size < 2:
        return MeanInterval(1, mean, None, None)
    half = sps.t.ppf(0.5 + confidence / 2.0, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return MeanInterval(int(x.size), mean, mean - half, mean + half)
