"""The papers' claims and the bridge's own, judged on this run's numbers.

Every verdict comes from :mod:`bridge.compare.verdicts` (supported, contradicted, not
supported, inconclusive, not evaluable) on comparisons paired by seed, needs at least
``compare.claims.min_n`` paired seeds (fewer: a point estimate, no verdict) and is labelled
with the protocol its runs come from (``protocol``). The effect floor of a comparison is the
larger of ``min_relative_effect`` x the reference mean and the median difference between
two benchmark seeds of the same metric.

1. *Overfiring degrades reconstruction*: test MSE (no input noise) of the paper's
   overfiring-like scenario minus the benchmark's, and of each overfiring condition's arm
   minus the control's, is higher (directional rule).
2. *Activity is redistributed, not raised*: the mean layer rate is equivalent to the
   reference's within ``equivalence_margin`` (two one-sided tests), and the layers' relative
   rate changes differ (layer x scenario interaction, repeated-measures F) with layers going
   both ways. Both must hold.
3. *Noise compensates*: where claim 1 is supported for a pair, the overfiring network's MSE
   at ``compare.noisy_sigma`` is lower than its own MSE without noise (paired by seed: noise
   restores quality, not only makes the benchmark worse), and the MSE gap to the reference
   shrinks. Both must hold. Judged under the main noise protocol and again under every extra
   one (``autoencoder.noise.protocols``; its noisy runs ``<scenario>.<tag>``).
4. *MTC is more accurate and sparser than LIF and AdLIF* (the MTC paper's comparison, on the
   trained arms: results/regressor/reference/{mtc,lif,adlif}): higher R2 and lower z-scored
   sMAPE at every horizon of ``accuracy_horizons``, lower S_comm and higher S_comp on the
   one-step run (the same true input for every model). A metric that is the same for every
   compared run drops out of the conjunction, said so.
5. *The HH-fitted beta moves the way the paper's label mapping assumes* (this project's
   bridge): per condition, the change of the fitted beta from the control's against the
   change of beta = exp(-gNa); judged by the fits' accepted-region intervals (the mapping is
   a deterministic fit, without seeds): disjoint intervals the label's way supported, the
   other way contradicted, overlapping inconclusive.

Gates: claims 1-3 are not evaluable when the benchmark autoencoder (and, for a condition
pair, the control's) did not beat the mean-image baseline without noise; claim 4 when a
model of ``gate_models`` did not beat repeat-last-value's R2 at every ``gate_horizons``.
"Overfiring condition": the HH cell fires faster than the control at
``compare.reference_current_uA_cm2`` or without input; other conditions are not evaluable
for claims 1-3 (the claim says nothing about them).

Offset arms (``autoencoder.condition_offsets``): condition pairs are judged per arm, frozen
with frozen (gated on the frozen-offset benchmark) and trained with trained; the tally counts
each arm on its own. A pair in which a condition's mapping has beta unidentified is judged
and marked (``beta_unidentified``) but left out of the tally (:func:`claim_tally`).
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
from bridge.compare.paths import (
    FROZEN,
    TRAINED,
    benchmark_arm,
    condition_scenario,
    protocol_scenario,
)
from bridge.compare.stats import PairedStats, paired_stats
from bridge.compare.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUABLE,
    NOT_SUPPORTED,
    SUPPORTED,
    VERDICTS,
    Verdict,
    conjunction,
    directional,
    effect_floor,
    equivalence,
    is_degenerate,
    layer_interaction,
    redistribution,
    seed_pair_spread,
)
from bridge.config.autoencoder import PROTOCOL_TAGS
from bridge.config.compare import CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import REFERENCE_MODEL

__all__ = [
    "CLAIMS",
    "CONTRADICTED",
    "INCONCLUSIVE",
    "NOT_EVALUABLE",
    "NOT_SUPPORTED",
    "SUPPORTED",
    "VERDICTS",
    "evaluate_claims",
    "claim_tally",
]

#: Claim 4's key (the MTC paper's comparison, on the trained regressor arms).
MTC_CLAIM = "mtc_accurate_sparse"
#: Claim 5's key (the bridge: fitted beta against the paper's label mapping).
BRIDGE_CLAIM = "beta_follows_label_mapping"
CLAIMS = {
    "overfiring_degrades": "Overfiring degrades reconstruction (autoencoder paper)",
    "redistributed_not_raised": (
        "Activity is redistributed across layers, not globally raised (autoencoder paper)"
    ),
    "noise_compensates": "Input noise partly compensates the degradation (autoencoder paper)",
    MTC_CLAIM: "MTC is more accurate and sparser than LIF and AdLIF (MTC paper, trained arms)",
    BRIDGE_CLAIM: (
        "The HH-fitted β moves with gNa the way the paper's label mapping β = exp(−gNa) "
        "assumes (this project's bridge)"
    ),
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
    "floor",
    "min_detectable_effect",
    "protocol",
    "gate",
)
#: Claim 4: metric stem -> claimed sign of MTC minus the other model. Accuracy stems are
#: judged at every compare.claims.accuracy_horizons, activity stems at ACTIVITY_HORIZON.
MTC_ACCURACY = {"r2": +1, "smape_z": -1}
MTC_ACTIVITY = {"s_comm": -1, "s_comp": +1}
#: The run whose input is the same true series for every model.
ACTIVITY_HORIZON = "one_step"


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
    """One comparison for claims 1-3: ``group`` scenario minus ``reference`` scenario;
    ``benchmark`` is the scenario whose seed-to-seed spread sets the effect floor."""

    label: str
    group: str
    reference: str
    benchmark: str
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
            rules.benchmark_scenario,
            (autoencoder_gate(runs, rules.benchmark_scenario),),
            True,
            "the paper's overfiring-like scenario",
        )
    ]
    ref = settings.reference_condition
    for mode in settings.ae_condition_offsets:
        bench = benchmark_arm(settings, mode)
        bench_gate = autoencoder_gate(runs, bench)
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
                    bench,
                    (bench_gate, ref_gate),
                    applicable,
                    text,
                    mode,
                    beta_unidentified(runs, condition, ref),
                )
            )
    return pairs


def _row(
    claim: str,
    comparison: str,
    judged: Verdict,
    protocol: str,
    *,
    metric: str = "",
    sigma: float | None = None,
    stats: PairedStats | None = None,
    gate: str = "",
    lead: str = "",
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "claim": claim,
        "comparison": comparison,
        "offsets": "",
        "beta_unidentified": None,
        "verdict": judged.verdict,
        "reason": lead + judged.reason,
        "metric": metric,
        "sigma": sigma,
        "relative_diff": judged.relative,
        "floor": judged.floor,
        "min_detectable_effect": judged.mde,
        "protocol": protocol,
        "gate": gate,
        "n": 0,
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


@dataclass(frozen=True)
class _Context:
    """What every autoencoder claim of one pair needs."""

    runs: pd.DataFrame
    settings: CompareSettings
    pair: AutoencoderPair

    @property
    def protocol(self) -> str:
        return self.settings.protocols.get("autoencoder", "")

    def values(self, metric: str, scenario: str, sigma: float) -> dict[int, float]:
        return seed_values(self.runs, "autoencoder", metric, scenario=scenario, sigma=sigma)

    def stats(self, a: dict[int, float], b: dict[int, float]) -> PairedStats:
        return paired_stats(a, b, self.settings.confidence, self.settings.min_n_p_value)

    def floor(self, metric: str, reference_mean: float | None, sigma: float) -> float:
        spread = seed_pair_spread(self.values(metric, self.pair.benchmark, sigma))
        return effect_floor(reference_mean, self.settings.claims.min_relative_effect, spread)

    def directional(self, stats: PairedStats, direction: int, floor: float, **kw) -> Verdict:
        rules = self.settings.claims
        return directional(
            stats,
            direction,
            floor,
            min_n=rules.min_n,
            confidence=self.settings.confidence,
            power=rules.power,
            **kw,
        )

    def blocked(self, claim: str, reason: str, gate: str, **kw) -> dict[str, Any]:
        return _row(
            claim, self.pair.label, Verdict(NOT_EVALUABLE, reason), self.protocol, gate=gate, **kw
        )


def _claim_degrades(ctx: _Context) -> tuple[dict[str, Any], str]:
    claim, metric, sigma = "overfiring_degrades", "test_mse_final", ctx.settings.noiseless_sigma
    a = ctx.values(metric, ctx.pair.group, sigma)
    b = ctx.values(metric, ctx.pair.reference, sigma)
    stats = ctx.stats(a, b)
    blocked, gate = _precondition(ctx.pair)
    common = dict(metric=metric, sigma=sigma, stats=stats, gate=gate)
    if blocked:
        return ctx.blocked(claim, blocked, **common), NOT_EVALUABLE
    judged = ctx.directional(
        stats, +1, ctx.floor(metric, stats.mean_b, sigma), degenerate=is_degenerate(a, b)
    )
    return _row(claim, ctx.pair.label, judged, ctx.protocol, lead="test MSE: ", **common), (
        judged.verdict
    )


def _claim_redistributed(ctx: _Context) -> dict[str, Any]:
    claim, sigma = "redistributed_not_raised", ctx.settings.noiseless_sigma
    rules = ctx.settings.claims
    a = ctx.values("mean_layer_rate", ctx.pair.group, sigma)
    b = ctx.values("mean_layer_rate", ctx.pair.reference, sigma)
    stats = ctx.stats(a, b)
    blocked, gate = _precondition(ctx.pair)
    common = dict(metric="mean_layer_rate", sigma=sigma, stats=stats, gate=gate)
    if blocked:
        return ctx.blocked(claim, blocked, **common)
    margin = rules.equivalence_margin * abs(stats.mean_b) if stats.mean_b is not None else 0.0
    not_raised = equivalence(
        stats,
        margin,
        min_n=rules.min_n,
        confidence=ctx.settings.confidence,
        what="mean layer rate",
    )
    layers = layer_rate_metrics(ctx.runs)
    interaction = layer_interaction(
        {m.removeprefix("rate_"): ctx.values(m, ctx.pair.group, sigma) for m in layers},
        {m.removeprefix("rate_"): ctx.values(m, ctx.pair.reference, sigma) for m in layers},
    )
    shifted = redistribution(interaction, min_n=rules.min_n, confidence=ctx.settings.confidence)
    judged = conjunction([("not raised", not_raised), ("redistributed", shifted)])
    return _row(claim, ctx.pair.label, judged, ctx.protocol, **common)


def _claim_compensates(ctx: _Context, degraded: str, tag: str | None = None) -> dict[str, Any]:
    """Claim 3 for one pair; ``tag`` names an extra noise protocol whose noisy runs
    (``<scenario>.<tag>``) replace the main protocol's (the noiseless runs are shared)."""
    claim, noisy, quiet = (
        "noise_compensates",
        ctx.settings.noisy_sigma,
        ctx.settings.noiseless_sigma,
    )
    metric = "test_mse_final"
    label = ctx.pair.label if tag is None else f"{ctx.pair.label} [{tag.replace('_', ' ')} noise]"
    protocol = ctx.protocol
    if tag is not None:
        sampling, target = PROTOCOL_TAGS[tag]
        protocol = (
            f"{protocol.rsplit(', noise ', 1)[0]}, noise {sampling.replace('_', '-')}, "
            f"{target} target"
        )

    def scenario(name: str, sigma: float) -> str:
        return name if tag is None or sigma == quiet else protocol_scenario(name, tag)

    blocked, gate = _precondition(ctx.pair)
    if blocked:
        row = _row(
            claim, label, Verdict(NOT_EVALUABLE, blocked), protocol, gate=gate,
            metric="test_mse_gap", sigma=noisy,
        )  # fmt: skip
        return row
    # Part 1: the overfiring network's own MSE falls with noise (paired by seed).
    own_noisy = ctx.values(metric, scenario(ctx.pair.group, noisy), noisy)
    own_quiet = ctx.values(metric, ctx.pair.group, quiet)
    restore_stats = ctx.stats(own_noisy, own_quiet)
    restored = ctx.directional(
        restore_stats,
        -1,
        ctx.floor(metric, restore_stats.mean_b, quiet),
        claimed="MSE decrease with noise",
        degenerate=is_degenerate(own_noisy, own_quiet),
    )
    # Part 2: the gap to the reference shrinks (gap_0 - gap_noisy > 0).
    gaps = {}
    for sigma in (quiet, noisy):
        a = ctx.values(metric, scenario(ctx.pair.group, sigma), sigma)
        b = ctx.values(metric, scenario(ctx.pair.reference, sigma), sigma)
        gaps[sigma] = {s: a[s] - b[s] for s in sorted(set(a) & set(b))}
    gap_stats = ctx.stats(gaps[quiet], gaps[noisy])
    common = dict(metric="test_mse_gap", sigma=noisy, stats=gap_stats, gate=gate)
    if degraded != SUPPORTED:
        reason = f"no degradation without noise to compensate (claim 1 here: {degraded})"
        return _row(claim, label, Verdict(NOT_EVALUABLE, reason), protocol, **common)
    shrinks = ctx.directional(
        gap_stats,
        +1,
        ctx.floor(metric, gap_stats.mean_a, quiet),
        claimed="gap reduction",
        scale=gap_stats.mean_a,
    )
    judged = conjunction([("own MSE with noise", restored), ("gap", shrinks)])
    return _row(claim, label, judged, protocol, **common)


