"""Across conditions: the mappings.csv table and whether the analytic (label) beta and the
fitted beta move the same way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import pandas as pd

TREND_RULE = (
    "all pairs of usable conditions (use_downstream true); a pair is concordant when "
    "beta_analytic and beta_fit change in the same direction, discordant when opposite, tied "
    "when either does not change; same_direction = no discordant and >= 1 concordant pair "
    "(null with fewer than two usable conditions)"
)


def beta_trend_agreement(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Compare beta_analytic and beta_fit across LIF results (``LifFitResult.to_dict()``)."""
    usable = [r for r in records if r["use_downstream"]]
    skipped = {str(r["condition"]): str(r["status"]) for r in records if not r["use_downstream"]}
    counts = {"concordant": 0, "discordant": 0, "tied": 0}
    pairs = []
    for a, b in combinations(usable, 2):
        d_analytic = b["beta_analytic"] - a["beta_analytic"]
        d_fit = b["beta_fit"] - a["beta_fit"]
        product = d_analytic * d_fit
        kind = "tied" if product == 0 else ("concordant" if product > 0 else "discordant")
        counts[kind] += 1
        pairs.append({"conditions": [a["condition"], b["condition"]], "kind": kind})
    same = None
    if len(usable) >= 2:
        same = counts["discordant"] == 0 and counts["concordant"] > 0
    return {
        "same_direction": same,
        "concordant_pairs": counts["concordant"],
        "discordant_pairs": counts["discordant"],
        "tied_pairs": counts["tied"],
        "pairs": pairs,
        "n_conditions_used": len(usable),
        "skipped": skipped,
        "rule": TREND_RULE,
    }


def _bounds(name: str, values: Any, unit: str = "") -> dict[str, Any]:
    """``{name}_lo{unit}`` and ``{name}_hi{unit}`` of a [lo, hi] interval (None when absent)."""
    ok = isinstance(values, (list, tuple)) and len(values) == 2
    return {
        f"{name}_lo{unit}": values[0] if ok else None,
        f"{name}_hi{unit}": values[1] if ok else None,
    }


def _joined(values: Any) -> str:
    return ";".join(map(str, values)) if isinstance(values, (list, tuple)) else ""


def _bounds_hit(entries: Any) -> str:
    """``a_fast=high;tau_ms=low`` from a fit's ``at_bound`` list."""
    if not isinstance(entries, (list, tuple)):
        return ""
    return ";".join(
        f"{e.get('parameter')}={e.get('side')}" for e in entries if isinstance(e, Mapping)
    )


def table_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One mappings.csv row: flat numbers and statuses (None where undefined)."""
    mtc = record["mtc"]
    iv = record["intervals"]
    miv = mtc["intervals"]
    hh = record["hh"]
    membrane = record.get("beta_membrane_detail") or {}
    return {
        "condition": record["condition"],
        "gnabar": record["gnabar"],
        "hh_spontaneous": hh["spontaneous"],
        "hh_spontaneous_rate_hz": hh["spontaneous_rate_hz"],
        "hh_rheobase_single_uA_cm2": hh["rheobase_single_uA_cm2"],
        "hh_rheobase_repetitive_uA_cm2": hh["rheobase_repetitive_uA_cm2"],
        "hh_block_onset_uA_cm2": hh["block_onset_uA_cm2"],
        "hh_excitability": hh.get("excitability"),
        "lif_status": record["status"],
        "lif_status_flags": _joined(record.get("status_flags")),
        "lif_objective_per_point": record.get("objective_per_point"),
        "lif_at_bound": _bounds_hit(record.get("at_bound")),
        "lif_use_downstream": record["use_downstream"],
        "beta_analytic": record["beta_analytic"],
        "beta_membrane": record["beta_membrane"],
        "beta_membrane_reason": membrane.get("reason"),
        "beta_fit": record["beta_fit"],
        **_bounds("beta_fit", iv.get("beta")),
        "tau_fit_ms": record["tau_fit_ms"],
        **_bounds("tau_fit", iv.get("tau_ms"), "_ms"),
        "bias_fit": record["bias_fit"],
        **_bounds("bias_fit", iv.get("bias")),
        "w_per_nA": record["w_per_nA"],
        "alpha_syn": record["alpha_syn"],
        "beta_syn": record["beta_syn"],
        "lif_objective": record["objective"],
        "lif_converged": record["converged"],
        "mtc_status": mtc["status"],
        "mtc_status_flags": _joined(mtc.get("status_flags")),
        "mtc_objective_per_point": mtc.get("objective_per_point"),
        "mtc_at_bound": _bounds_hit(mtc.get("at_bound")),
        "mtc_use_downstream": mtc["use_downstream"],
        "a_fast": mtc["a_fast"],
        **_bounds("a_fast", miv.get("a_fast")),
        "i_bias": mtc["i_bias"],
        **_bounds("i_bias", miv.get("i_bias")),
        "a_slow_pos": mtc["a_slow_pos"],
        "input_scale_per_nA": mtc["input_scale"],
        "input_offset": mtc["input_offset"],
        "mtc_objective": mtc["objective"],
        "mtc_converged": mtc["converged"],
        "dt_ms": record["dt_ms"],
        "mtc_time_unit_ms": record["mtc_time_unit_ms"],
        "mtc_dt": mtc["dt"],
        **validation_columns(record.get("validation") or {}),
    }


#: Per-model validation scores copied into mappings.csv (summary key -> column stem).
VALIDATION_SCORES = ("hit_fraction", "count_ratio", "timing_offset_ms")


def validation_columns(validation: Mapping[str, Any]) -> dict[str, Any]:
    """Held-out timing and transient scores per model (means over levels; None: not
    evaluable) and the flags, as mappings.csv columns."""
    out: dict[str, Any] = {}
    windows = (validation.get("settings") or {}).get("windows_ms", ())
    transient_windows = (validation.get("hh_transient") or {}).get("windows_ms", ())
    for model in ("lif", "lif_fine", "mtc", "lif_timing_fit"):
        part = validation.get(model) or {}
        summary = part.get("summary") or {}
        for window in windows:
            out[f"{model}_gamma_{window:g}ms"] = summary.get(f"gamma_{window:g}ms")
        for key in VALIDATION_SCORES:
            out[f"{model}_{key}"] = summary.get(key)
        transient = part.get("transient")
        if model in ("lif_fine", "lif_timing_fit"):
            continue
        for window in transient_windows:
            key = f"count_mae_{window:g}ms"
            out[f"{model}_transient_{key}"] = None if transient is None else transient[key]
        out[f"{model}_transient_latency_mae_ms"] = (
            None if transient is None else transient["latency_mae_ms"]
        )
    flags = validation.get("flags") or {}
    for model in ("lif", "mtc"):
        out[f"{model}_validation_flags"] = ";".join(flags.get(model, []))
    return out


def mapping_table(
    records: Sequence[Mapping[str, Any]], trend: Mapping[str, Any]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """mappings.csv (one row per record, booleans as true/false, the beta trend in every
    row) and its empty-cell count per column."""
    frame = pd.DataFrame([table_row(r) for r in records])
    same = trend["same_direction"]
    frame["beta_trend_same_direction"] = "" if same is None else ("true" if same else "false")
    frame["beta_trend_n_conditions_used"] = trend["n_conditions_used"]
    for column in frame.columns:
        if frame[column].map(lambda v: isinstance(v, bool)).all():
            frame[column] = frame[column].map(lambda v: "true" if v else "false")
    n_null = {c: int(frame[c].isna().sum()) for c in frame.columns if frame[c].isna().any()}
    return frame, n_null
