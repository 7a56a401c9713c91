"""Paper-vs-ours tables: every published number beside this run's, differences shown.

Autoencoder (``paper_vs_ours_autoencoder``): one row per published number. Test MSE and
MSEd of the paper's scenarios are compared without input noise as mean ± SD over seeds,
with the difference, the ratio, each scenario's rank among the paper's scenarios (1 = lowest)
in the paper and here, and ours over the mean-image baseline (MSE at or above 1 has learned
nothing an average digit does not give). MSEd is ours on the training curve with a
one-iteration step; the paper does not state its step, so only ranks compare. Layer firing
rates are the final epoch's on the test set, noiseless at sigma 0 and noisy at
``compare.noisy_sigma`` (the paper does not state its noise SD).

Regressor (``paper_vs_ours_regressor``): per model, the paper's median beside ours (median
over seeds) for the control condition (MTC, LIF) and the AdLIF reference, closed loop and
one step ahead (the paper's horizon is not public); S_comm / S_comp from the one-step run.
A published bound (``>``, ``<``) is checked, not subtracted.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bridge.compare.comparisons import seed_values
from bridge.compare.conditions import summarise
from bridge.config.compare import CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.neurons.registry import REFERENCE_MODEL
from bridge.paper_values import PaperRecords

#: Paper quantity -> our autoencoder metric.
AUTOENCODER_QUANTITIES = {"test_mse": "test_mse_final", "msed": "msed_train"}
#: Paper quantity -> our regressor metric per horizon (None: not defined at that horizon).
REGRESSOR_QUANTITIES: dict[str, dict[str, str | None]] = {
    "r2": {"closed_loop": "r2_closed_loop", "one_step": "r2_one_step"},
    "smape": {"closed_loop": "smape_closed_loop", "one_step": "smape_one_step"},
    "s_comm": {"closed_loop": None, "one_step": "s_comm"},
    "s_comp": {"closed_loop": None, "one_step": "s_comp"},
}
MSED_NOTE = "absolute MSEd not comparable (the paper's iteration step is not stated): compare ranks"
AUTOENCODER_COLUMNS = (
    "quantity",
    "scenario",
    "layer",
    "noise",
    "sigma",
    "paper_value",
    "ours_mean",
    "ours_sd",
    "ours_n",
    "difference",
    "ratio",
    "paper_rank",
    "ours_rank",
    "ours_over_mean_image",
    "source",
    "note",
)
REGRESSOR_COLUMNS = (
    "quantity",
    "model",
    "statistic",
    "relation",
    "paper_value",
    "ours_runs",
    "ours_n",
    "ours_median_closed_loop",
    "difference_closed_loop",
    "ours_median_one_step",
    "difference_one_step",
    "meets_bound",
    "source",
    "note",
)


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _ranks(values: dict[str, float | None]) -> dict[str, int]:
    """Rank (1 = lowest) among the scenarios that have a value."""
    present = sorted((v, k) for k, v in values.items() if v is not None)
    return {k: i + 1 for i, (_, k) in enumerate(present)}


def autoencoder_table(
    runs: pd.DataFrame, paper: PaperRecords, settings: CompareSettings
) -> pd.DataFrame:
    """``paper_vs_ours_autoencoder`` (module docstring)."""
    records = paper.records
    noiseless = settings.noiseless_sigma
    ours: dict[tuple[str, str], tuple[float | None, float | None, int]] = {}
    for quantity, metric in AUTOENCODER_QUANTITIES.items():
        for scenario in settings.paper_scenarios:
            values = seed_values(runs, "autoencoder", metric, scenario=scenario, sigma=noiseless)
            ours[(quantity, scenario)] = summarise(list(values.values()))
    paper_ranks, ours_ranks = {}, {}
    for quantity in AUTOENCODER_QUANTITIES:
        mask = records["quantity"] == quantity
        published = {
            s: v
            for s, v in zip(records.loc[mask, "scenario"], records.loc[mask, "value"], strict=True)
        }
        # The paper's rank among all its published scenarios; ours among those this run has.
        paper_ranks[quantity] = _ranks(published)
        ours_ranks[quantity] = _ranks({s: ours[(quantity, s)][0] for s in settings.paper_scenarios})
    rows = []
    for _, rec in records.iterrows():
        quantity, scenario = _text(rec["quantity"]), _text(rec["scenario"])
        layer, noise = _text(rec["layer"]), _text(rec["noise"])
        row: dict[str, Any] = {
            "quantity": quantity,
            "scenario": scenario,
            "layer": layer,
            "noise": noise,
            "paper_value": rec["value"],
            "source": _text(rec["source"]),
        }
        notes = [_text(rec["note"])] if _text(rec["note"]) else []
        if quantity in AUTOENCODER_QUANTITIES:
            mean, sd, n = ours.get((quantity, scenario), (None, None, 0))
            row["sigma"] = noiseless
            row["paper_rank"] = paper_ranks[quantity].get(scenario)
            row["ours_rank"] = ours_ranks[quantity].get(scenario)
            if quantity == "test_mse":
                base = seed_values(
                    runs, "autoencoder", "baseline_mean_image_mse", scenario=scenario, sigma=0.0
                )
                base_mean = summarise(list(base.values()))[0]
                if mean is not None and base_mean:
                    row["ours_over_mean_image"] = mean / base_mean
            elif not notes:
                notes.append(MSED_NOTE)
        elif quantity == "firing_rate":
            sigma = settings.noisy_sigma if noise == "noisy" else noiseless
            values = seed_values(
                runs, "autoencoder", f"rate_{layer}", scenario=scenario, sigma=sigma
            )
            mean, sd, n = summarise(list(values.values()))
            row["sigma"] = sigma
            if noise == "noisy":
                notes.append(f"paper's noise SD not stated; ours at sigma {sigma:g}")
        else:
            mean, sd, n = None, None, 0
            notes.append(f"no quantity '{quantity}' in this run")
        not_run = bool(scenario) and scenario not in settings.paper_scenarios
        if not_run:
            notes.append("scenario not run by this config (autoencoder.run_paper_scenarios)")
        row.update(ours_mean=mean, ours_sd=sd, ours_n=n)
        if mean is not None:
            row["difference"] = mean - rec["value"]
            row["ratio"] = mean / rec["value"] if rec["value"] else None
        elif not not_run and not any("no quantity" in x for x in notes):
            notes.append("no run of ours holds this value (see gaps.csv)")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(AUTOENCODER_COLUMNS))


def _regressor_runs(model: str, settings: CompareSettings) -> str:
    return REGRESSOR_REFERENCE_LABEL if model == REFERENCE_MODEL else settings.reference_condition


def _median(values: dict[int, float]) -> float | None:
    return float(np.median(list(values.values()))) if values else None


def _meets(relation: str, ours: float | None, paper: float) -> bool | None:
    if ours is None or relation not in (">", "<"):
        return None
    return ours > paper if relation == ">" else ours < paper


def regressor_table(
    runs: pd.DataFrame, paper: PaperRecords, settings: CompareSettings
) -> pd.DataFrame:
    """``paper_vs_ours_regressor`` (module docstring)."""
    rows = []
    for _, rec in paper.records.iterrows():
        quantity, model = _text(rec["quantity"]), _text(rec["model"])
        relation = _text(rec["relation"]) or "="
        condition = _regressor_runs(model, settings)
        row: dict[str, Any] = {
            "quantity": quantity,
            "model": model,
            "statistic": _text(rec["statistic"]),
            "relation": relation,
            "paper_value": rec["value"],
            "ours_runs": f"{condition} / {model}",
            "source": _text(rec["source"]),
        }
        notes = [_text(rec["note"])] if _text(rec["note"]) else []
        metrics = REGRESSOR_QUANTITIES.get(quantity)
        if metrics is None:
            notes.append(f"no quantity '{quantity}' in this run")
            metrics = {}
        n = 0
        for horizon in ("closed_loop", "one_step"):
            metric = metrics.get(horizon)
            if metric is None:
                continue
            values = seed_values(runs, "regressor", metric, condition=condition, model=model)
            median = _median(values)
            n = max(n, len(values))
            row[f"ours_median_{horizon}"] = median
            if median is not None and relation in ("=", "~"):
                row[f"difference_{horizon}"] = median - rec["value"]
        if metrics and metrics.get("closed_loop") is None:
            notes.append("one-step run only (sparsity of identical true-input drive)")
        row["ours_n"] = n
        met = _meets(relation, row.get("ours_median_one_step"), float(rec["value"]))
        if quantity in ("r2", "smape"):
            met = _meets(relation, row.get("ours_median_closed_loop"), float(rec["value"]))
        row["meets_bound"] = "" if met is None else ("yes" if met else "no")
        if n == 0 and metrics:
            notes.append("no run of ours holds this value (see gaps.csv)")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(REGRESSOR_COLUMNS))