def _trained_values(runs: pd.DataFrame, model: str, metric: str) -> dict[int, float]:
    return seed_values(runs, "regressor", metric, condition=REGRESSOR_REFERENCE_LABEL, model=model)


def _mtc_rows(runs: pd.DataFrame, settings: CompareSettings) -> list[dict[str, Any]]:
    rules = settings.claims
    protocol = settings.protocols.get("regressor", "")
    metrics = {
        f"{stem}_{h}": d for h in rules.accuracy_horizons for stem, d in MTC_ACCURACY.items()
    }
    metrics.update({f"{stem}_{ACTIVITY_HORIZON}": d for stem, d in MTC_ACTIVITY.items()})
    rows = []
    for other, name in (("lif", "LIF"), (REFERENCE_MODEL, "AdLIF")):
        label = f"MTC − {name} (trained)"
        gates = [
            regressor_gate(runs, REGRESSOR_REFERENCE_LABEL, m, h)
            for m in rules.gate_models
            if m in ("mtc", other)
            for h in rules.gate_horizons
        ]
        passed, gate_text = _gates_block(gates)
        parts, first = [], None
        for metric, direction in metrics.items():
            a = _trained_values(runs, "mtc", metric)
            b = _trained_values(runs, other, metric)
            stats = paired_stats(a, b, settings.confidence, settings.min_n_p_value)
            first = first or stats
            floor = effect_floor(stats.mean_b, rules.min_relative_effect, seed_pair_spread(b))
            judged = directional(
                stats,
                direction,
                floor,
                min_n=rules.min_n,
                confidence=settings.confidence,
                power=rules.power,
                degenerate=is_degenerate(a, b),
            )
            parts.append((f"{metric} {md.fmt(stats.mean_a)} vs {md.fmt(stats.mean_b)}", judged))
        judged = conjunction(parts)
        lead = ""
        if not passed:
            judged = Verdict(NOT_EVALUABLE, judged.reason)
            lead = _gate_failure(gates, "repeat-last-value") + "; "
        rows.append(
            _row(
                MTC_CLAIM,
                label,
                judged,
                protocol,
                metric=next(iter(metrics)),
                stats=first,
                gate=gate_text,
                lead=lead,
            )
        )
    return rows


