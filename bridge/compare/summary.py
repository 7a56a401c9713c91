"""``results/summary.md``: what this run says about the papers' claims, condition by condition.

Order: what was run; the baselines the claims depend on; every condition at a glance; each
claim with its comparisons, numbers and verdicts; the published numbers beside ours; the
gaps. Verdicts come from :mod:`bridge.compare.claims`; the rules are restated in the text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.compare import markdown as md
from bridge.compare.claims import (
    BRIDGE_CLAIM,
    CLAIMS,
    MTC_CLAIM,
    autoencoder_gate,
    claim_tally,
    regressor_gate,
)
from bridge.compare.collect import GAP_COLUMNS
from bridge.compare.comparisons import condition_value, seed_values
from bridge.compare.conditions import defining_text, summarise
from bridge.compare.paths import FROZEN, benchmark_arm, condition_scenario, label_scenario
from bridge.config.compare import CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import CONDITION_MODELS, MODEL_NAMES

#: Gaps listed one by one in the summary; the rest are counted (all are in gaps.csv).
MAX_LISTED_GAPS = 25
#: Regressor horizons in the order the summary shows them, with their titles.
SUMMARY_HORIZONS = {
    "one_step": "one step",
    "closed_loop_first_lyapunov_time": "closed loop, 1st Lyapunov time",
    "closed_loop": "closed loop, test span",
}
#: Accuracy columns per horizon: metric stem -> title.
ACCURACY_COLUMNS = {
    "r2": "R²",
    "smape": "sMAPE % raw",
    "smape_z": "sMAPE % z",
    "skill_vs_ridge_ar": "skill vs ridge AR",
}
#: Activity columns per horizon (bridge.regressor.activity): metric stem -> title.
ACTIVITY_COLUMNS = {
    "s_comm": "S_comm",
    "activation_sparsity": "act. sparsity",
    "synaptic_ops": "syn. ops/step",
    "s_comp": "S_comp",
}
#: Horizons of the activity table: identical true input, and the free run's first phase.
ACTIVITY_HORIZONS = ("one_step", "closed_loop_first_lyapunov_time")


def _rules_text(settings: CompareSettings) -> list[str]:
    r = settings.claims
    protocols = "; ".join(settings.protocols.values())
    return [
        f"- Verdicts from paired seeds (≥ {r.min_n}; fewer: a point estimate, no verdict): "
        f"**supported** when the {settings.confidence:.0%} t interval of the mean paired "
        "difference excludes 0 the claimed way and the change is at least the effect floor; "
        "**contradicted** the same the other way; **not supported** when the interval rules "
        "out a claimed change as large as the floor (or the change is significant but "
        "smaller); **inconclusive** when it cannot (the minimum detectable effect at power "
        f"{r.power:g} is given); **not evaluable** for a failed precondition or a metric that "
        "is the same for every compared run.",
        f"- Effect floor: the larger of {r.min_relative_effect:.0%} of the reference mean and "
        "the median difference between two benchmark seeds (what reseeding alone does).",
        f"- Claims 1–3 compare `{r.overfiring_scenario}` with `{r.benchmark_scenario}` (the "
        "paper's pair) and every overfiring condition (its HH cell fires faster than the "
        f"control at {settings.reference_current_uA_cm2:g} µA/cm² or without input) with "
        f"`{settings.reference_condition}`; they are not evaluable when the benchmark (or the "
        "control's) autoencoder did not beat the mean-image baseline without noise.",
        f"- Claim 2: the mean layer rate must be equivalent within ±{r.equivalence_margin:.0%} "
        "of the reference's (two one-sided tests) and the layers' relative changes must differ "
        "(layer × scenario interaction, repeated-measures F) with layers going both ways.",
        f"- Claim 3 (σ = {settings.noisy_sigma:g}): the overfiring network's own MSE must fall "
        "with noise (paired by seed) and its gap to the reference must shrink.",
        "- Claim 4 on the trained arms (MTC gains/offsets, LIF β, AdLIF parameters trained): "
        "R² higher and z-scored sMAPE lower at "
        + ", ".join(h.replace("_", " ") for h in r.accuracy_horizons)
        + ", S_comm lower and S_comp higher one step ahead; the full closed loop is reported, "
        f"not judged. Not evaluable unless {', '.join(r.gate_models) or 'no model'} beat(s) "
        f"repeat-last-value's R² at: {', '.join(r.gate_horizons)}.",
        "- Claim 5 (the bridge): the fitted β's change from the control against the label "
        "mapping's β = exp(−gNa), judged by the fits' accepted-region intervals (deterministic "
        "fits, no seeds).",
        f"- p-values only from {settings.min_n_p_value} paired seeds on (see `compare/stats.csv`).",
        "- Condition pairs are judged per offset arm: `cond_<c>` (trainable layer biases and "
        "BatchNorm shifts, as the paper) against the trained benchmark, `cond_<c>.frozen` "
        "(those offsets fixed at 0, so training cannot cancel the mapped bias) against "
        f"`{r.benchmark_scenario}.frozen`; arms are tallied apart. Pairs with a condition whose "
        "mapping left β unidentified are judged but tallied apart, never pooled.",
        f"- Protocols: {protocols}.",
    ]


def _regressor_runs(settings: CompareSettings) -> list[tuple[str, str]]:
    """(condition, model): the trained arms first, then MTC and LIF mapped per condition."""
    trained = [(REGRESSOR_REFERENCE_LABEL, m) for m in MODEL_NAMES]
    return trained + [(c, m) for c in settings.conditions for m in CONDITION_MODELS]


def _run_label(condition: str, model: str) -> str:
    if condition == REGRESSOR_REFERENCE_LABEL:
        return f"{model} trained"
    return f"{model} mapped: {condition}"


def _regressor_mean_sd(runs: pd.DataFrame, condition: str, model: str, metric: str) -> str:
    values = seed_values(runs, "regressor", metric, condition=condition, model=model)
    return md.mean_sd(*summarise(list(values.values())))


def _per_run_table(
    runs: pd.DataFrame,
    settings: CompareSettings,
    columns: Mapping[str, str],
    horizons: Sequence[str],
    judged: Sequence[str] = (),
) -> pd.DataFrame:
    out: dict[str, list[str]] = {"runs": []}
    for condition, model in _regressor_runs(settings):
        out["runs"].append(_run_label(condition, model))
        for horizon in horizons:
            mark = " (judged)" if horizon in judged else ""
            for stem, name in columns.items():
                column = f"{name}, {SUMMARY_HORIZONS[horizon]}{mark}"
                value = _regressor_mean_sd(runs, condition, model, f"{stem}_{horizon}")
                out.setdefault(column, []).append(value)
    return pd.DataFrame(out)


def _horizons_table(runs: pd.DataFrame, settings: CompareSettings) -> pd.DataFrame:
    """Accuracy at every horizon (mean ± SD over seeds) and how many runs beat
    repeat-last-value one step ahead and over the first Lyapunov time."""
    table = _per_run_table(
        runs, settings, ACCURACY_COLUMNS, list(SUMMARY_HORIZONS), settings.claims.accuracy_horizons
    )
    beats_column = []
    for condition, model in _regressor_runs(settings):
        beats = seed_values(
            runs, "regressor", "beats_repeat_last_value", condition=condition, model=model
        )
        beats_column.append(
            f"{int(sum(v > 0 for v in beats.values()))} of {len(beats)}" if beats else ""
        )
    table["beats repeat-last"] = beats_column
    return table


def _baselines_line(runs: pd.DataFrame) -> str:
    """The trivial and linear baselines' median R² per horizon (one series for every run)."""
    regressor = runs[(runs["stage"] == "regressor") & runs["value"].notna()]
    parts = []
    for name, stem in (("repeat-last-value", "repeat_last_r2"), ("ridge AR", "ridge_ar_r2")):
        values = []
        for horizon, title in SUMMARY_HORIZONS.items():
            picked = regressor.loc[regressor["metric"] == f"{stem}_{horizon}", "value"]
            if len(picked):
                values.append(f"{title} {md.fmt(float(np.median(picked)))}")
        if values:
            parts.append(f"{name} R²: " + ", ".join(values))
    return "Baselines on the same test span: " + "; ".join(parts) + "." if parts else ""


