"""Which runs are compared with which, and the paired statistics table (``stats.csv``).

Rows (all paired by seed, see :mod:`bridge.compare.stats`):

* ``condition - control``: each condition's autoencoder scenario (per noise level and offset
  arm: ``cond_<c>.frozen`` minus ``cond_<control>.frozen``, ``cond_<c>`` minus
  ``cond_<control>``) and its MTC / LIF regressors minus the control condition's
  (``mapping.reference_condition``);
* ``scenario - benchmark``: each of the paper's autoencoder scenarios, and each condition arm,
  minus the benchmark trained with the same offsets (``autoencoder.benchmark_scenario``; a
  frozen arm's is ``<benchmark>.frozen``), per noise level;

Autoencoder rows say their ``offsets`` (trained or frozen: never pooled) and whether a
condition in them has a mapping whose beta is unidentified (``beta_unidentified``; the claims
keep those comparisons apart from identified ones).
* ``model - model``: the trained MTC regressor (``reference`` label) minus the trained LIF
  and minus the AdLIF (claim 4's comparisons), and per condition the mapped MTC minus the
  mapped LIF of the same condition;
* ``label - fitted`` (``autoencoder.label_arm``): per condition and noise level, the
  label-mapping arm (beta = exp(-gNa)) minus the fitted-beta arm, paired by seed: the paper's
  premise and the fitted bridge on the same network;
* extra noise protocols (``autoencoder.noise.protocols[1:]``): every scenario - benchmark
  row again under that protocol, at its noisy sigmas;
* ``mapped - trained``: per condition, each mapped (frozen) regressor minus the trained arm
  of the same model and seed: what the channelopathy's fixed neuron costs or gains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bridge.compare.paths import (
    TRAINED,
    benchmark_arm,
    condition_scenario,
    label_scenario,
    protocol_scenario,
)
from bridge.compare.stats import PairedStats, paired_stats
from bridge.config.compare import CompareSettings
from bridge.config.regressor import REGRESSOR_REFERENCE_LABEL
from bridge.contracts import REGRESSOR_HORIZONS
from bridge.neurons.registry import CONDITION_MODELS, REFERENCE_MODEL

#: Autoencoder metrics compared (per-layer rates ``rate_<layer>`` are added as found).
AUTOENCODER_METRICS = ("test_mse_final", "msed_train", "mean_layer_rate", "network_rate")
#: Regressor metric stems compared at every horizon (``<stem>_<horizon>``).
REGRESSOR_STEMS = ("r2", "smape", "smape_z", "s_comm", "activation_sparsity", "s_comp")
REGRESSOR_METRICS = tuple(f"{stem}_{h}" for h in REGRESSOR_HORIZONS for stem in REGRESSOR_STEMS)
LAYER_RATE_PREFIX = "rate_"
KIND_CONDITION = "condition - control"
KIND_SCENARIO = "scenario - benchmark"
KIND_MODEL = "model - model"
KIND_MAPPED = "mapped - trained"
KIND_LABEL = "label - fitted"
STATS_COLUMNS = (
    "kind",
    "stage",
    "group",
    "reference",
    "model",
    "reference_model",
    "offsets",
    "beta_unidentified",
    "sigma",
    "metric",
    "n",
    "n_unpaired",
    "mean_group",
    "mean_reference",
    "mean_diff",
    "sd_diff",
    "ci_low",
    "ci_high",
    "hedges_g",
    "p_value",
    "note",
)


def seed_values(
    runs: pd.DataFrame,
    stage: str,
    metric: str,
    *,
    condition: str | None = None,
    scenario: str | None = None,
    model: str | None = None,
    sigma: float | None = None,
) -> dict[int, float]:
    """seed -> value of one metric for the runs that match every given field."""
    mask = (runs["stage"] == stage) & (runs["metric"] == metric) & runs["value"].notna()
    if condition is not None:
        mask &= runs["condition"] == condition
    if scenario is not None:
        mask &= runs["scenario"] == scenario
    if model is not None:
        mask &= runs["model"] == model
    if sigma is not None:
        mask &= np.isclose(runs["sigma"].astype(float), float(sigma))
    picked = runs.loc[mask & runs["seed"].notna(), ["seed", "value"]]
    if picked["seed"].duplicated().any():
        raise ValueError(
            f"runs table: several values of {stage} {metric} for one seed "
            f"(condition {condition}, scenario {scenario}, model {model}, sigma {sigma})"
        )
    return {int(s): float(v) for s, v in zip(picked["seed"], picked["value"], strict=True)}


def condition_value(runs: pd.DataFrame, stage: str, condition: str, metric: str) -> float | None:
    """The single value of a per-condition metric (hh, mapping), None when absent."""
    mask = (runs["stage"] == stage) & (runs["condition"] == condition)
    values = runs.loc[mask & (runs["metric"] == metric) & runs["value"].notna(), "value"]
    return float(values.iloc[0]) if len(values) else None


def condition_text(runs: pd.DataFrame, stage: str, condition: str, metric: str) -> str:
    """The text of a per-condition metric ('' when absent)."""
    mask = (runs["stage"] == stage) & (runs["condition"] == condition)
    values = runs.loc[mask & (runs["metric"] == metric), "text"]
    return str(values.iloc[0]) if len(values) else ""


def beta_unidentified(runs: pd.DataFrame, *conditions: str) -> bool | None:
    """Whether an autoencoder run of any of ``conditions`` says its mapping's beta is
    unidentified; None when no run says either way (paper scenarios: no condition)."""
    mask = (
        (runs["stage"] == "autoencoder")
        & runs["condition"].isin([c for c in conditions if c])
        & (runs["metric"] == "beta_unidentified")
        & runs["value"].notna()
    )
    values = runs.loc[mask, "value"]
    return bool((values > 0).any()) if len(values) else None


def layer_rate_metrics(runs: pd.DataFrame) -> list[str]:
    """``rate_<layer>`` metrics present, in the order first seen (the network's layer order)."""
    metrics = runs.loc[runs["stage"] == "autoencoder", "metric"]
    return list(dict.fromkeys(m for m in metrics if m.startswith(LAYER_RATE_PREFIX)))


def _row(
    kind: str,
    stage: str,
    group: str,
    reference: str,
    metric: str,
    result: PairedStats,
    *,
    model: str = "",
    reference_model: str = "",
    sigma: float | None = None,
    offsets: str = "",
    unidentified: bool | None = None,
) -> dict[str, Any]:
    d = result.to_dict()
    return {
        "kind": kind,
        "stage": stage,
        "group": group,
        "reference": reference,
        "model": model,
        "reference_model": reference_model,
        "offsets": offsets,
        "beta_unidentified": unidentified,
        "sigma": sigma,
        "metric": metric,
        "n": d["n"],
        "n_unpaired": d["n_unpaired"],
        "mean_group": d["mean_a"],
        "mean_reference": d["mean_b"],
        "mean_diff": d["mean_diff"],
        "sd_diff": d["sd_diff"],
        "ci_low": d["ci_low"],
        "ci_high": d["ci_high"],
        "hedges_g": d["hedges_g"],
        "p_value": d["p_value"],
        "note": d["note"],
    }


def _stats(settings: CompareSettings, a: dict[int, float], b: dict[int, float]) -> PairedStats:
    return paired_stats(a, b, settings.confidence, settings.min_n_p_value)


def _autoencoder_rows(
    runs: pd.DataFrame,
    settings: CompareSettings,
    kind: str,
    pairs: Sequence[tuple[str, str, str, str, str]],
    metrics: Sequence[str],
    sigmas: Sequence[float] | None = None,
) -> list[dict[str, Any]]:
    """pairs: (group label, group scenario, reference label, reference scenario, offsets),
    at ``sigmas`` (default: every autoencoder noise level)."""
    rows = []
    for group, scenario, reference, ref_scenario, offsets in pairs:
        unidentified = beta_unidentified(
            runs,
            *runs.loc[runs["scenario"].isin([scenario, ref_scenario]), "condition"].unique(),
        )
        for sigma in settings.ae_sigmas if sigmas is None else sigmas:
            for metric in metrics:
                a = seed_values(runs, "autoencoder", metric, scenario=scenario, sigma=sigma)
                b = seed_values(runs, "autoencoder", metric, scenario=ref_scenario, sigma=sigma)
                result = _stats(settings, a, b)
                rows.append(
                    _row(
                        kind,
                        "autoencoder",
                        group,
                        reference,
                        metric,
                        result,
                        sigma=float(sigma),
                        offsets=offsets,
                        unidentified=unidentified,
                    )
                )
    return rows


def stats_table(runs: pd.DataFrame, settings: CompareSettings) -> pd.DataFrame:
    """Every paired comparison (module docstring), one row per comparison x metric."""
    ref = settings.reference_condition
    others = [c for c in settings.conditions if c != ref]
    ae_metrics = [*AUTOENCODER_METRICS, *layer_rate_metrics(runs)]
    modes = settings.ae_condition_offsets
    rows = _autoencoder_rows(
        runs,
        settings,
        KIND_CONDITION,
        [
            (c, condition_scenario(c, mode), ref, condition_scenario(ref, mode), mode)
            for mode in modes
            for c in others
        ],
        ae_metrics,
    )
    for condition in others:
        for model in CONDITION_MODELS:
            for metric in REGRESSOR_METRICS:
                a = seed_values(runs, "regressor", metric, condition=condition, model=model)
                b = seed_values(runs, "regressor", metric, condition=ref, model=model)
                result = _stats(settings, a, b)
                rows.append(
                    _row(
                        KIND_CONDITION,
                        "regressor",
                        condition,
                        ref,
                        metric,
                        result,
                        model=model,
                        reference_model=model,
                    )
                )
    bench = settings.claims.benchmark_scenario
    pairs = [(s, s, bench, bench, TRAINED) for s in settings.paper_scenarios if s != bench]
    for mode in modes:
        reference = benchmark_arm(settings, mode)
        pairs += [
            (condition_scenario(c, mode), condition_scenario(c, mode), reference, reference, mode)
            for c in settings.conditions
        ]
    rows += _autoencoder_rows(runs, settings, KIND_SCENARIO, pairs, ae_metrics)
    noisy = [s for s in settings.ae_sigmas if s > 0]
    for tag in settings.ae_extra_protocols:
        tagged = [
            (protocol_scenario(g, tag), protocol_scenario(gs, tag), protocol_scenario(r, tag),
             protocol_scenario(rs, tag), mode)
            for g, gs, r, rs, mode in pairs
        ]  # fmt: skip
        rows += _autoencoder_rows(runs, settings, KIND_SCENARIO, tagged, ae_metrics, noisy)
    if settings.ae_label_arm:
        label_pairs = [
            (label_scenario(c), label_scenario(c), condition_scenario(c), condition_scenario(c),
             TRAINED)
            for c in settings.conditions
        ]  # fmt: skip
        rows += _autoencoder_rows(runs, settings, KIND_LABEL, label_pairs, ae_metrics)
    trained = REGRESSOR_REFERENCE_LABEL
    model_pairs = [(trained, "mtc", trained, other) for other in ("lif", REFERENCE_MODEL)]
    model_pairs += [(c, "mtc", c, "lif") for c in settings.conditions]
    mapped_pairs = [(c, m, trained, m) for c in settings.conditions for m in CONDITION_MODELS]
    for kind, pairs in ((KIND_MODEL, model_pairs), (KIND_MAPPED, mapped_pairs)):
        for group, model, reference, reference_model in pairs:
            for metric in REGRESSOR_METRICS:
                a = seed_values(runs, "regressor", metric, condition=group, model=model)
                b = seed_values(
                    runs, "regressor", metric, condition=reference, model=reference_model
                )
                rows.append(
                    _row(
                        kind,
                        "regressor",
                        group,
                        reference,
                        metric,
                        _stats(settings, a, b),
                        model=model,
                        reference_model=reference_model,
                    )
                )
    return pd.DataFrame(rows, columns=list(STATS_COLUMNS))