def _interval(runs: pd.DataFrame, condition: str) -> tuple[float | None, ...]:
    return tuple(
        condition_value(runs, "mapping", condition, m)
        for m in ("beta_fit", "beta_fit_low", "beta_fit_high", "gnabar")
    )


def _bridge_rows(runs: pd.DataFrame, settings: CompareSettings) -> list[dict[str, Any]]:
    """Claim 5 per condition: the fitted beta's change from the control's against the label
    mapping's (module docstring)."""
    ref = settings.reference_condition
    protocol = settings.protocols.get("mapping", "")
    beta0, low0, high0, g0 = _interval(runs, ref)
    rows = []
    for condition in settings.conditions:
        if condition == ref:
            continue
        beta, low, high, g = _interval(runs, condition)
        label = f"{condition} − {ref}"
        common = dict(metric="beta_fit")
        if None in (beta, low, high, g, beta0, low0, high0, g0):
            judged = Verdict(NOT_EVALUABLE, "fitted β, its interval or gNa missing (gaps.csv)")
            rows.append(_row(BRIDGE_CLAIM, label, judged, protocol, **common))
            continue
        if beta_unidentified(runs, condition, ref):
            judged = Verdict(NOT_EVALUABLE, "the mapping left β unidentified")
            rows.append(_row(BRIDGE_CLAIM, label, judged, protocol, **common))
            continue
        label_change = math.exp(-g) - math.exp(-g0)
        fit_change = beta - beta0
        text = (
            f"fitted β {md.fmt(beta0)} [{md.fmt(low0)}, {md.fmt(high0)}] → {md.fmt(beta)} "
            f"[{md.fmt(low)}, {md.fmt(high)}] ({fit_change:+.3f}); label exp(−gNa) "
            f"{md.fmt(math.exp(-g0))} → {md.fmt(math.exp(-g))} ({label_change:+.3f})"
        )
        if label_change == 0.0:
            verdict, why = NOT_EVALUABLE, "gNa unchanged: the label mapping predicts no change"
        elif low > high0 or high < low0:
            same = np.sign(fit_change) == np.sign(label_change)
            verdict = SUPPORTED if same else CONTRADICTED
            why = (
                "intervals disjoint, the label's way"
                if same
                else "intervals disjoint, against the label's way"
            )
        else:
            verdict, why = INCONCLUSIVE, "the fits' accepted β ranges overlap: no direction"
        judged = Verdict(verdict, f"{text}: {why}", fit_change / abs(beta0) if beta0 else None)
        row = _row(BRIDGE_CLAIM, label, judged, protocol, **common)
        row.update(mean_group=beta, mean_reference=beta0, mean_diff=fit_change, n=1)
        rows.append(row)
    return rows