def _gates_text(runs: pd.DataFrame, settings: CompareSettings) -> list[str]:
    gates = [autoencoder_gate(runs, settings.claims.benchmark_scenario)]
    for mode in settings.ae_condition_offsets:
        if mode == FROZEN:
            gates.append(autoencoder_gate(runs, benchmark_arm(settings, FROZEN)))
        gates += [autoencoder_gate(runs, condition_scenario(c, mode)) for c in settings.conditions]
    gates += [
        regressor_gate(runs, condition, model, h)
        for condition, model in _regressor_runs(settings)
        for h in SUMMARY_HORIZONS
    ]
    lines = []
    for g in gates:
        state = {True: "beats it", False: "**does not beat it**", None: "no runs"}[g.passed]
        lines.append(f"- {g.name}: {state} — {g.detail}")
    return lines


def _glance(
    runs: pd.DataFrame, conditions: pd.DataFrame, settings: CompareSettings
) -> pd.DataFrame:
    noisy = f"{settings.noisy_sigma:g}"
    out: dict[str, Any] = {
        "condition": [
            f"{c} (reference)" if c == settings.reference_condition else c
            for c in conditions["condition"]
        ],
        "gNa (S/cm²)": conditions["gnabar"],
        "defined by (vs the reference)": defining_text(conditions, settings.reference_condition),
        "HH spont. rate (Hz)": conditions["hh_spontaneous_rate_hz"],
        f"HH rate at {settings.reference_current_uA_cm2:g} µA/cm² (Hz)": conditions[
            "hh_rate_at_reference_hz"
        ],
        "β fit": conditions["beta_fit"],
        "β unidentified": conditions["ae_beta_unidentified"],
        "MTC a_fast": conditions["mtc_a_fast"],
        # Held-out spike timing of the mapped models at the hit window (mapping.validation).
        "LIF Γ held out": conditions["map_lif_gamma"],
        "MTC Γ held out": conditions["map_mtc_gamma"],
    }
    stems = [
        ("AE test MSE σ=0", "ae_test_mse_noiseless"),
        (f"AE test MSE σ={noisy}", "ae_test_mse_noisy"),
        ("AE mean layer rate", "ae_mean_layer_rate_noiseless"),
    ]
    if FROZEN in settings.ae_condition_offsets:
        stems.insert(1, ("AE test MSE σ=0, offsets frozen", "ae_frozen_test_mse_noiseless"))
    for title, stem in stems:
        out[title] = [
            md.mean_sd(m, s, n)
            for m, s, n in zip(
                conditions[f"{stem}_mean"],
                conditions[f"{stem}_sd"],
                conditions[f"{stem}_n"],
                strict=True,
            )
        ]
    # R² at claim 4's first horizon (conditions.csv holds two of the three).
    horizon = settings.claims.accuracy_horizons[0]
    for model in CONDITION_MODELS:
        out[f"{model.upper()} R²"] = [
            _regressor_mean_sd(runs, c, model, f"r2_{horizon}") for c in conditions["condition"]
        ]
    out["gaps"] = conditions["n_gaps"]
    return pd.DataFrame(out)


