"""Figures of the regressor stage: MTC firing regimes, predictions, accuracy vs sparsity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.figure_style import condition_colours, plt, save_figure
from bridge.neurons.mtc import MTC_PRESET_STEP, MTC_PRESETS, mtc_step_response
from bridge.neurons.registry import NEURON_MODELS
from bridge.paper_values import PaperValue

#: Rest before the step and step length per preset (model time units): long enough for a
#: few tonic spikes, the single phasic spike and its quiet aftermath, and about three bursts
#: (inter-burst period about 1650 units).
REGIME_TIMES: dict[str, tuple[float, float]] = {
    "tonic": (100.0, 600.0),
    "phasic": (100.0, 600.0),
    "bursting": (200.0, 5000.0),
}
MODEL_MARKERS = {name: model.marker for name, model in NEURON_MODELS.items()}
MODEL_LABELS = {name: model.label for name, model in NEURON_MODELS.items()}
#: Closed-loop R^2 of a diverged free run can be hugely negative; the axis stops here and
#: points below it are drawn on the edge as downward triangles.
R2_FLOOR = -1.0
#: S_comm spans orders of magnitude (paper: 2e-3 MTC vs 4e-2 AdLIF) and may be exactly 0
#: for a silent layer: a symmetric-log axis, linear below this value.
S_COMM_LINTHRESH = 1e-3
PANEL_WIDTH_IN = 5.0
ROW_HEIGHT_IN = 2.0


def plot_mtc_regimes(*paths: str | Path) -> dict[str, int]:
    """Voltage traces of the tonic, phasic and bursting presets for a step of their
    :data:`~bridge.neurons.mtc.MTC_PRESET_STEP`; returns the spike count of each."""
    fig, axes = plt.subplots(len(REGIME_TIMES), 1, figsize=(8.0, 7.0), squeeze=False)
    counts = {}
    for ax, (name, (rest, step)) in zip(axes[:, 0], REGIME_TIMES.items(), strict=True):
        params = MTC_PRESETS[name]
        response = mtc_step_response(params, MTC_PRESET_STEP[name], rest, step)
        counts[name] = len(response.spike_times)
        ax.plot(response.time, response.v, color="k", lw=0.8, label="V")
        ax.plot(response.time, response.v_slow, color="C1", lw=0.8, label="V slow")
        if name == "bursting":
            ax.plot(response.time, response.v_ultraslow, color="C2", lw=0.8, label="V ultra-slow")
        ax.axvspan(response.step_onset, response.time[-1], color="0.92", zorder=0)
        ax.set_ylabel("V (model units)")
        ax.set_title(
            f"{name}: step {MTC_PRESET_STEP[name]:+.1f} on i_bias {float(params.i_bias):+.1f}, "
            f"{counts[name]} spike{'s' if counts[name] != 1 else ''}",
            fontsize=9,
        )
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    axes[-1, 0].set_xlabel("time (MTC model time units; grey: step on)")
    fig.tight_layout()
    save_figure(fig, *paths)
    return counts


def plot_predictions(runs: Sequence[tuple[str, Mapping[str, Any]]], *paths: str | Path) -> None:
    """One row per run ``(label, predictions.npz contents)``: truth, closed loop, one step.

    The ridge AR's closed loop is drawn faint for scale; a skipped run shows its reason.
    """
    if not runs:
        raise ValueError("plot_predictions: no runs")
    fig, axes = plt.subplots(
        len(runs), 1, figsize=(10.0, ROW_HEIGHT_IN * len(runs)), squeeze=False, sharex=True
    )
    for ax, (label, run) in zip(axes[:, 0], runs, strict=True):
        status = str(run["status"])
        if status == "skipped":
            ax.text(0.5, 0.5, f"{label}: skipped\n{run['reason']}", ha="center", va="center",
                    fontsize=7, wrap=True, transform=ax.transAxes)  # fmt: skip
            ax.set_yticks([])
            continue
        t = np.asarray(run["time"])
        ax.plot(t, run["target"], color="k", lw=1.0, label="truth")
        ax.plot(t, run["ridge_ar_closed_loop"], color="0.6", lw=0.7, label="ridge AR closed loop")
        ax.plot(t, run["one_step"], color="C0", lw=0.8, label="one step ahead")
        ax.plot(t, run["closed_loop"], color="C3", lw=0.8, label="closed loop")
        ax.set_ylabel("x")
        ax.set_title(f"{label} [{status}]", fontsize=9, loc="left")
    axes[0, 0].legend(loc="upper right", fontsize=7, ncol=4, frameon=False)
    axes[-1, 0].set_xlabel("time (Mackey-Glass units), test span")
    fig.tight_layout()
    save_figure(fig, *paths)


def _clipped(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    below = values < R2_FLOOR
    return np.where(below, R2_FLOOR, values), below


#: Rows of the accuracy-vs-activity figure: (horizon, y label); the activity is the same
#: horizon's. The full closed loop is left out: there R^2 rewards fading to the mean.
ACCURACY_ROWS = (
    ("one_step", "R$^2$ one step ahead"),
    ("closed_loop_first_lyapunov_time", "R$^2$ closed loop,\nfirst Lyapunov time"),
)
#: Columns: (activity key, x label, paper key or None).
ACTIVITY_COLUMNS = (
    ("s_comm", "S_comm (spike events per neuron-step)", "s_comm"),
    ("activation_sparsity", "activation sparsity (zero outputs)", None),
    ("s_comp", "S_comp (skipped synaptic operations)", "s_comp"),
)


def plot_accuracy_vs_sparsity(
    runs: Sequence[Mapping[str, Any]],
    condition_order: Sequence[str],
    paper: Mapping[str, Mapping[str, PaperValue]],
    *paths: str | Path,
) -> None:
    """R^2 (one step; closed loop over its first Lyapunov time) against S_comm, activation
    sparsity and S_comp at the same horizon, one point per run.

    Marker = model, colour = condition; the trained arms (condition ``reference``) in black
    and filled, the mapped arms hollow; hollow stars are the MTC paper's medians where it
    gives both numbers. Skipped runs are not drawn; with no completed run the panels say so.
    """
    usable = [r for r in runs if r.get("status") == "ok"]
    colours = condition_colours(list(condition_order))
    colours["reference"] = (0.0, 0.0, 0.0, 1.0)
    n_cols = len(ACTIVITY_COLUMNS)
    fig, axes = plt.subplots(
        len(ACCURACY_ROWS), n_cols, figsize=(n_cols * PANEL_WIDTH_IN * 0.8, 8.0), squeeze=False
    )
    for i, (horizon, ylabel) in enumerate(ACCURACY_ROWS):
        for j, (metric, xlabel, paper_key) in enumerate(ACTIVITY_COLUMNS):
            ax = axes[i, j]
            for run in usable:
                block = run["evaluation"].get(horizon, {})
                r2, x_value = block.get("r2"), block.get(metric)
                if r2 is None or x_value is None:
                    continue
                y, below = _clipped(np.array([r2], dtype=float))
                colour = colours.get(run["condition"], (0.5, 0.5, 0.5, 1.0))
                trained = run["condition"] == "reference"
                ax.scatter(
                    x_value,
                    y,
                    marker="v" if below[0] else MODEL_MARKERS.get(run["model"], "x"),
                    facecolors=colour if trained else "none",
                    edgecolors=colour,
                    s=30,
                    alpha=0.85,
                )
            for model, published in paper.items():
                if paper_key is None:
                    continue
                x_paper, r2_value = published[paper_key].value, published["r2"].value
                if x_paper is not None and r2_value is not None:
                    ax.scatter(x_paper, r2_value, marker="*", s=140,
                               facecolors="none", edgecolors="C3")  # fmt: skip
                    ax.annotate(f"paper {MODEL_LABELS[model]}", (x_paper, r2_value),
                                fontsize=6, color="C3", xytext=(-20, -12),
                                textcoords="offset points")  # fmt: skip
            if not usable:
                ax.text(0.5, 0.5, "no completed run", ha="center", transform=ax.transAxes)
            ax.axhline(R2_FLOOR, color="0.8", lw=0.5)
            if metric == "s_comm":
                ax.set_xscale("symlog", linthresh=S_COMM_LINTHRESH)
                ax.set_xlim(0.0, 1.0)
            else:
                ax.set_xlim(-0.02, 1.02)  # a fraction; margin keeps points at 0 off the spine
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
    handles = [
        plt.Line2D([], [], marker=MODEL_MARKERS[m], ls="", color="0.3", label=MODEL_LABELS[m])
        for m in MODEL_MARKERS
    ]
    handles += [
        plt.Line2D([], [], marker="o", ls="", markerfacecolor="none",
                   markeredgecolor=colours[c], label=f"{c} (mapped)")
        for c in condition_order
        if c in colours
    ]  # fmt: skip
    handles.append(plt.Line2D([], [], marker="o", ls="", color=colours["reference"],
                              label="trained arm"))  # fmt: skip
    handles.append(plt.Line2D([], [], marker="v", ls="", color="0.3", label=f"R$^2$ < {R2_FLOOR}"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    save_figure(fig, *paths)
