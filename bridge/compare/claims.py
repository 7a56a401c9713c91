"""The papers' claims, judged on this run's numbers by the rules in ``compare.claims``.

Each claim is tested on several comparisons, all paired by seed:

1. *Overfiring degrades reconstruction*: test MSE (no input noise) of the paper's
   overfiring-like scenario minus the benchmark's, and of each overfiring condition's
   scenario minus the control's, should be > 0.
2. *Activity is redistributed, not raised*: for the same pairs, the mean layer firing rate
   is not significantly raised, while at least one layer's rate goes up and at least one
   goes down (each judged by the directional rule).
3. *Noise partly compensates*: where claim 1 holds for a pair, the MSE gap at
   ``compare.noisy_sigma`` is smaller than without noise (gap_0 - gap_noisy > 0, its size
   relative to gap_0).
4. *MTC is more accurate and sparser than LIF and AdLIF*: per condition, the MTC regressor
   against the same condition's LIF and against the AdLIF reference: higher R2, lower sMAPE
   (at ``accuracy_horizon``), lower S_comm and higher S_comp; every one must hold.

Directional rule (:func:`judge`): fewer than ``min_n`` paired seeds -> not evaluable;
otherwise supported when the mean difference points the claimed way, is at least
``min_relative_effect`` of the reference magnitude, and (from 2 seeds on) the confidence
interval excludes 0. "Overfiring condition": the HH cell fires faster than the control at
``compare.reference_current_uA_cm2`` or without input; other conditions are reported as
not evaluable for claims 1-3 (the claim says nothing about them).

Gates: claims 1-3 are not evaluable when the benchmark autoencoder (and, for a condition
pair, the control's) did not beat the mean-image baseline without noise; claim 4 is not
evaluable when a model of ``gate_models`` did not beat repeat-last-value's R2 at every
horizon of ``gate_horizons``.

Offset arms (``autoencoder.condition_offsets``): condition pairs are judged per arm, frozen
with frozen (``cond_<c>.frozen`` minus ``cond_<control>.frozen``, gated on the frozen-offset
benchmark) and trained with trained; each row says its ``offsets`` and the tally counts each
arm on its own. A pair in which a condition's mapping has beta unidentified is judged and
marked (``beta_unidentified``) but left out of the tally (:func:`claim_tally`), so it is
never pooled with identified conditions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bridge.compare import markdown as md
from bridge.compare.comparisons import (
    beta_unidentified,
    condition_value,
    layer_rate_metrics,
    seed_values,
)
from bridge.compare.paths import FROZEN, TRAINED, benchmark_arm, condition_scenario
from bridge.compare.stats import PairedStats, paired_stats
from bridge.config.compare import ClaimRules, CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import REFERENCE_MODEL

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
NOT_EVALUABLE = "not evaluable"
VERDICTS = (SUPPORTED, NOT_SUPPORTED, NOT_EVALUABLE)

#: Claim 4's key (its rows are judged per condition at compare.claims.accuracy_horizon).
MTC_CLAIM = "mtc_accurate_sparse"
CLAIMS = {
    "overfiring_degrades": "Overfiring degrades reconstruction (autoencoder paper)",
    "redistributed_not_raised": (
        "Activity is redistributed across layers, not globally raised (autoencoder paper)"
    ),
    "noise_compensates": "Input noise partly compensates the degradation (autoencoder paper)",
    MTC_CLAIM: "MTC is more accurate and sparser than LIF and AdLIF (MTC paper)",
}
CLAIM_COLUMNS = (
    "claim",
    "comparison",
    "offsets",
    "beta_unidentified",
    "verdict",
    "reason",
    "metric",
    "sigma",
    "n",
    "mean_group",
    "mean_reference",
    "mean_diff",
    "relative_diff",
    "ci_low",
    "ci_high",
    "hedges_g",
    "gate",
)
#: Claim 4: metric stem -> claimed sign of MTC minus the other model.
MTC_DIRECTIONS = {"r2": +1, "smape": -1, "s_comm": -1, "s_comp": +1}


@dataclass(frozen=True)
class Judgement:
    """A directional verdict with the reason in words and the relative size of the change."""

    verdict: str
    reason: str
    relative: float | None


def _relative(diff: float, scale: float) -> float:
    if scale != 0.0:
        return diff / abs(scale)
    return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)


def judge(
    stats: PairedStats,
    direction: int,
    rules: ClaimRules,
    scale: float | None = None,
    claimed: str | None = None,
) -> Judgement:
    """The directional rule (module docstring). ``scale`` is the magnitude the change is
    measured against (default: the reference group's mean); ``claimed`` names the claimed
    change in the reason (default: increase / decrease)."""
    if stats.n < rules.min_n or stats.mean_diff is None:
        return Judgement(NOT_EVALUABLE, f"{stats.n} paired seed(s), min_n {rules.min_n}", None)
    ref = stats.mean_b if scale is None else scale
    relative = _relative(stats.mean_diff, float(ref))
    claimed = claimed or ("increase" if direction > 0 else "decrease")
    if np.sign(stats.mean_diff) != np.sign(direction):
        return Judgement(NOT_SUPPORTED, f"no {claimed} ({relative:+.1%})", relative)
    if abs(relative) < rules.min_relative_effect:
        return Judgement(
            NOT_SUPPORTED,
            f"{claimed} of {abs(relative):.1%} is below min_relative_effect "
            f"{rules.min_relative_effect:.0%}",
            relative,
        )
    if stats.n >= 2:
        assert stats.ci_low is not None and stats.ci_high is not None
        if (direction > 0 and stats.ci_low <= 0) or (direction < 0 and stats.ci_high >= 0):
            return Judgement(
                NOT_SUPPORTED,
                f"{claimed} of {abs(relative):.1%} but the interval "
                f"[{md.fmt(stats.ci_low)}, {md.fmt(stats.ci_high)}] includes 0",
                relative,
            )
        return Judgement(
            SUPPORTED, f"{claimed} of {abs(relative):.1%}, interval excludes 0", relative
        )
    return Judgement(
        SUPPORTED, f"{claimed} of {abs(relative):.1%} (n = 1: point estimate only)", relative
    )


@dataclass(frozen=True)
class Gate:
    """Whether a run set beat its trivial baseline; ``passed`` None: no runs to tell."""

    name: str
    passed: bool | None
    detail: str


def autoencoder_gate(runs: pd.DataFrame, scenario: str, sigma: float = 0.0) -> Gate:
    """Mean test MSE over seeds below the mean-image baseline's mean."""
    mse = seed_values(runs, "autoencoder", "test_mse_final", scenario=scenario, sigma=sigma)
    base = seed_values(
        runs, "autoencoder", "baseline_mean_image_mse", scenario=scenario, sigma=sigma
    )
    name = f"autoencoder {scenario} (sigma {sigma:g}) vs mean image"
    if not mse or not base:
        return Gate(name, None, "no runs")
    ours, ref = float(np.mean(list(mse.values()))), float(np.mean(list(base.values())))
    return Gate(
        name,
        ours < ref,
        f"test MSE {md.fmt(ours)} vs mean-image {md.fmt(ref)} (ratio {ours / ref:.2f}, "
        f"n={len(mse)})",
    )


def regressor_gate(runs: pd.DataFrame, condition: str, model: str, horizon: str) -> Gate:
    """Mean R2 over seeds above the repeat-last-value baseline's mean at ``horizon``."""
    r2 = seed_values(runs, "regressor", f"r2_{horizon}", condition=condition, model=model)
    base = seed_values(
        runs, "regressor", f"repeat_last_r2_{horizon}", condition=condition, model=model
    )
    name = f"regressor {condition} / {model} ({horizon.replace('_', ' ')}) vs repeat-last"
    if not r2 or not base:
        return Gate(name, None, "no runs")
    ours, ref = float(np.mean(list(r2.values()))), float(np.mean(list(base.values())))
    return Gate(name, ours > ref, f"R² {md.fmt(ours)} vs repeat-last {md.fmt(ref)} (n={len(r2)})")


def _gates_block(gates: Sequence[Gate]) -> tuple[bool, str]:
    """(all passed, text); a gate with no runs counts as failed."""
    state = {True: "passed", False: "FAILED", None: "NO RUNS"}
    text = "; ".join(f"{g.name}: {state[g.passed]} ({g.detail})" for g in gates)
    return all(g.passed for g in gates), text


def _gate_failure(gates: Sequence[Gate], baseline: str) -> str:
    """Why the gates block a claim: runs missing, or a baseline not beaten."""
    missing = [g.name.split(" (")[0] for g in gates if g.passed is None]
    if missing:
        return f"no runs to judge: {', '.join(dict.fromkeys(missing))}"
    failed = [g.name.split(" (")[0] for g in gates if g.passed is False]
    return f"did not beat the {baseline} baseline: {', '.join(dict.fromkeys(failed))}"


def overfiring(runs: pd.DataFrame, condition: str, control: str) -> tuple[bool | None, str]:
    """Whether the HH cell of ``condition`` fires faster than the control's (module doc)."""
    values = {
        (c, m): condition_value(runs, "hh", c, m)
        for c in (condition, control)
        for m in ("rate_at_reference_hz", "spontaneous_rate_hz")
    }
    if any(v is None for v in values.values()):
        return None, "HH rates missing"
    rate, rate0 = (
        values[(condition, "rate_at_reference_hz")],
        values[(control, "rate_at_reference_hz")],
    )
    spont, spont0 = (
        values[(condition, "spontaneous_rate_hz")],
        values[(control, "spontaneous_rate_hz")],
    )
    text = (
        f"HH at the reference current {md.fmt(rate)} Hz vs control {md.fmt(rate0)} Hz; "
        f"without input {md.fmt(spont)} Hz vs {md.fmt(spont0)} Hz"
    )
    return bool(rate > rate0 or spont > spont0), text


@dataclass(frozen=True)
class AutoencoderPair:
    """One comparison for claims 1-3: ``group`` scenario minus ``reference`` scenario."""

    label: str
    group: str
    reference: str
    gates: tuple[Gate, ...]
    applicable: bool | None
    applicability: str
    offsets: str = TRAINED
    unidentified: bool | None = None


def autoencoder_pairs(runs: pd.DataFrame, settings: CompareSettings) -> list[AutoencoderPair]:
    """The paper's overfiring-like vs benchmark pair, then every condition vs control, per
    offset arm (frozen pairs gated on the frozen-offset benchmark)."""
    rules = settings.claims
    pairs = [
        AutoencoderPair(
            f"{rules.overfiring_scenario} − {rules.benchmark_scenario}",
            rules.overfiring_scenario,
            rules.benchmark_scenario,
            (autoencoder_gate(runs, rules.benchmark_scenario),),
            True,
            "the paper's overfiring-like scenario",
        )
    ]
    ref = settings.reference_condition
    for mode in settings.ae_condition_offsets:
        bench_gate = autoencoder_gate(runs, benchmark_arm(settings, mode))
        ref_gate = autoencoder_gate(runs, condition_scenario(ref, mode))
        suffix = " (frozen offsets)" if mode == FROZEN else ""
        for condition in settings.conditions:
            if condition == ref:
                continue
            applicable, text = overfiring(runs, condition, ref)
            pairs.append(
                AutoencoderPair(
                    f"{condition} − {ref}{suffix}",
                    condition_scenario(condition, mode),
                    condition_scenario(ref, mode),
                    (bench_gate, ref_gate),
                    applicable,
                    text,
                    mode,
                    beta_unidentified(runs, condition, ref),
                )
            )
    return pairs


def _stats(runs, settings, metric, group, reference, sigma) -> PairedStats:
    a = seed_values(runs, "autoencoder", metric, scenario=group, sigma=sigma)
    b = seed_values(runs, "autoencoder", metric, scenario=reference, sigma=sigma)
    return paired_stats(a, b, settings.confidence, settings.min_n_p_value)


def _row(
    claim: str,
    comparison: str,
    verdict: str,
    reason: str,
    *,
    metric: str = "",
    sigma: float | None = None,
    stats: PairedStats | None = None,
    relative: float | None = None,
    gate: str = "",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "claim": claim,
        "comparison": comparison,
        "offsets": "",
        "beta_unidentified": None,
        "verdict": verdict,
        "reason": reason,
        "metric": metric,
        "sigma": sigma,
        "relative_diff": relative,
        "gate": gate,
    }
    if stats is not None:
        row.update(
            n=stats.n,
            mean_group=stats.mean_a,
            mean_reference=stats.mean_b,
            mean_diff=stats.mean_diff,
            ci_low=stats.ci_low,
            ci_high=stats.ci_high,
            hedges_g=stats.hedges_g,
        )
    else:
        row["n"] = 0
    return row


def _precondition(pair: AutoencoderPair) -> tuple[str | None, str]:
    """(reason it is not evaluable or None, gate text)."""
    passed, gate_text = _gates_block(pair.gates)
    if pair.applicable is None:
        return f"cannot tell whether it overfires ({pair.applicability})", gate_text
    if not pair.applicable:
        return f"not an overfiring condition ({pair.applicability})", gate_text
    if not passed:
        return _gate_failure(pair.gates, "mean-image"), gate_text
    return None, gate_text


def _claim_degrades(runs, settings, pair: AutoencoderPair) -> tuple[dict[str, Any], str]:
    claim = "overfiring_degrades"
    sigma = settings.noiseless_sigma
    stats = _stats(runs, settings, "test_mse_final", pair.group, pair.reference, sigma)
    blocked, gate = _precondition(pair)
    if blocked:
        row = _row(
            claim,
            pair.label,
            NOT_EVALUABLE,
            blocked,
            metric="test_mse_final",
            sigma=sigma,
            stats=stats,
            gate=gate,
        )
        return row, NOT_EVALUABLE
    j = judge(stats, +1, settings.claims)
    row = _row(
        claim,
        pair.label,
        j.verdict,
        f"test MSE: {j.reason}",
        metric="test_mse_final",
        sigma=sigma,
        stats=stats,
        relative=j.relative,
        gate=gate,
    )
    return row, j.verdict


def _claim_redistributed(runs, settings, pair: AutoencoderPair) -> dict[str, Any]:
    claim = "redistributed_not_raised"
    sigma = settings.noiseless_sigma
    rules = settings.claims
    mean_stats = _stats(runs, settings, "mean_layer_rate", pair.group, pair.reference, sigma)
    blocked, gate = _precondition(pair)
    common = dict(metric="mean_layer_rate", sigma=sigma, stats=mean_stats, gate=gate)
    if blocked:
        return _row(claim, pair.label, NOT_EVALUABLE, blocked, **common)
    raised = judge(mean_stats, +1, rules)
    if raised.verdict == NOT_EVALUABLE:
        return _row(claim, pair.label, NOT_EVALUABLE, f"mean layer rate: {raised.reason}", **common)
    up, down = [], []
    for metric in layer_rate_metrics(runs):
        stats = _stats(runs, settings, metric, pair.group, pair.reference, sigma)
        layer = metric.removeprefix("rate_")
        if judge(stats, +1, rules).verdict == SUPPORTED:
            up.append(f"{layer} {md.fmt(stats.mean_b)}→{md.fmt(stats.mean_a)}")
        elif judge(stats, -1, rules).verdict == SUPPORTED:
            down.append(f"{layer} {md.fmt(stats.mean_b)}→{md.fmt(stats.mean_a)}")
    not_raised = raised.verdict != SUPPORTED
    rel = raised.relative
    parts = [
        f"mean layer rate {md.fmt(mean_stats.mean_b)}→{md.fmt(mean_stats.mean_a)} "
        f"({rel:+.1%}: {'not raised' if not_raised else 'raised'})",
        f"up: {', '.join(up) or 'none'}",
        f"down: {', '.join(down) or 'none'}",
    ]
    verdict = SUPPORTED if (not_raised and up and down) else NOT_SUPPORTED
    return _row(claim, pair.label, verdict, "; ".join(parts), relative=rel, **common)


def _claim_compensates(runs, settings, pair: AutoencoderPair, degraded: str) -> dict[str, Any]:
    claim = "noise_compensates"
    noisy = settings.noisy_sigma
    blocked, gate = _precondition(pair)
    if blocked:
        return _row(
            claim, pair.label, NOT_EVALUABLE, blocked, metric="test_mse_gap", sigma=noisy, gate=gate
        )
    gaps = {}
    for sigma in (settings.noiseless_sigma, noisy):
        a = seed_values(runs, "autoencoder", "test_mse_final", scenario=pair.group, sigma=sigma)
        b = seed_values(runs, "autoencoder", "test_mse_final", scenario=pair.reference, sigma=sigma)
        gaps[sigma] = {s: a[s] - b[s] for s in sorted(set(a) & set(b))}
    stats = paired_stats(
        gaps[settings.noiseless_sigma], gaps[noisy], settings.confidence, settings.min_n_p_value
    )
    common = dict(metric="test_mse_gap", sigma=noisy, stats=stats, gate=gate)
    if degraded != SUPPORTED:
        reason = "no degradation without noise to compensate (claim 1 not supported here)"
        return _row(claim, pair.label, NOT_EVALUABLE, reason, **common)
    j = judge(stats, +1, settings.claims, scale=stats.mean_a, claimed="gap reduction")
    if j.verdict == NOT_EVALUABLE:
        return _row(claim, pair.label, NOT_EVALUABLE, j.reason, **common)
    gap0, gap_noisy = stats.mean_a, stats.mean_b
    closed = "fully closed or reversed" if gap_noisy <= 0 else f"{1 - gap_noisy / gap0:.0%} closed"
    reason = (
        f"MSE gap {md.fmt(gap0)} at sigma 0, {md.fmt(gap_noisy)} at sigma {noisy:g} "
        f"({closed}): {j.reason}"
    )
    return _row(claim, pair.label, j.verdict, reason, relative=j.relative, **common)


def _mtc_rows(runs: pd.DataFrame, settings: CompareSettings) -> list[dict[str, Any]]:
    claim = MTC_CLAIM
    rules = settings.claims
    horizon = rules.accuracy_horizon
    metrics = {
        f"r2_{horizon}": MTC_DIRECTIONS["r2"],
        f"smape_{horizon}": MTC_DIRECTIONS["smape"],
        "s_comm": MTC_DIRECTIONS["s_comm"],
        "s_comp": MTC_DIRECTIONS["s_comp"],
    }
    rows = []
    for condition in settings.conditions:
        runs_of = {
            "mtc": condition,
            "lif": condition,
            REFERENCE_MODEL: REGRESSOR_REFERENCE_LABEL,
        }
        for other in ("lif", REFERENCE_MODEL):
            label = f"MTC − {other.upper() if other == 'lif' else 'AdLIF'} ({condition})"
            gates = [
                regressor_gate(runs, runs_of[m], m, h)
                for m in rules.gate_models
                if m in ("mtc", other)
                for h in rules.gate_horizons
            ]
            passed, gate_text = _gates_block(gates)
            verdicts, parts, first = [], [], None
            for metric, direction in metrics.items():
                a = seed_values(runs, "regressor", metric, condition=condition, model="mtc")
                b = seed_values(runs, "regressor", metric, condition=runs_of[other], model=other)
                stats = paired_stats(a, b, settings.confidence, settings.min_n_p_value)
                first = first or stats
                j = judge(stats, direction, rules)
                verdicts.append(j.verdict)
                parts.append(
                    f"{metric} {md.fmt(stats.mean_a)} vs {md.fmt(stats.mean_b)}: {j.verdict}"
                )
            if not passed:
                verdict, lead = NOT_EVALUABLE, _gate_failure(gates, "repeat-last-value") + "; "
            elif NOT_EVALUABLE in verdicts:
                verdict, lead = NOT_EVALUABLE, ""
            else:
                verdict = SUPPORTED if all(v == SUPPORTED for v in verdicts) else NOT_SUPPORTED
                lead = ""
            rows.append(
                _row(
                    claim,
                    label,
                    verdict,
                    lead + "; ".join(parts),
                    metric=f"r2_{horizon}",
                    stats=first,
                    gate=gate_text,
                )
            )
    return rows


def evaluate_claims(runs: pd.DataFrame, settings: CompareSettings) -> pd.DataFrame:
    """One row per claim x comparison (``claims.csv``), in the order of :data:`CLAIMS`."""
    degrade_rows, redistribute_rows, compensate_rows = [], [], []
    for pair in autoencoder_pairs(runs, settings):
        row, degraded = _claim_degrades(runs, settings, pair)
        marks = {"offsets": pair.offsets, "beta_unidentified": pair.unidentified}
        degrade_rows.append({**row, **marks})
        redistribute_rows.append({**_claim_redistributed(runs, settings, pair), **marks})
        compensate_rows.append({**_claim_compensates(runs, settings, pair, degraded), **marks})
    rows = degrade_rows + redistribute_rows + compensate_rows + _mtc_rows(runs, settings)
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def _tally(rows: pd.DataFrame) -> str:
    counts = {v: int((rows["verdict"] == v).sum()) for v in VERDICTS}
    evaluable = counts[SUPPORTED] + counts[NOT_SUPPORTED]
    if evaluable == 0:
        return f"not evaluable in any of its {len(rows)} comparison(s)"
    return (
        f"supported in {counts[SUPPORTED]} of {evaluable} evaluable comparison(s)"
        f" ({counts[NOT_EVALUABLE]} not evaluable)"
    )


def _is_true(value: Any) -> bool:
    """A ``beta_unidentified`` cell: True, or 'true' when read back from CSV."""
    return value is True or str(value).strip().lower() in ("true", "1", "1.0")


def claim_tally(claims: pd.DataFrame, claim: str) -> str:
    """'supported in k of m evaluable comparisons (j not evaluable)', per offset arm when the
    claim has rows of both; comparisons with beta unidentified are counted apart, never
    pooled with the identified ones."""
    rows = claims[claims["claim"] == claim]
    offsets = rows["offsets"] if "offsets" in rows else pd.Series("", index=rows.index)
    apart = (
        rows["beta_unidentified"].map(_is_true)
        if "beta_unidentified" in rows
        else pd.Series(False, index=rows.index)
    )
    identified = rows[~apart]
    arms = list(dict.fromkeys(offsets[~apart].fillna("")))
    if len(arms) <= 1:
        text = _tally(identified)
    else:
        # The paper's pair is trained; each arm is tallied on its own.
        text = "; ".join(
            f"{arm or 'other'} offsets: {_tally(identified[offsets[~apart].fillna('') == arm])}"
            for arm in arms
        )
    if apart.any():
        text += (
            f"; kept apart (beta unidentified in the mapping): {int(apart.sum())} "
            f"comparison(s), {_tally(rows[apart])}"
        )
    return text
