"""Figures of the autoencoder stage (PNG + SVG each).

* ``table2``: Table 2 ours vs the paper's: test MSE beside the blank/mean-image baselines, and
  the ranks of test MSE and MSEd among the paper scenarios that ran.
* ``layer_rates``: final-epoch firing rate per layer of the paper scenarios, noiseless and at
  the largest noise level, with the rates the paper quotes as markers.
* ``network_rate``: network-wide firing rate across training iterations, noiseless and noisy.
* ``layer_rates_conditions``: final-epoch rate per layer of every scenario (conditions
  included) as a heat map, noiseless and noisy.
* ``mse_vs_sigma``: final test MSE against the noise SD, mean +- SD over seeds.
* ``reconstructions``: the same test digits reconstructed by every scenario (first seed),
  noiseless and noisy.

Rates and MSEs are means over the config's seeds (null-only benchmark runs left out);
"final epoch" rates are the training iterations' mean over the last epoch, as the paper's
Figure 5 shows training activity.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.autoencoder.model import READOUT_LAYER, SPIKING_LAYERS
from bridge.autoencoder.scenarios import (
    CONDITION_PREFIX,
    NULL_SIGMA,
    paper_scenario_names,
    scenario_order,
    seeds,
    sigmas,
)
from bridge.autoencoder.train import FEATURES_FILE
from bridge.contracts import read_autoencoder_metrics
from bridge.figure_style import condition_colours, plt, save_figure
from bridge.paper_values import AutoencoderPaperValues, load_autoencoder_paper_values

log = logging.getLogger(__name__)

FIGURE_NAMES = (
    "table2",
    "layer_rates",
    "network_rate",
    "layer_rates_conditions",
    "mse_vs_sigma",
    "reconstructions",
)
BENCHMARK_COLOUR = "k"
OVERFIRING_COLOUR = "tab:red"
OTHER_PAPER_COLOURS = ("tab:blue", "tab:orange", "tab:purple", "tab:brown", "tab:pink")
#: Iterations averaged per point of the network-rate curve (at least one epoch's worth would
#: hide the early transient the paper describes; a short window keeps it).
RATE_SMOOTHING_ITERATIONS = 5
RECONSTRUCTION_CMAP = "gray"
#: Vertical offset (in ranks) between labels of scenarios whose ranks tie.
TIE_LABEL_OFFSET = 0.15


def scenario_colours(order: Sequence[str], benchmark: str, overfiring: str) -> dict[str, Any]:
    """Benchmark black, the paper's overfiring scenario red, other paper scenarios in distinct
    colours, condition scenarios in the conditions' colours."""
    conditions = [name for name in order if name.startswith(CONDITION_PREFIX)]
    colours: dict[str, Any] = dict(condition_colours(conditions))
    others = iter(OTHER_PAPER_COLOURS)
    for name in order:
        if name == benchmark:
            colours[name] = BENCHMARK_COLOUR
        elif name == overfiring:
            colours[name] = OVERFIRING_COLOUR
        elif name not in colours:
            colours[name] = next(others, "tab:gray")
    return colours


def _noisy_sigma(levels: Sequence[float]) -> float | None:
    noisy = [s for s in levels if s > NULL_SIGMA]
    return max(noisy) if noisy else None


def _ok_runs(
    runs: Sequence[Mapping[str, Any]], scenario: str, sigma: float, config_seeds: Sequence[int]
) -> list[Mapping[str, Any]]:
    return [
        r
        for r in runs
        if r["scenario"] == scenario
        and float(r["sigma"]) == sigma
        and int(r["seed"]) in config_seeds
        and r["status"] == "ok"
    ]


def _final_rates(runs: Sequence[Mapping[str, Any]]) -> dict[str, float] | None:
    if not runs:
        return None
    return {
        name: float(np.mean([r["firing_rate_final_epoch_train"][name] for r in runs]))
        for name in SPIKING_LAYERS
    }


