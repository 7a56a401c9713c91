"""Medians over seeds per (condition, model): the trained arms beside the MTC paper's medians,
the mapped arms beside the trained arm of the same model.

One row per (condition, model) of the runs' ``metrics.json``. ``arm`` is ``trained`` for the
condition ``reference`` (no mapping; every model trains its neuron parameters, as the MTC
paper ran them) and ``mapped`` for a condition's frozen, HH-mapped neuron. Medians are over
the runs with status ``ok``; skipped and diverged runs are counted beside them (``n_ok``,
``n_skipped``, ``n_diverged``) and a row with no usable run has empty metric cells (never
NaN in the JSON, empty in the CSV).

The paper's numbers come from ``data/paper_values/regressor.yaml``
(:mod:`bridge.paper_values`, with a citation per number) and stand on the trained rows only
(the paper trained its neurons); ``paper_s_comp_reads`` says how to read S_comp ("> 0.9" is
a lower bound). The paper's evaluation horizon and its S_comm/S_comp definitions are not
public: compare every horizon, sMAPE on the z-scored series (``smape_z_*``; the raw one
cannot pair with the paper's R^2, :mod:`bridge.regressor.metrics`), and read the activity
columns as same-named, not identical, quantities. A mapped row carries ``trained_<column>``:
the trained arm's median of the same model, for :data:`TRAINED_BESIDE` columns.

Columns: condition, arm, model, seeds, n_ok, n_skipped, n_diverged, skip_reason,
n_beats_repeat_last_value (ok runs whose headline.beats_repeat_last_value is true), the
medians of :data:`METRIC_PATHS` (``{metric}_{horizon}`` for :data:`HORIZON_METRICS` x
:data:`HORIZONS`, then the baselines', training and timing), the paper's ``paper_r2``,
``paper_smape``, ``paper_s_comm``, ``paper_s_comp``, ``paper_s_comp_reads``, and the
``trained_*`` columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.contracts import (
    FIRST_LYAPUNOV,
    REGRESSOR_HORIZON_METRICS,
    REGRESSOR_HORIZONS,
    RegressorMetrics,
)
from bridge.neurons.registry import MODEL_NAMES
from bridge.paper_values import PaperValue

#: Evaluation horizons and the per-horizon numbers the table takes a median of (the
#: metrics.json contract).
HORIZONS = REGRESSOR_HORIZONS
HORIZON_METRICS = REGRESSOR_HORIZON_METRICS
#: Per-horizon numbers of the baselines (short name, key under ``baselines``).
BASELINE_METRICS = ("r2", "smape", "smape_z")
BASELINES = (("repeat_last", "repeat_last_value"), ("ridge_ar", "ridge_ar"))
#: (column, path into metrics.json) of every per-run number the table takes a median of.
METRIC_PATHS: tuple[tuple[str, tuple[str | int, ...]], ...] = (
    *(
        (f"{metric}_{horizon}", ("evaluation", horizon, metric))
        for horizon in HORIZONS
        for metric in HORIZON_METRICS
    ),
    *(
        (f"{short}_{metric}_{horizon}", ("baselines", key, horizon, metric))
        for short, key in BASELINES
        for horizon in HORIZONS
        for metric in BASELINE_METRICS
    ),
    ("n_neurons_state_nonfinite", ("evaluation", "one_step", "n_neurons_state_nonfinite")),
    ("final_loss", ("training", "final_loss")),
    ("train_s", ("timing", "train_s")),
)
#: Columns a mapped row shows beside it from the trained arm of the same model.
TRAINED_BESIDE = tuple(
    f"{metric}_{horizon}"
    for horizon in ("one_step", FIRST_LYAPUNOV)
    for metric in ("r2", "smape_z", "skill_vs_ridge_ar", "s_comm", "activation_sparsity", "s_comp")
)
#: Condition label of the trained arms (bridge.config.regressor.REGRESSOR_REFERENCE_LABEL).
TRAINED_CONDITION = "reference"


def _lookup(metrics: Mapping[str, Any], path: Sequence[str | int]) -> float | None:
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
    extra = sorted({c for c, _ in groups} - set(order) - {TRAINED_CONDITION})
    rank = {c: i for i, c in enumerate([*order, *extra, TRAINED_CONDITION])}
    model_rank = {name: i for i, name in enumerate(MODEL_NAMES)}
    unknown_rank = len(model_rank)
    rows = []
    for (condition, model), members in sorted(
        groups.items(),
        key=lambda item: (rank[item[0][0]], model_rank.get(item[0][1], unknown_rank)),
    ):
        ok = [m for m in members if m.ok]
        skipped = [m for m in members if m.status == "skipped"]
        trained = condition == TRAINED_CONDITION
        row: dict[str, Any] = {
            "condition": condition,
            "arm": "trained" if trained else "mapped",
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
        # The paper trained its neurons: its numbers stand beside the trained arms only.
        published = paper.get(model, {}) if trained else {}
        for metric in ("r2", "smape", "s_comm", "s_comp"):
            entry = published.get(metric)
            row[f"paper_{metric}"] = None if entry is None else entry.value
        s_comp_entry = published.get("s_comp")
        row["paper_s_comp_reads"] = None if s_comp_entry is None else s_comp_entry.reads
        rows.append(row)
    trained_rows = {r["model"]: r for r in rows if r["arm"] == "trained"}
    for row in rows:
        beside = trained_rows.get(row["model"]) if row["arm"] == "mapped" else None
        for column in TRAINED_BESIDE:
            row[f"trained_{column}"] = None if beside is None else beside[column]
    return pd.DataFrame(rows)