def _condition_lines(conditions: pd.DataFrame, gaps: pd.DataFrame) -> list[str]:
    lines = []
    for _, row in conditions.iterrows():
        name = row["condition"]
        mine = gaps[gaps["condition"] == name] if len(gaps) else gaps
        missing = mine[mine["kind"].isin(["file_missing", "run_skipped", "run_diverged"])]
        status = f"mapping: LIF {row['map_lif_status'] or '—'}, MTC {row['map_mtc_status'] or '—'}"
        text = f"- **{name}**: {status}"
        if len(missing):
            kinds = ", ".join(
                f"{k.replace('_', ' ')} × {n}" for k, n in missing["kind"].value_counts().items()
            )
            text += f"; network runs absent: {kinds}"
        else:
            text += "; all network runs present"
        lines.append(text + ".")
    return lines


def _claims_section(
    claims: pd.DataFrame, runs: pd.DataFrame, settings: CompareSettings
) -> list[str]:
    lines = []
    for i, (claim, title) in enumerate(CLAIMS.items(), start=1):
        rows = claims[claims["claim"] == claim]
        lines += [f"### {i}. {title}", "", f"**{claim_tally(claims, claim)}.**", ""]
        table = pd.DataFrame(
            {
                "comparison": rows["comparison"],
                "verdict": rows["verdict"],
                "n": rows["n"],
                "difference": rows["mean_diff"],
                "interval": [
                    "" if md.is_missing(lo) else f"[{md.fmt(lo)}, {md.fmt(hi)}]"
                    for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
                ],
                "Hedges' g": rows["hedges_g"],
                "floor": rows["floor"],
                "numbers and reason": rows["reason"],
            }
        )
        lines += [md.table(table), ""]
        protocols = ", ".join(p for p in dict.fromkeys(rows["protocol"].fillna("")) if p)
        if protocols:
            lines += [f"Protocol: {protocols}.", ""]
        if claim == BRIDGE_CLAIM:
            lines += _label_arm_lines(runs, settings)
        if claim == MTC_CLAIM:
            lines += [
                "Accuracy at every horizon (mean ± SD over seeds; the verdicts use those marked "
                "judged; skill = 1 − MSE / the baseline's MSE). Over the whole test span a "
                "free-running forecast of a chaotic series has lost its phase, so R² there "
                "rewards fading to the mean; the first Lyapunov time is where the free run can "
                "still track the series.",
                "",
                md.table(_horizons_table(runs, settings)),
                "",
                _baselines_line(runs),
                "",
                "Activity (bridge.regressor.activity: S_comm = spike events per neuron-step, "
                "an MTC event being an upward crossing of its spike threshold; activation "
                "sparsity and synaptic operations as NeuroBench defines them):",
                "",
                md.table(_per_run_table(runs, settings, ACTIVITY_COLUMNS, ACTIVITY_HORIZONS)),
                "",
            ]
    return lines