def evaluate_claims(runs: pd.DataFrame, settings: CompareSettings) -> pd.DataFrame:
    """One row per claim x comparison (``claims.csv``), in the order of :data:`CLAIMS`."""
    degrade_rows, redistribute_rows, compensate_rows = [], [], []
    for pair in autoencoder_pairs(runs, settings):
        ctx = _Context(runs, settings, pair)
        row, degraded = _claim_degrades(ctx)
        marks = {"offsets": pair.offsets, "beta_unidentified": pair.unidentified}
        degrade_rows.append({**row, **marks})
        redistribute_rows.append({**_claim_redistributed(ctx), **marks})
        for tag in (None, *settings.ae_extra_protocols):
            compensate_rows.append({**_claim_compensates(ctx, degraded, tag), **marks})
    rows = (
        degrade_rows
        + redistribute_rows
        + compensate_rows
        + _mtc_rows(runs, settings)
        + _bridge_rows(runs, settings)
    )
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))


def _tally(rows: pd.DataFrame) -> str:
    counts = {v: int((rows["verdict"] == v).sum()) for v in VERDICTS}
    evaluable = len(rows) - counts[NOT_EVALUABLE]
    if evaluable == 0:
        return f"not evaluable in any of its {len(rows)} comparison(s)"
    decided = ", ".join(f"{counts[v]} {v}" for v in VERDICTS[:-1] if counts[v])
    return (
        f"{decided} of {evaluable} evaluable comparison(s) ({counts[NOT_EVALUABLE]} not evaluable)"
    )


def _is_true(value: Any) -> bool:
    """A ``beta_unidentified`` cell: True, or 'true' when read back from CSV."""
    return value is True or str(value).strip().lower() in ("true", "1", "1.0")


def claim_tally(claims: pd.DataFrame, claim: str) -> str:
    """'k supported, j contradicted, ... of m evaluable comparisons (i not evaluable)', per
    offset arm when the claim has rows of both; comparisons with beta unidentified are
    counted apart, never pooled with the identified ones."""
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
