"""Verdicts that can fail both ways, from paired-by-seed statistics.

Five verdicts (:data:`VERDICTS`):

* **supported**: the interval of the mean paired difference excludes 0 on the claimed side
  and the mean change is at least the effect floor;
* **contradicted**: the interval excludes 0 on the other side and the change the other way
  is at least the floor (a significant effect against the claim);
* **not supported**: the interval rules out a claimed change as large as the floor (its
  claimed-side bound is below the floor), or the change is significant but smaller than the
  floor;
* **inconclusive**: the interval holds 0 and a claimed change of the floor's size, so the
  run cannot tell: the reason gives the minimum detectable effect
  (:func:`minimum_detectable_effect`);
* **not evaluable**: fewer than ``min_n`` paired seeds (:data:`POINT_ESTIMATE`: the mean is
  given, no verdict), a metric that is the same for every compared run (degenerate: it
  cannot decide anything), or a precondition that fails (said in the claim's reason).

The effect floor (:func:`effect_floor`) is the larger of a configured fraction of the
reference mean and the median absolute difference between benchmark runs of different seeds
(:func:`seed_pair_spread`): a change no larger than what reseeding the benchmark does is
not an effect of the manipulation.

Equivalence (:func:`equivalence`): two one-sided tests (Schuirmann 1987), i.e. the
(1 - 2 alpha) interval of the mean difference inside +-margin. Interaction
(:func:`layer_interaction`): a one-way repeated-measures ANOVA of the per-layer relative
changes with seeds as subjects. Conjunctions (:func:`conjunction`) drop degenerate parts and
take the weakest of the rest.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from bridge.compare.stats import ZERO_SPREAD_REL, PairedStats

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
NOT_EVALUABLE = "not evaluable"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_SUPPORTED, INCONCLUSIVE, NOT_EVALUABLE)
#: Opening words of the reason when too few paired seeds give a mean but no verdict.
POINT_ESTIMATE = "point estimate, no verdict"
#: Weakest first: a conjunction takes the first of these that any of its parts has.
CONJUNCTION_ORDER = (NOT_EVALUABLE, CONTRADICTED, NOT_SUPPORTED, INCONCLUSIVE, SUPPORTED)


@dataclass(frozen=True)
class Verdict:
    """One judged comparison. ``floor`` and ``mde`` are absolute (the metric's units);
    ``relative`` is the mean difference over the reference mean's magnitude."""

    verdict: str
    reason: str
    relative: float | None = None
    floor: float | None = None
    mde: float | None = None
    degenerate: bool = False


def fmt(value: float | None) -> str:
    """Four significant digits, or an em dash."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.4g}"


def seed_pair_spread(values: Mapping[int, float]) -> float | None:
    """Median of |x_i - x_j| over all pairs of seeds (None with fewer than 2 seeds)."""
    xs = [float(v) for v in values.values()]
    if len(xs) < 2:
        return None
    return float(np.median([abs(a - b) for a, b in itertools.combinations(xs, 2)]))


def effect_floor(
    reference_mean: float | None, min_relative_effect: float, spread: float | None
) -> float:
    """max(min_relative_effect * |reference mean|, benchmark seed-pair spread), absolute."""
    relative = 0.0 if reference_mean is None else min_relative_effect * abs(reference_mean)
    return max(relative, spread or 0.0)


def minimum_detectable_effect(
    sd_diff: float | None, n: int, confidence: float, power: float
) -> float | None:
    """Smallest mean paired difference a two-sided paired t-test at ``confidence`` detects
    with probability ``power``: (t_{(1+c)/2} + t_power) * sd / sqrt(n), df = n - 1."""
    if sd_diff is None or n < 2:
        return None
    df = n - 1
    return float(
        (sps.t.ppf(0.5 + confidence / 2.0, df) + sps.t.ppf(power, df)) * sd_diff / math.sqrt(n)
    )


def is_degenerate(*groups: Mapping[int, float]) -> bool:
    """Every value of every group is the same (to rounding): the metric cannot separate them."""
    values = np.array([float(v) for g in groups for v in g.values()], dtype=float)
    if values.size < 2:
        return False
    magnitude = float(np.max(np.abs(values)))
    return bool(np.ptp(values) <= ZERO_SPREAD_REL * magnitude)


def _relative(diff: float, scale: float | None) -> float | None:
    if scale is None:
        return None
    if scale != 0.0:
        return diff / abs(scale)
    return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)


def _pct(value: float | None) -> str:
    return "" if value is None or not math.isfinite(value) else f" ({value:+.1%})"


def too_few(stats: PairedStats, min_n: int) -> Verdict | None:
    """Not evaluable with the point estimate when fewer than ``min_n`` seeds pair up."""
    if stats.n >= min_n and stats.mean_diff is not None:
        return None
    estimate = "" if stats.mean_diff is None else f"; mean difference {fmt(stats.mean_diff)}"
    return Verdict(
        NOT_EVALUABLE,
        f"{POINT_ESTIMATE}: {stats.n} paired seed(s), a verdict needs {min_n}{estimate}",
        _relative(stats.mean_diff, stats.mean_b) if stats.mean_diff is not None else None,
    )


def degenerate_verdict(value: float) -> Verdict:
    return Verdict(
        NOT_EVALUABLE,
        f"degenerate: every compared run scores {fmt(value)}, so it decides nothing",
        degenerate=True,
    )


def directional(
    stats: PairedStats,
    direction: int,
    floor: float,
    *,
    min_n: int,
    confidence: float,
    power: float,
    claimed: str | None = None,
    scale: float | None = None,
    degenerate: bool = False,
) -> Verdict:
    """Judge 'the group differs from the reference in ``direction`` (+1/-1)' (module doc).

    ``stats`` holds the mean difference (group - reference) and its interval at
    ``confidence``; ``floor`` is the absolute effect floor; ``scale`` the magnitude the
    relative change is measured against (default: the reference mean).
    """
    if direction not in (1, -1):
        raise ValueError(f"directional: direction must be +1 or -1, got {direction}")
    if degenerate and stats.mean_a is not None:
        return degenerate_verdict(stats.mean_a)
    early = too_few(stats, min_n)
    if early is not None:
        return early
    assert stats.mean_diff is not None and stats.ci_low is not None and stats.ci_high is not None
    claimed = claimed or ("increase" if direction > 0 else "decrease")
    article = "an" if claimed[0] in "aeiou" else "a"
    relative = _relative(stats.mean_diff, stats.mean_b if scale is None else scale)
    mde = minimum_detectable_effect(stats.sd_diff, stats.n, confidence, power)
    # The interval of the change measured the claimed way round.
    low, high = sorted((direction * stats.ci_low, direction * stats.ci_high))
    change = direction * stats.mean_diff
    interval = f"{confidence:.0%} interval [{fmt(stats.ci_low)}, {fmt(stats.ci_high)}]"
    size = f"{fmt(stats.mean_diff)}{_pct(relative)}"
    common = dict(relative=relative, floor=floor, mde=mde)
    if low > 0:
        if change >= floor:
            return Verdict(
                SUPPORTED,
                f"{claimed} of {size}, {interval} excludes 0, ≥ floor {fmt(floor)}",
                **common,
            )
        return Verdict(
            NOT_SUPPORTED,
            f"{claimed} of {size} is significant but below the effect floor {fmt(floor)}",
            **common,
        )
    if high < 0:
        if -change >= floor:
            return Verdict(
                CONTRADICTED,
                f"the opposite of {article} {claimed}: {size}, {interval} excludes 0, "
                f"≥ floor {fmt(floor)}",
                **common,
            )
        return Verdict(
            NOT_SUPPORTED,
            f"a small change against the claim ({size}), below the floor {fmt(floor)}",
            **common,
        )
    if high < floor:
        return Verdict(
            NOT_SUPPORTED,
            f"{size}: the {interval} rules out {article} {claimed} as large as the floor "
            f"{fmt(floor)}",
            **common,
        )
    return Verdict(
        INCONCLUSIVE,
        f"{size}: the {interval} holds 0 and {article} {claimed} ≥ floor {fmt(floor)}; "
        f"minimum detectable effect {fmt(mde)} with n = {stats.n}",
        **common,
    )


def equivalence(
    stats: PairedStats, margin: float, *, min_n: int, confidence: float, what: str
) -> Verdict:
    """'Not changed beyond ±margin' by two one-sided tests at alpha = 1 - confidence.

    Supported when the (1 - 2 alpha) interval lies inside (-margin, margin); contradicted
    when it lies above +margin (raised); not supported when below -margin (lowered);
    inconclusive when it crosses a margin.
    """
    early = too_few(stats, min_n)
    if early is not None:
        return early
    assert stats.mean_diff is not None and stats.sd_diff is not None
    alpha = 1.0 - confidence
    level = 1.0 - 2.0 * alpha
    half = sps.t.ppf(1.0 - alpha, stats.n - 1) * stats.sd_diff / math.sqrt(stats.n)
    low, high = stats.mean_diff - half, stats.mean_diff + half
    relative = _relative(stats.mean_diff, stats.mean_b)
    text = (
        f"{what} {fmt(stats.mean_b)}→{fmt(stats.mean_a)}{_pct(relative)}, {level:.0%} interval "
        f"of the change [{fmt(low)}, {fmt(high)}], margin ±{fmt(margin)}"
    )
    if -margin < low and high < margin:
        return Verdict(SUPPORTED, f"{text}: equivalent (not raised)", relative, margin)
    if low >= margin:
        return Verdict(CONTRADICTED, f"{text}: raised beyond the margin", relative, margin)
    if high <= -margin:
        return Verdict(NOT_SUPPORTED, f"{text}: lowered beyond the margin", relative, margin)
    return Verdict(INCONCLUSIVE, f"{text}: crosses the margin", relative, margin)


@dataclass(frozen=True)
class Interaction:
    """Layer x scenario interaction of the per-layer relative changes."""

    f_statistic: float | None
    p_value: float | None
    layer_changes: dict[str, float]
    n_seeds: int


def layer_interaction(
    group: Mapping[str, Mapping[int, float]], reference: Mapping[str, Mapping[int, float]]
) -> Interaction:
    """Repeated-measures ANOVA (layers x seeds) of d_{l,i} = (g_{l,i} - r_{l,i}) / mean_i r_{l,i}.

    Only seeds present in every layer of both groups are used, and layers whose reference
    mean is 0 are left out (no relative change). A significant F says the layers change by
    different relative amounts: activity is shifted between layers, not scaled as a whole.
    """
    layers = [layer for layer in group if layer in reference]
    seed_sets = [set(group[layer]) & set(reference[layer]) for layer in layers]
    seeds = sorted(set.intersection(*seed_sets)) if seed_sets else []
    rows, changes = [], {}
    for layer in layers:
        ref_mean = float(np.mean([reference[layer][s] for s in seeds])) if seeds else 0.0
        if ref_mean == 0.0:
            continue
        d = [(group[layer][s] - reference[layer][s]) / abs(ref_mean) for s in seeds]
        rows.append(d)
        changes[layer] = float(np.mean(d))
    n_layers, n = len(rows), len(seeds)
    if n_layers < 2 or n < 2:
        return Interaction(None, None, changes, n)
    x = np.array(rows, dtype=float)
    grand = x.mean()
    ss_layer = n * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_seed = n_layers * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_error = float(np.sum((x - grand) ** 2)) - ss_layer - ss_seed
    df_layer, df_error = n_layers - 1, (n_layers - 1) * (n - 1)
    scale = max(float(np.sum(x**2)), 1e-300)
    if ss_error <= ZERO_SPREAD_REL * scale:
        # No seed-to-seed noise in the pattern: any layer difference is exact.
        significant = ss_layer > ZERO_SPREAD_REL * scale
        return Interaction(
            math.inf if significant else None, 0.0 if significant else None, changes, n
        )
    f_stat = (ss_layer / df_layer) / (ss_error / df_error)
    return Interaction(f_stat, float(sps.f.sf(f_stat, df_layer, df_error)), changes, n)


def redistribution(interaction: Interaction, *, min_n: int, confidence: float) -> Verdict:
    """'Activity is shifted between layers': a significant interaction with layers changing
    both ways."""
    if interaction.n_seeds < min_n:
        return Verdict(
            NOT_EVALUABLE,
            f"{POINT_ESTIMATE}: {interaction.n_seeds} paired seed(s), a verdict needs {min_n}",
        )
    if interaction.p_value is None:
        return Verdict(NOT_EVALUABLE, "fewer than 2 layers with a non-zero reference rate")
    alpha = 1.0 - confidence
    up = [k for k, v in interaction.layer_changes.items() if v > 0]
    down = [k for k, v in interaction.layer_changes.items() if v < 0]
    changes = ", ".join(f"{k} {v:+.0%}" for k, v in interaction.layer_changes.items())
    text = (
        f"layer × scenario interaction F = {fmt(interaction.f_statistic)}, "
        f"p = {fmt(interaction.p_value)} (layer changes: {changes})"
    )
    if interaction.p_value >= alpha:
        return Verdict(INCONCLUSIVE, f"{text}: no interaction detected at alpha {alpha:g}")
    if up and down:
        return Verdict(SUPPORTED, f"{text}: layers shift both ways")
    return Verdict(
        NOT_SUPPORTED, f"{text}: layers change unequally but all the same way (no shift)"
    )


def conjunction(parts: Sequence[tuple[str, Verdict]]) -> Verdict:
    """All parts must hold: degenerate parts drop out (said); the weakest of the rest wins
    (:data:`CONJUNCTION_ORDER`)."""
    kept = [(name, v) for name, v in parts if not v.degenerate]
    dropped = [name for name, v in parts if v.degenerate]
    note = f" [dropped as degenerate: {', '.join(dropped)}]" if dropped else ""
    if not kept:
        return Verdict(NOT_EVALUABLE, "every metric is degenerate" + note, degenerate=True)
    verdicts = {v.verdict for _, v in kept}
    overall = next(v for v in CONJUNCTION_ORDER if v in verdicts)
    reason = "; ".join(f"{name}: {v.verdict} ({v.reason})" for name, v in kept)
    return Verdict(overall, reason + note, kept[0][1].relative)