def _label_arm_lines(runs: pd.DataFrame, settings: CompareSettings) -> list[str]:
    """The same autoencoder with the label mapping's beta and with the fitted beta."""
    if not settings.ae_label_arm:
        return [
            "The autoencoder arms with the label mapping's β (`cond_<c>.label`) are not run by "
            "this config (`autoencoder.label_arm: false`; the full config runs them).",
            "",
        ]
    out: dict[str, list[str]] = {"condition": [], "β label": [], "β fitted": []}
    for condition in settings.conditions:
        g = condition_value(runs, "mapping", condition, "gnabar")
        out["condition"].append(condition)
        out["β label"].append(md.fmt(math.exp(-g)) if g is not None else "")
        out["β fitted"].append(md.fmt(condition_value(runs, "mapping", condition, "beta_fit")))
        for sigma in (settings.noiseless_sigma, settings.noisy_sigma):
            for name, scenario in (
                ("label", label_scenario(condition)),
                ("fitted", condition_scenario(condition)),
            ):
                values = seed_values(
                    runs, "autoencoder", "test_mse_final", scenario=scenario, sigma=sigma
                )
                column = f"test MSE σ={sigma:g}, {name} β"
                out.setdefault(column, []).append(md.mean_sd(*summarise(list(values.values()))))
    return [
        "The same autoencoder with the label mapping's β (α, β_syn and bias the benchmark's) "
        "and with the fitted mapping (paired rows `label - fitted` in `compare/stats.csv`):",
        "",
        md.table(pd.DataFrame(out)),
        "",
    ]