def plot_table2(table: pd.DataFrame, colours: Mapping[str, Any], *paths: str | Path) -> None:
    """Test MSE (ours mean +- SD over seeds, the paper's) and ranks, ours vs the paper's."""
    fig, (ax_mse, ax_rank) = plt.subplots(
        1, 2, figsize=(12.0, 4.5), gridspec_kw={"width_ratios": [2.2, 1.0]}
    )
    x = np.arange(len(table))
    width = 0.38
    ours = table["test_mse_mean"].astype(float)
    sd = table["test_mse_sd"].astype(float).fillna(0.0)
    ax_mse.bar(
        x - width / 2,
        ours.fillna(0.0),
        width,
        yerr=sd,
        capsize=3,
        color=[colours[s] for s in table["scenario"]],
        label="ours (mean +- SD over seeds)",
    )
    paper = table["paper_test_mse"].astype(float)
    ax_mse.bar(
        x + width / 2,
        paper.fillna(0.0),
        width,
        color="white",
        edgecolor="0.3",
        hatch="//",
        label="paper (Table 2)",
    )
    for i, row in table.iterrows():
        if pd.isna(row["test_mse_mean"]):
            ax_mse.text(
                i - width / 2, 0.0, "skipped", rotation=90, ha="center", va="bottom", fontsize=7
            )
        elif row["label"] == "not_learned":
            ax_mse.text(
                i - width / 2,
                float(row["test_mse_mean"]),
                "not\nlearned",
                ha="center",
                va="bottom",
                fontsize=6,
                color="tab:red",
            )
    baselines = table[["blank_mse", "mean_image_mse"]].dropna()
    if not baselines.empty:
        ax_mse.axhline(
            baselines["blank_mse"].iloc[0],
            color="0.4",
            ls="--",
            lw=0.9,
            label="blank image (our test set)",
        )
        ax_mse.axhline(
            baselines["mean_image_mse"].iloc[0],
            color="0.4",
            ls=":",
            lw=1.2,
            label="mean training image",
        )
    ax_mse.set_xticks(x, table["scenario"], rotation=30, ha="right", fontsize=8)
    ax_mse.set_ylabel("final test MSE (pixels in [0, 1])")
    sigma = float(table["sigma"].iloc[0])
    ax_mse.set_title(f"Table 2: test MSE at sigma {sigma:g}", fontsize=10)
    ax_mse.legend(fontsize=7, frameon=False)

    ranked = table.dropna(subset=["rank_mse_paper_set", "paper_rank_mse"])
    for _, row in ranked.iterrows():
        colour = colours[row["scenario"]]
        ax_rank.plot([0, 1], [row["paper_rank_mse"], row["rank_mse_paper_set"]], "-o", color=colour)
        if pd.notna(row["rank_msed_paper_set"]) and pd.notna(row["paper_rank_msed"]):
            ax_rank.plot(
                [2, 3], [row["paper_rank_msed"], row["rank_msed_paper_set"]], "-s", color=colour
            )
    # Labels beside the last column, nudged apart where ranks tie.
    label_rank = ranked["rank_msed_paper_set"].fillna(ranked["rank_mse_paper_set"])
    for k, (_, row) in enumerate(ranked.iterrows()):
        ties = int((label_rank.iloc[:k] == label_rank.iloc[k]).sum())
        y = float(label_rank.iloc[k]) + TIE_LABEL_OFFSET * ties
        ax_rank.text(
            3.15, y, row["scenario"], fontsize=7, va="center", color=colours[row["scenario"]]
        )
    ax_rank.set_xticks([0, 1, 2, 3], ["paper\nMSE", "ours\nMSE", "paper\nMSEd", "ours\nMSEd"])
    ax_rank.set_xlim(-0.3, 4.6)
    n_ranked = max(len(ranked), 1)
    ax_rank.set_ylim(n_ranked + 0.5, 0.5)
    ax_rank.set_yticks(range(1, n_ranked + 1))
    ax_rank.set_ylabel("rank among the paper scenarios run (1 = lowest)")
    ax_rank.set_title("ranks (MSEd: ranks only)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, *paths)


def plot_layer_rates(
    runs: Sequence[Mapping[str, Any]],
    scenarios: Sequence[str],
    levels: Sequence[tuple[str, float]],
    config_seeds: Sequence[int],
    paper: AutoencoderPaperValues,
    colours: Mapping[str, Any],
    *paths: str | Path,
) -> None:
    """Grouped bars: final-epoch rate per layer and scenario, one row per noise level."""
    fig, axes = plt.subplots(len(levels), 1, figsize=(11.0, 3.2 * len(levels)), squeeze=False)
    x = np.arange(len(SPIKING_LAYERS))
    width = 0.8 / max(len(scenarios), 1)
    for ax, (level_name, sigma) in zip(axes[:, 0], levels, strict=True):
        for k, name in enumerate(scenarios):
            rates = _final_rates(_ok_runs(runs, name, sigma, config_seeds))
            offset = (k - (len(scenarios) - 1) / 2) * width
            if rates is None:
                continue
            ax.bar(
                x + offset,
                [rates[n] for n in SPIKING_LAYERS],
                width,
                color=colours[name],
                label=name,
            )
            quoted = paper.firing_rates.get(level_name, {}).get(name, {})
            for layer, value in quoted.items():
                ax.plot(
                    x[SPIKING_LAYERS.index(layer)] + offset,
                    value,
                    marker="_",
                    ms=14,
                    mew=2.5,
                    color="tab:green",
                    ls="none",
                )
        ax.plot(
            [],
            [],
            marker="_",
            ms=14,
            mew=2.5,
            color="tab:green",
            ls="none",
            label="paper (Section 3 text)",
        )
        ax.set_xticks(x, SPIKING_LAYERS, fontsize=8)
        ax.set_ylabel("firing rate (Eq. 11)")
        ax.set_title(f"final-epoch layer rates, {level_name} (sigma {sigma:g})", fontsize=10)
        ax.legend(fontsize=7, frameon=False, ncol=3)
    fig.tight_layout()
    save_figure(fig, *paths)


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size < window:
        return values
    return np.convolve(values, np.ones(window) / window, mode="valid")


def plot_network_rate(
    runs: Sequence[Mapping[str, Any]],
    scenarios: Sequence[str],
    levels: Sequence[tuple[str, float]],
    config_seeds: Sequence[int],
    colours: Mapping[str, Any],
    *paths: str | Path,
) -> None:
    """Network-wide rate per training iteration (mean over seeds, short running mean)."""
    fig, axes = plt.subplots(len(levels), 1, figsize=(10.0, 3.0 * len(levels)), squeeze=False)
    for ax, (level_name, sigma) in zip(axes[:, 0], levels, strict=True):
        for name in scenarios:
            members = _ok_runs(runs, name, sigma, config_seeds)
            if not members:
                continue
            curve = np.mean([r["network_firing_rate_per_iteration"] for r in members], axis=0)
            smooth = _smooth(curve, RATE_SMOOTHING_ITERATIONS)
            start = (len(curve) - len(smooth)) // 2
            ax.plot(
                np.arange(len(smooth)) + start + 1, smooth, color=colours[name], lw=1.0, label=name
            )
            per_epoch = int(members[0]["iterations_per_epoch"])
            for boundary in range(per_epoch, len(curve), per_epoch):
                ax.axvline(boundary + 0.5, color="0.92", lw=0.5, zorder=0)
        ax.set_xlabel("training iteration (light lines: epochs)")
        ax.set_ylabel("network firing rate")
        ax.set_title(
            f"network-wide rate across iterations, {level_name} (sigma {sigma:g}; running mean "
            f"over {RATE_SMOOTHING_ITERATIONS} iterations)",
            fontsize=10,
        )
        ax.legend(fontsize=7, frameon=False, ncol=2)
    fig.tight_layout()
    save_figure(fig, *paths)


def plot_layer_rates_conditions(
    runs: Sequence[Mapping[str, Any]],
    scenarios: Sequence[str],
    levels: Sequence[tuple[str, float]],
    config_seeds: Sequence[int],
    *paths: str | Path,
) -> None:
    """Heat map scenario x layer of the final-epoch rate, one panel per noise level."""
    fig, axes = plt.subplots(
        1,
        len(levels),
        figsize=(5.5 * len(levels) + 2.5, 0.45 * len(scenarios) + 2.2),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    image = None
    for ax, (level_name, sigma) in zip(axes[0], levels, strict=True):
        grid = np.full((len(scenarios), len(SPIKING_LAYERS)), np.nan)
        for i, name in enumerate(scenarios):
            rates = _final_rates(_ok_runs(runs, name, sigma, config_seeds))
            if rates is not None:
                grid[i] = [rates[n] for n in SPIKING_LAYERS]
        image = ax.imshow(
            np.ma.masked_invalid(grid), vmin=0.0, vmax=1.0, cmap="magma", aspect="auto"
        )
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                text = "skipped" if np.isnan(grid[i, j]) else f"{grid[i, j]:.2f}"
                shade = "k" if not np.isnan(grid[i, j]) and grid[i, j] > 0.6 else "w"
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="k" if np.isnan(grid[i, j]) else shade,
                )
        ax.set_xticks(
            range(len(SPIKING_LAYERS)), SPIKING_LAYERS, rotation=45, ha="right", fontsize=8
        )
        ax.set_yticks(range(len(scenarios)), scenarios, fontsize=8)
        ax.tick_params(axis="y", labelleft=ax is axes[0, 0])
        ax.set_title(f"final-epoch rates, {level_name} (sigma {sigma:g})", fontsize=10)
    if image is not None:
        fig.colorbar(image, ax=axes[0].tolist(), label="firing rate (Eq. 11)", shrink=0.8)
    save_figure(fig, *paths)


def plot_mse_vs_sigma(
    runs: Sequence[Mapping[str, Any]],
    scenarios: Sequence[str],
    levels: Sequence[float],
    config_seeds: Sequence[int],
    colours: Mapping[str, Any],
    *paths: str | Path,
) -> None:
    """Final test MSE against the noise SD: mean +- SD over seeds, baselines dashed."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    baseline = None
    for name in scenarios:
        xs, means, sds = [], [], []
        for sigma in levels:
            members = _ok_runs(runs, name, sigma, config_seeds)
            if not members:
                continue
            values = [float(r["test_mse_final"]) for r in members]
            xs.append(sigma)
            means.append(np.mean(values))
            sds.append(np.std(values, ddof=1) if len(values) > 1 else 0.0)
            baseline = members[0]["baseline_mse"]
        if xs:
            ax.errorbar(xs, means, yerr=sds, marker="o", capsize=3, color=colours[name], label=name)
    if baseline is not None:
        ax.axhline(baseline["blank"], color="0.4", ls="--", lw=0.9, label="blank image")
        ax.axhline(baseline["mean_image"], color="0.4", ls=":", lw=1.2, label="mean image")
    ax.set_xlabel("input noise SD sigma (pixel units)")
    ax.set_ylabel("final test MSE vs the clean image")
    ax.set_title(
        f"test MSE against noise (mean +- SD over seeds {list(config_seeds)})", fontsize=10
    )
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    save_figure(fig, *paths)


def _load_features(path: Path) -> dict[str, np.ndarray] | None:
    with np.load(path) as data:
        if "status" in data.files:
            return None
        keys = ("input_clean", "input_noisy", f"{READOUT_LAYER}_reconstruction")
        return {key: data[key] for key in keys}


def plot_reconstructions(
    feature_files: Mapping[tuple[str, float], Path],
    scenarios: Sequence[str],
    levels: Sequence[tuple[str, float]],
    n_digits: int,
    seed: int,
    *paths: str | Path,
) -> None:
    """Inputs and every scenario's reconstruction of the first ``n_digits`` feature-batch
    test digits at ``seed``: one block of columns per noise level."""
    rows = ["input (clean)", "input (network)", *scenarios]
    fig, axes = plt.subplots(
        len(rows),
        n_digits * len(levels),
        figsize=(0.75 * n_digits * len(levels) + 1.8, 0.78 * len(rows) + 0.6),
        squeeze=False,
    )
    for block, (level_name, sigma) in enumerate(levels):
        inputs = None
        for i, name in enumerate(scenarios, start=2):
            path = feature_files.get((name, sigma))
            features = _load_features(path) if path is not None else None
            if features is not None and inputs is None:
                inputs = features
            for d in range(n_digits):
                ax = axes[i, block * n_digits + d]
                if features is None:
                    ax.text(
                        0.5,
                        0.5,
                        "skipped",
                        ha="center",
                        va="center",
                        fontsize=6,
                        transform=ax.transAxes,
                    )
                elif d < features["input_clean"].shape[0]:
                    ax.imshow(
                        features[f"{READOUT_LAYER}_reconstruction"][d, 0],
                        vmin=0.0,
                        vmax=1.0,
                        cmap=RECONSTRUCTION_CMAP,
                    )
        for d in range(n_digits):
            for r, key in enumerate(("input_clean", "input_noisy")):
                ax = axes[r, block * n_digits + d]
                if inputs is not None and d < inputs[key].shape[0]:
                    ax.imshow(inputs[key][d, 0], vmin=0.0, vmax=1.0, cmap=RECONSTRUCTION_CMAP)
        axes[0, block * n_digits].set_title(
            f"{level_name} (sigma {sigma:g})", fontsize=8, loc="left"
        )
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for r, label in enumerate(rows):
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=7)
    fig.suptitle(
        f"reconstructions of the same test digits (seed {seed}; grey scale 0-1)", fontsize=9
    )
    fig.tight_layout()
    save_figure(fig, *paths)


def write_autoencoder_figures(
    metrics_paths: Sequence[str | Path],
    table2_path: str | Path,
    paper_values_path: str | Path,
    section: Mapping[str, Any],
    conditions: Sequence[str],
    outputs: Mapping[str, Sequence[str | Path]],
) -> None:
    """Every figure of :data:`FIGURE_NAMES` into ``outputs[name]`` (PNG and SVG paths).

    Reads the runs' metrics (``features.npz`` beside each) and ``table2.csv``.
    """
    missing = set(FIGURE_NAMES) - set(outputs)
    if missing:
        raise ValueError(f"write_autoencoder_figures: no output paths for {sorted(missing)}")
    paper = load_autoencoder_paper_values(paper_values_path)
    runs = [read_autoencoder_metrics(p).to_dict() for p in metrics_paths]
    order = scenario_order(section, conditions)
    benchmark = section["benchmark_scenario"]
    colours = scenario_colours(order, benchmark, paper.overfiring_scenario)
    config_seeds = seeds(section)
    all_levels = sigmas(section)
    clean = NULL_SIGMA if NULL_SIGMA in all_levels else min(all_levels)
    levels = [("noiseless" if clean == NULL_SIGMA else "lowest noise", clean)]
    noisy = _noisy_sigma(all_levels)
    if noisy is not None and noisy != clean:
        levels.append(("noisy", noisy))
    log.info("figures: levels %s, seeds %s, scenarios %s", levels, config_seeds, order)

    table = pd.read_csv(table2_path)
    plot_table2(table, colours, *outputs["table2"])
    paper_set = paper_scenario_names(section)
    plot_layer_rates(runs, paper_set, levels, config_seeds, paper, colours, *outputs["layer_rates"])
    plot_network_rate(runs, order, levels, config_seeds, colours, *outputs["network_rate"])
    plot_layer_rates_conditions(
        runs, order, levels, config_seeds, *outputs["layer_rates_conditions"]
    )
    plot_mse_vs_sigma(runs, order, all_levels, config_seeds, colours, *outputs["mse_vs_sigma"])
    seed = config_seeds[0]
    feature_files = {
        (r["scenario"], float(r["sigma"])): Path(p).parent / FEATURES_FILE
        for p, r in zip(metrics_paths, runs, strict=True)
        if int(r["seed"]) == seed
    }
    n_digits = int(section["figures"]["n_digits"])
    plot_reconstructions(feature_files, order, levels, n_digits, seed, *outputs["reconstructions"])
