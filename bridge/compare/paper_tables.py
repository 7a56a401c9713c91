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
over seeds) of the trained arms (``results/regressor/reference/{model}``: MTC gains and
offsets, LIF beta and AdLIF's parameters trained, as in the paper), one step ahead, over the
closed loop's first Lyapunov time and over the whole closed loop (the paper's horizon is not
public). The paper's sMAPE is set beside ours on the z-scored series: its pair R2 0.988 with
sMAPE 17 % cannot hold on the raw series (MODELS.md section 6); the raw sMAPE is in
``summary.md``. S_comm and S_comp at each horizon (bridge.regressor.activity).
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
from bridge.contracts import REGRESSOR_HORIZONS
from bridge.paper_values import PaperRecords

#: Paper quantity -> our autoencoder metric.
AUTOENCODER_QUANTITIES = {"test_mse": "test_mse_final", "msed": "msed_train"}
#: Paper quantity -> the stem of our regressor metric (``<stem>_<horizon>``).
REGRESSOR_QUANTITIES: dict[str, str] = {
    "r2": "r2",
    "smape": "smape_z",
    "s_comm": "s_comm",
    "s_comp": "s_comp",
}
#: The horizon at which a published bound is checked (the same true input for every model).
BOUND_HORIZON = "one_step"
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
    "ours_metric",
    "ours_n",
    *(f"{kind}_{h}" for h in REGRESSOR_HORIZONS for kind in ("ours_median", "difference")),
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
    condition = REGRESSOR_REFERENCE_LABEL
    for _, rec in paper.records.iterrows():
        quantity, model = _text(rec["quantity"]), _text(rec["model"])
        relation = _text(rec["relation"]) or "="
        stem = REGRESSOR_QUANTITIES.get(quantity)
        row: dict[str, Any] = {
            "quantity": quantity,
            "model": model,
            "statistic": _text(rec["statistic"]),
            "relation": relation,
            "paper_value": rec["value"],
            "ours_runs": f"{condition} / {model} (trained)",
            "ours_metric": stem or "",
            "source": _text(rec["source"]),
        }
        notes = [_text(rec["note"])] if _text(rec["note"]) else []
        if stem is None:
            notes.append(f"no quantity '{quantity}' in this run")
        n = 0
        for horizon in REGRESSOR_HORIZONS if stem else ():
            values = seed_values(
                runs, "regressor", f"{stem}_{horizon}", condition=condition, model=model
            )
            median = _median(values)
            n = max(n, len(values))
            row[f"ours_median_{horizon}"] = median
            if median is not None and relation in ("=", "~"):
                row[f"difference_{horizon}"] = median - rec["value"]
        if quantity == "smape":
            notes.append("ours on the z-scored series (the raw sMAPE is in summary.md)")
        row["ours_n"] = n
        met = _meets(relation, row.get(f"ours_median_{BOUND_HORIZON}"), float(rec["value"]))
        row["meets_bound"] = "" if met is None else ("yes" if met else "no")
        if n == 0 and stem:
            notes.append("no run of ours holds this value (see gaps.csv)")
        row["note"] = "; ".join(notes)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(REGRESSOR_COLUMNS))