def _paper_section(paper_ae: pd.DataFrame, paper_reg: pd.DataFrame) -> list[str]:
    lines = ["## Against the published numbers", ""]
    ae = paper_ae[paper_ae["quantity"] == "test_mse"] if len(paper_ae) else paper_ae
    if len(ae):
        lines += [
            "Autoencoder test MSE without noise (paper Table 2); ranks 1 = lowest:",
            "",
            md.table(
                pd.DataFrame(
                    {
                        "scenario": ae["scenario"],
                        "paper": ae["paper_value"],
                        "ours": [
                            md.mean_sd(m, s, n)
                            for m, s, n in zip(
                                ae["ours_mean"], ae["ours_sd"], ae["ours_n"], strict=True
                            )
                        ],
                        "ours − paper": ae["difference"],
                        "ours / mean image": ae["ours_over_mean_image"],
                        "rank paper": ae["paper_rank"],
                        "rank ours": ae["ours_rank"],
                    }
                )
            ),
            "",
        ]
    else:
        lines += ["No published autoencoder values were available (see the compare log).", ""]
    if len(paper_reg):
        lines += [
            "Regressor (MTC paper medians; ours: medians over seeds of the trained arms; the "
            "paper's sMAPE beside ours on the z-scored series):",
            "",
            md.table(
                paper_reg[
                    [
                        "quantity",
                        "model",
                        "relation",
                        "paper_value",
                        "ours_median_one_step",
                        "ours_median_closed_loop_first_lyapunov_time",
                        "ours_median_closed_loop",
                        "ours_n",
                        "meets_bound",
                    ]
                ]
            ),
            "",
        ]
    else:
        lines += ["No published regressor values were available (see the compare log).", ""]
    lines += [
        "Full tables: `compare/paper_vs_ours_autoencoder.md`, "
        "`compare/paper_vs_ours_regressor.md`.",
        "",
    ]
    return lines


def _gaps_section(gaps: pd.DataFrame) -> list[str]:
    if not len(gaps):
        return ["## Gaps", "", "None: every expected file and value was there.", ""]
    lines = [
        "## Gaps",
        "",
        f"{len(gaps)} value(s) or file(s) missing; every one is an empty cell in the tables "
        "and a row of `compare/gaps.csv`. By kind: "
        + ", ".join(f"{k} {n}" for k, n in gaps["kind"].value_counts().sort_index().items())
        + ".",
        "",
    ]
    listed = gaps.head(MAX_LISTED_GAPS)
    lines += [md.table(listed[list(GAP_COLUMNS)]), ""]
    if len(gaps) > MAX_LISTED_GAPS:
        lines += [f"... and {len(gaps) - MAX_LISTED_GAPS} more in `compare/gaps.csv`.", ""]
    return lines


def summary_markdown(
    runs: pd.DataFrame,
    gaps: pd.DataFrame,
    conditions: pd.DataFrame,
    claims: pd.DataFrame,
    paper_ae: pd.DataFrame,
    paper_reg: pd.DataFrame,
    settings: CompareSettings,
    prov: Mapping[str, Any],
) -> str:
    """The whole summary (module docstring)."""
    names = ", ".join(
        f"`{c}`" + (" (reference)" if c == settings.reference_condition else "")
        for c in settings.conditions
    )
    lines = [
        "# Summary: channelopathy conditions from the HH cell to two spiking networks",
        "",
        f"Conditions ({len(settings.conditions)}): {names}. Autoencoder seeds "
        f"{list(settings.ae_seeds)}, input noise σ {[float(s) for s in settings.ae_sigmas]}; "
        f"regressor seeds {list(settings.regressor_seeds)}. Paired statistics are by seed; "
        "every number below is in `compare/` (conditions, stats, claims, paper-vs-ours).",
        "",
        "## Decision rules (config `compare:`)",
        "",
        *_rules_text(settings),
        "",
        "## Baselines (a metric is only as good as its trivial baseline)",
        "",
        *_gates_text(runs, settings),
        "",
        "## Conditions",
        "",
        md.table(_glance(runs, conditions, settings)),
        "",
        *_condition_lines(conditions, gaps),
        "",
        "## Claims",
        "",
        *_claims_section(claims, runs, settings),
        *_paper_section(paper_ae, paper_reg),
        *_gaps_section(gaps),
        md.provenance_line(prov),
        "",
    ]
    return "\n".join(lines)
