"""Medians over seeds per (condition, model), beside the MTC paper's medians.

One row per (condition, model) of the runs' ``metrics.json`` (the AdLIF reference appears
as condition ``reference``). Medians are over the runs with status ``ok``; skipped and
diverged runs are counted beside them (``n_ok``, ``n_skipped``, ``n_diverged``) and a
row with no usable run has empty metric cells (never NaN in the JSON, empty in the CSV).

The paper's numbers come from ``data/paper_values/regressor.yaml``
(:mod:`bridge.paper_values`, with a citation per number) and are per model,
independent of condition; ``paper_s_comp_reads`` says how to read S_comp ("> 0.9" is a lower
bound). The paper's evaluation horizon and its S_comm/S_comp definitions are not public, so
compare both of our horizons and read the sparsity columns as same-named, not identical,
quantities.

Columns: condition, model, seeds, n_ok, n_skipped, n_diverged, skip_reason,
n_beats_repeat_last_value (ok runs whose headline.beats_repeat_last_value is true), then the
medians of :data:`METRIC_PATHS` and the paper's ``paper_r2``, ``paper_smape``,
``paper_s_comm``, ``paper_s_comp``, ``paper_s_comp_reads``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.contracts import RegressorMetrics
from bridge.neurons.registry import MODEL_NAMES
from bridge.paper_values import PaperValue

#: (column, path into metrics.json) of every per-run number the table takes a median of.
METRIC_PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("r2_closed_loop", ("evaluation", "closed_loop", "r2")),
    ("smape_closed_loop", ("evaluation", "closed_loop", "smape")),
    ("r2_one_step", ("evaluation", "one_step", "r2")),
    ("smape_one_step", ("evaluation", "one_step", "smape")),
    ("r2_closed_loop_first_lyapunov", ("evaluation", "closed_loop_first_lyapunov_time", "r2")),
    ("s_comm", ("evaluation", "one_step", "s_comm")),
    ("s_comp", ("evaluation", "one_step", "s_comp")),
    ("s_comm_closed_loop", ("evaluation", "closed_loop", "s_comm")),
    ("s_comp_closed_loop", ("evaluation", "closed_loop", "s_comp")),
    ("frac_state_fixed", ("evaluation", "one_step", "frac_state_fixed")),
    ("frac_input_zero", ("evaluation", "one_step", "frac_input_zero")),
    ("n_neurons_state_nonfinite", ("evaluation", "one_step", "n_neurons_state_nonfinite")),
    ("final_loss", ("training", "final_loss")),
    ("train_s", ("timing", "train_s")),
    ("repeat_last_r2_one_step", ("baselines", "repeat_last_value", "one_step", "r2")),
    ("repeat_last_r2_closed_loop", ("baselines", "repeat_last_value", "closed_loop", "r2")),
    (
        "repeat_last_r2_closed_loop_first_lyapunov",
        ("baselines", "repeat_last_value", "closed_loop_first_lyapunov_time", "r2"),
    ),
    ("ridge_ar_r2_one_step", ("baselines", "ridge_ar", "one_step", "r2")),
    ("ridge_ar_r2_closed_loop", ("baselines", "ridge_ar", "closed_loop", "r2")),
    (
        "ridge_ar_r2_closed_loop_first_lyapunov",
        ("baselines", "ridge_ar", "closed_loop_first_lyapunov_time", "r2"),
    ),
    ("ridge_ar_smape_one_step", ("baselines", "ridge_ar", "one_step", "smape")),
    ("ridge_ar_smape_closed_loop", ("baselines", "ridge_ar", "closed_loop", "smape")),
)


def _lookup(metrics: Mapping[str, Any], path: Sequence[str]) -> float | None:
    value: Any = metrics
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    if value is None or isinstance(value, bool):
        return None
    return float(value)


def _median(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.median(finite)) if finite else None


def summarise_runs(
    runs: Sequence[RegressorMetrics | Mapping[str, Any]],
    paper: Mapping[str, Mapping[str, PaperValue]],
    condition_order: Sequence[str] = (),
) -> pd.DataFrame:
    """The medians table (one row per condition x model); see the module docstring.

    Rows follow ``condition_order`` (then any other condition, ``reference`` last) and the
    registry's model order (:data:`bridge.neurons.registry.MODEL_NAMES`).
    """
    if not runs:
        raise ValueError("summarise_runs: no runs given")
    groups: dict[tuple[str, str], list[RegressorMetrics]] = {}
    for run in runs:
        if not isinstance(run, RegressorMetrics):
            run = RegressorMetrics.from_dict(run, "summarise_runs: a metrics record")
        groups.setdefault((run.condition, run.model), []).append(run)
    order = list(condition_order)
    extra = sorted({c for c, _ in groups} - set(order) - {"reference"})
    rank = {c: i for i, c in enumerate([*order, *extra, "reference"])}
    model_rank = {name: i for i, name in enumerate(MODEL_NAMES)}
    unknown_rank = len(model_rank)
    rows = []
    for (condition, model), members in sorted(
        groups.items(),
        key=lambda item: (rank[item[0][0]], model_rank.get(item[0][1], unknown_rank)),
    ):
        ok = [m for m in members if m.ok]
        skipped = [m for m in members if m.status == "skipped"]
        row: dict[str, Any] = {
            "condition": condition,
            "model": model,
            "seeds": " ".join(str(m.seed) for m in sorted(members, key=lambda m: m.seed)),
            "n_ok": len(ok),
            "n_skipped": len(skipped),
            "n_diverged": sum(m.status == "diverged" for m in members),
            "skip_reason": skipped[0].reason if skipped else None,
            "n_beats_repeat_last_value": sum(
                bool(m.data.get("headline", {}).get("beats_repeat_last_value")) for m in ok
            ),
        }
        for column, path in METRIC_PATHS:
            row[column] = _median([_lookup(m.data, path) for m in ok])
        published = paper.get(model, {})
        for metric in ("r2", "smape", "s_comm", "s_comp"):
            entry = published.get(metric)
            row[f"paper_{metric}"] = None if entry is None else entry.value
        s_comp_entry = published.get("s_comp")
        row["paper_s_comp_reads"] = None if s_comp_entry is None else s_comp_entry.reads
        rows.append(row)
    return pd.DataFrame(rows)
