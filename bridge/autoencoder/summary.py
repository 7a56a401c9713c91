"""The autoencoder stage's tables: every run, Table 2 ours vs the paper's, and MSEl.

``runs.csv``: one row per run (scenario x sigma x seed, plus the benchmark's null-seed runs,
``null_only`` true). Skipped runs keep their row with empty metrics and the reason. ``offsets``
says whether the run trained its layer biases and BatchNorm shifts (``trained``) or kept them
at 0 (``frozen``, scenarios ``*.frozen``); ``noise_sampling`` and ``noise_target`` give the
run's noise protocol (an extra protocol's scenarios end in ``.<sampling>_<target>`` and have
no noiseless runs); ``beta_source`` says where beta came from (``config``: a paper scenario,
``fitted``: a condition's mapping, ``label``: the label arm ``cond_<c>.label``, beta =
exp(-``label_gnabar``)); ``beta_unidentified`` marks a condition whose
mapping could not identify beta. Per spiking layer, ``bias_over_input_sd_<layer>`` is the
mapped bias over the SD of that layer's input current on the saved test batch after training
(empty for bias 0 or a constant input): how much of the input the mapped drive still is.

``table2.csv``: one row per scenario at the noiseless level (the paper's Table 2 is
noiseless; the lowest configured sigma when 0 is not configured), over the config's seeds
(null-only runs excluded so every scenario has the same seeds). Absolute MSEs depend on the
data set and budget, so the comparison is made in scale-free terms: ratios to the blank-image
and mean-image baselines (computed on our test set, also for the paper's values: with the
embedded digits they approximate the paper's full MNIST test set), ratios to the benchmark
trained with the same offsets (a frozen arm's is ``<benchmark>.frozen``),
and ranks (1 = lowest) among the paper scenarios that ran, ours against the paper's over the
same set. MSEd is compared by rank only (the paper's iteration step is not stated). A
scenario whose mean test MSE is at or above the mean-image baseline is labelled
``not_learned``.

``msel.csv``: one row per comparison and layer; scenario rows carry the mean and SD of the
null comparisons at the same noise level and the ratio to their mean (empty with
``n_null`` 0 where no null pair exists at that level).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.autoencoder.comparison import KINDS
from bridge.autoencoder.model import LAYER_NAMES, SPIKING_LAYERS
from bridge.autoencoder.scenarios import (
    NULL_SIGMA,
    benchmark_of,
    paper_scenario_names,
    scenario_order,
    seeds,
    sigmas,
)
from bridge.config.autoencoder import DEFAULT_SAMPLING, DEFAULT_TARGET
from bridge.contracts import AutoencoderMetrics, read_autoencoder_metrics
from bridge.io import read_json, write_csv
from bridge.paper_values import AutoencoderPaperValues, load_autoencoder_paper_values
from bridge.provenance import provenance

log = logging.getLogger(__name__)

LEARNED, NOT_LEARNED = "learned", "not_learned"
SCENARIO_KIND, NULL_KIND = KINDS
RUN_COLUMNS = [
    "scenario", "kind", "condition", "offsets", "noise_sampling", "noise_target",
    "beta_source", "label_gnabar", "beta_unidentified", "validation_flags",
    "sigma", "seed", "null_only", "status", "reason", "mapping_status", "beta", "alpha",
    "beta_syn", "bias",
    "data_source", "n_train", "n_test",
    "epochs", "iterations_per_epoch", "device", "test_mse_final", "blank_mse", "mean_image_mse",
    "test_mse_over_mean_image", "test_mse_over_blank", "label", "msed_train",
    "msed_train_per_iteration", "msed_test", "msed_test_per_iteration",
    "network_rate_final_epoch_train", "network_rate_final_epoch_test",
    *[f"rate_train_{name}" for name in SPIKING_LAYERS],
    *[f"rate_test_{name}" for name in SPIKING_LAYERS],
    *[f"bias_over_input_sd_{name}" for name in SPIKING_LAYERS],
]  # fmt: skip
TABLE2_COLUMNS = [
    "scenario", "kind", "condition", "offsets", "beta_unidentified", "sigma", "n_runs", "n_ok",
    "n_skipped", "skip_reason",
    "n_not_learned", "label", "test_mse_mean", "test_mse_sd", "blank_mse", "mean_image_mse",
    "test_mse_over_mean_image", "test_mse_over_blank", "test_mse_over_benchmark",
    "msed_train_mean", "msed_train_per_iteration_mean", "rank_mse_all", "rank_mse_paper_set",
    "rank_msed_paper_set", "paper_test_mse", "paper_msed", "paper_rank_mse",
    "paper_rank_msed", "rank_mse_agrees", "paper_test_mse_over_mean_image",
    "paper_test_mse_over_blank", "paper_test_mse_over_benchmark",
]  # fmt: skip
MSEL_COLUMNS = [
    "kind", "scenario", "reference", "sigma", "seed", "reference_seed", "layer", "status",
    "reason", "msel", "null_msel_mean", "null_msel_sd", "n_null", "msel_over_null_mean",
]  # fmt: skip


def _run_row(record: AutoencoderMetrics, config_seeds: Sequence[int]) -> dict[str, Any]:
    run = record.data
    row: dict[str, Any] = {
        "scenario": record.scenario,
        "kind": run.get("kind"),
        "condition": run.get("condition"),
        "sigma": record.sigma,
        "seed": record.seed,
        "offsets": run.get("offsets", "trained"),
        # Runs from before noise protocols were a choice all used the default.
        "noise_sampling": run.get("noise_sampling", DEFAULT_SAMPLING),
        "noise_target": run.get("noise_target", DEFAULT_TARGET),
        # Runs from before label arms existed: a condition's beta was the fitted one.
        "beta_source": run.get(
            "beta_source", "fitted" if run.get("kind") == "condition" else "config"
        ),
        "label_gnabar": run.get("label_gnabar"),
        "beta_unidentified": bool(run.get("beta_unidentified", False)),
        "validation_flags": ";".join(run.get("validation_flags") or []),
        "null_only": record.seed not in config_seeds,
        "status": record.status,
        "reason": record.reason,
        "mapping_status": run.get("mapping_status"),
    }
    if not record.ok:
        return row
    params, data, base = run["neuron_params"], run["data"], run["baseline_mse"]
    train_rates, test_rates = (
        run["firing_rate_final_epoch_train"],
        run["firing_rate_final_epoch_test"],
    )
    row.update(
        beta=params["beta"],
        alpha=params["alpha"],
        beta_syn=params["beta_syn"],
        bias=params["bias"],
        data_source=data["name"],
        n_train=data["n_train"],
        n_test=data["n_test"],
        epochs=len(run["test_mse_per_epoch"]),
        iterations_per_epoch=run["iterations_per_epoch"],
        device=run.get("device"),
        test_mse_final=run["test_mse_final"],
        blank_mse=base["blank"],
        mean_image_mse=base["mean_image"],
        test_mse_over_mean_image=run["test_mse_over_mean_image"],
        test_mse_over_blank=run["test_mse_over_blank"],
        label=run["label"],
        msed_train=run["msed_train"],
        msed_train_per_iteration=run["msed_train_per_iteration"],
        msed_test=run["msed_test"],
        msed_test_per_iteration=run["msed_test_per_iteration"],
        network_rate_final_epoch_train=_network_rate_final_epoch(run),
        network_rate_final_epoch_test=run["network_firing_rate_test_per_epoch"][-1],
    )
    row.update({f"rate_train_{n}": train_rates[n] for n in SPIKING_LAYERS})
    row.update({f"rate_test_{n}": test_rates[n] for n in SPIKING_LAYERS})
    effective = run.get("effective_bias") or {}
    row.update(
        {
            f"bias_over_input_sd_{n}": (effective.get(n) or {}).get("bias_over_input_sd")
            for n in SPIKING_LAYERS
        }
    )
    return row


def _network_rate_final_epoch(run: Mapping[str, Any]) -> float:
    per_iteration = run["network_firing_rate_per_iteration"]
    return float(np.mean(per_iteration[-int(run["iterations_per_epoch"]) :]))


def runs_table(
    runs: Sequence[AutoencoderMetrics | Mapping[str, Any]],
    order: Sequence[str],
    config_seeds: Sequence[int],
) -> pd.DataFrame:
    """One row per run, in scenario ``order``, then sigma, then seed."""
    records = [
        r if isinstance(r, AutoencoderMetrics) else AutoencoderMetrics.from_dict(r, "runs_table")
        for r in runs
    ]
    unknown = sorted({r.scenario for r in records} - set(order))
    if unknown:
        raise ValueError(f"runs_table: scenario(s) {unknown} not in the scenario order {order}")
    frame = pd.DataFrame([_run_row(r, config_seeds) for r in records], columns=RUN_COLUMNS)
    frame["_order"] = frame["scenario"].map({name: i for i, name in enumerate(order)})
    frame = frame.sort_values(["_order", "sigma", "seed"], kind="stable").drop(columns="_order")
    return frame.reset_index(drop=True)


def _ranks(values: pd.Series) -> pd.Series:
    """1 = lowest; ties share the lowest rank; missing values get no rank."""
    return values.rank(method="min").astype("Int64")


def table2(
    runs: pd.DataFrame,
    paper: AutoencoderPaperValues,
    benchmark: str,
    paper_set: Sequence[str],
    sigma: float = NULL_SIGMA,
) -> pd.DataFrame:
    """Table 2 at noise ``sigma`` (see the module docstring); ``runs`` from :func:`runs_table`."""
    chosen = runs[(runs["sigma"] == sigma) & ~runs["null_only"]]
    if chosen.empty:
        raise ValueError(f"table2: no run at sigma {sigma:g}")
    rows = []
    for name, group in chosen.groupby("scenario", sort=False):
        ok = group[group["status"] == "ok"]
        mse = ok["test_mse_final"].astype(float)
        row: dict[str, Any] = {
            "scenario": name,
            "kind": group["kind"].iloc[0],
            "condition": group["condition"].iloc[0],
            "offsets": group["offsets"].iloc[0],
            "beta_unidentified": bool(group["beta_unidentified"].any()),
            "sigma": sigma,
            "n_runs": len(group),
            "n_ok": len(ok),
            "n_skipped": int((group["status"] == "skipped").sum()),
            "skip_reason": next(iter(group["reason"].dropna()), None),
            "n_not_learned": int((ok["label"] == NOT_LEARNED).sum()),
        }
        if len(ok):
            blank, mean_image = float(ok["blank_mse"].iloc[0]), float(ok["mean_image_mse"].iloc[0])
            row.update(
                test_mse_mean=float(mse.mean()),
                test_mse_sd=float(mse.std(ddof=1)) if len(ok) > 1 else None,
                blank_mse=blank,
                mean_image_mse=mean_image,
                test_mse_over_mean_image=float(mse.mean()) / mean_image,
                test_mse_over_blank=float(mse.mean()) / blank,
                label=NOT_LEARNED if mse.mean() >= mean_image else LEARNED,
                msed_train_mean=float(ok["msed_train"].astype(float).mean()),
                msed_train_per_iteration_mean=float(
                    ok["msed_train_per_iteration"].astype(float).mean()
                ),
            )
        if name in paper.test_mse:
            row.update(paper_test_mse=paper.test_mse[name], paper_msed=paper.msed[name])
        rows.append(row)
    table = pd.DataFrame(rows, columns=TABLE2_COLUMNS)
    by_name = table.set_index("scenario")["test_mse_mean"]
    # Each row against the benchmark trained with its offsets (bridge.autoencoder.scenarios).
    references = [
        by_name.get(benchmark_of({"benchmark_scenario": benchmark}, name))
        for name in table["scenario"]
    ]
    table["test_mse_over_benchmark"] = pd.to_numeric(
        table["test_mse_mean"], errors="coerce"
    ) / pd.to_numeric(pd.Series(references, index=table.index, dtype=object), errors="coerce")
    in_set = table["scenario"].isin(paper_set) & table["scenario"].isin(paper.test_mse.keys())
    table["rank_mse_agrees"] = pd.Series(pd.NA, index=table.index, dtype="boolean")
    table["rank_mse_all"] = _ranks(table["test_mse_mean"])
    table.loc[in_set, "rank_mse_paper_set"] = _ranks(table.loc[in_set, "test_mse_mean"])
    table.loc[in_set, "rank_msed_paper_set"] = _ranks(table.loc[in_set, "msed_train_mean"])
    table.loc[in_set, "paper_rank_mse"] = _ranks(table.loc[in_set, "paper_test_mse"])
    table.loc[in_set, "paper_rank_msed"] = _ranks(table.loc[in_set, "paper_msed"])
    has_rank = in_set & table["rank_mse_paper_set"].notna()
    table.loc[has_rank, "rank_mse_agrees"] = (
        table.loc[has_rank, "rank_mse_paper_set"] == table.loc[has_rank, "paper_rank_mse"]
    )
    baselines = table[["mean_image_mse", "blank_mse"]].dropna()
    if not baselines.empty:
        table["paper_test_mse_over_mean_image"] = (
            table["paper_test_mse"] / baselines["mean_image_mse"].iloc[0]
        )
        table["paper_test_mse_over_blank"] = (
            table["paper_test_mse"] / baselines["blank_mse"].iloc[0]
        )
    if benchmark in paper.test_mse:
        table["paper_test_mse_over_benchmark"] = table["paper_test_mse"] / paper.test_mse[benchmark]
    for column in ("rank_mse_paper_set", "rank_msed_paper_set", "paper_rank_mse",
                   "paper_rank_msed", "rank_mse_all"):  # fmt: skip
        table[column] = table[column].astype("Int64")
    return table


def msel_table(records: Sequence[Mapping[str, Any]], order: Sequence[str]) -> pd.DataFrame:
    """Long MSEl table: null comparisons (kind ``seed_pair``) first, then the scenarios in
    ``order``; layers in network order."""
    rows = []
    for record in records:
        values = record.get("msel") or {}
        for layer in LAYER_NAMES:
            rows.append(
                {
                    "kind": record["kind"],
                    "scenario": record["scenario"],
                    "reference": record["reference"],
                    "sigma": float(record["sigma"]),
                    "seed": int(record["seed"]),
                    "reference_seed": int(record["reference_seed"]),
                    "layer": layer,
                    "status": record["status"],
                    "reason": record.get("reason"),
                    "msel": values.get(layer),
                }
            )
    frame = pd.DataFrame(rows, columns=MSEL_COLUMNS)
    null = frame[(frame["kind"] == NULL_KIND) & (frame["status"] == "ok")]
    stats = null.groupby(["sigma", "layer"])["msel"].agg(["mean", "std", "count"])
    is_scenario = frame["kind"] == SCENARIO_KIND
    for index in frame.index[is_scenario]:
        key = (frame.at[index, "sigma"], frame.at[index, "layer"])
        count = int(stats.at[key, "count"]) if key in stats.index else 0
        frame.at[index, "n_null"] = count
        if count:
            frame.at[index, "null_msel_mean"] = stats.at[key, "mean"]
            frame.at[index, "null_msel_sd"] = stats.at[key, "std"] if count > 1 else None
            if pd.notna(frame.at[index, "msel"]) and stats.at[key, "mean"] > 0:
                frame.at[index, "msel_over_null_mean"] = (
                    frame.at[index, "msel"] / stats.at[key, "mean"]
                )
    frame["n_null"] = frame["n_null"].astype("Int64")
    rank = {name: i for i, name in enumerate(order)}
    frame["_kind"] = (frame["kind"] == SCENARIO_KIND).astype(int)
    frame["_order"] = frame["scenario"].map(rank).fillna(-1)
    frame["_layer"] = frame["layer"].map({n: i for i, n in enumerate(LAYER_NAMES)})
    keys = ["_kind", "_order", "sigma", "seed", "reference_seed", "_layer"]
    frame = frame.sort_values(keys, kind="stable").drop(columns=["_kind", "_order", "_layer"])
    return frame.reset_index(drop=True)


def write_autoencoder_summary(
    metrics_paths: Sequence[str | Path],
    msel_paths: Sequence[str | Path],
    paper_values_path: str | Path,
    section: Mapping[str, Any],
    conditions: Sequence[str],
    runs_path: str | Path,
    table2_path: str | Path,
    msel_path: str | Path,
) -> dict[str, pd.DataFrame]:
    """Read every run's metrics and MSEl file; write the three tables (with provenance)."""
    order = scenario_order(section, conditions)
    paper = load_autoencoder_paper_values(paper_values_path)
    runs = runs_table([read_autoencoder_metrics(p) for p in metrics_paths], order, seeds(section))
    levels = sigmas(section)
    level = NULL_SIGMA if NULL_SIGMA in levels else min(levels)
    table = table2(runs, paper, section["benchmark_scenario"], paper_scenario_names(section), level)
    records = [record for p in msel_paths for record in read_json(p)["comparisons"]]
    msel = msel_table(records, order)
    prov = provenance({"autoencoder": dict(section), "conditions": list(conditions)})
    write_csv(runs_path, runs, prov)
    write_csv(table2_path, table, {**prov, "paper_values": str(paper_values_path)})
    write_csv(msel_path, msel, prov)
    log.info(
        "%d runs (%d skipped), Table 2 over %d scenarios, %d MSEl rows",
        len(runs),
        int((runs["status"] == "skipped").sum()),
        len(table),
        len(msel),
    )
    return {"runs": runs, "table2": table, "msel": msel}
