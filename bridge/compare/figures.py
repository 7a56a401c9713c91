"""Dose-response figures of the comparison stage: every network metric against each parameter
that varies between conditions (``dose_response_parameters``) and against the mapped β
(``dose_response_beta``).

Metrics, one panel each: the autoencoder's test MSE (no noise and ``compare.noisy_sigma``),
MSEd and mean layer rate of each condition's scenario; the regressor's R² and sMAPE at the
first of the claims' accuracy horizons, S_comm and S_comp (one step) for each condition model.

Parameters, one block of panels each: every defining parameter of the HH cell
(:data:`~bridge.compare.conditions.DEFINING_COLUMNS`, except ``v_rest_target_mV``, which only
says how ``el_mV`` was chosen) that takes at least two stated values. A block holds the
reference condition and every condition whose value of that parameter differs from the
reference's. Conditions that also differ in other parameters form their own series, named by
those parameters (the leak re-balanced gNa grid: "with el_mV, v_rest_target_mV"); so a shifted
row is never stacked on the gNa axis at the control's gNa.

Points are means over seeds with their 95 % t interval (no bar for one seed). A series of at
least :data:`MIN_LINE_POINTS` conditions (a grid) is joined in x order; fewer (e.g. two
variants that also differ in other values) stay separate points. Dashed lines are the trivial
baselines (mean image, repeat-last-value) where one exists. A condition without an x value or
without runs is left out and named in the title.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bridge.compare import markdown as md
from bridge.compare.comparisons import condition_value, seed_values
from bridge.compare.conditions import (
    DEFINING_COLUMNS,
    condition_definitions,
    differing_parameters,
)
from bridge.compare.paths import condition_scenario
from bridge.compare.stats import mean_interval
from bridge.config.compare import CompareSettings
from bridge.figure_style import condition_colours, plt, save_figure
from bridge.neurons.registry import CONDITION_MODELS, NEURON_MODELS

#: Axis labels of the x variables (a defining parameter without one is labelled by name).
X_LABELS = {
    "gnabar": "gNa (S/cm²)",
    "gkbar": "gK (S/cm²)",
    "gl": "gL (S/cm²)",
    "beta_fit": "mapped β (LIF fit)",
}
#: Defining parameters never used as an x axis: how el_mV was chosen, not a cell property.
NOT_AN_AXIS = ("v_rest_target_mV",)
#: Side-by-side slots of the condition models around each condition's x (-1, +1 for two).
MODEL_OFFSETS = {
    model: 2 * i - (len(CONDITION_MODELS) - 1) for i, model in enumerate(CONDITION_MODELS)
}
#: x range ratio above which the x axis is logarithmic (gnabar spans 0.12 to 1.0).
LOG_X_RATIO = 5.0
#: Horizontal spread between the model points of one condition (fraction of the range).
MODEL_SPREAD = 0.012
#: Points are labelled with their condition only up to this many conditions in a block, and
#: ticks sit at the conditions' own x values only up to this many distinct values.
MAX_LABELLED = 8
#: A series is drawn as a line from this many points on (a grid, not a few variants).
MIN_LINE_POINTS = 3
#: Panel titles are wrapped at this many characters.
TITLE_WIDTH_CHARS = 60
#: Conditions without data are named in a panel's title up to this many, else counted.
MAX_NAMED_GAPS = 4
N_COLUMNS = 4
#: Height kept above the panels for the figure's title (inches).
TITLE_HEIGHT_IN = 0.5
CONFIDENCE = 0.95
SERIES_COLOURS = plt.get_cmap("tab10")


@dataclass(frozen=True)
class Series:
    """Conditions drawn as one line in a block; ``colours`` per condition."""

    label: str | None
    conditions: tuple[str, ...]
    colours: dict[str, tuple]


@dataclass(frozen=True)
class Block:
    """One x variable: its values per condition and the series drawn against it."""

    x: str
    values: dict[str, float | None]
    series: tuple[Series, ...]


def _panels(settings: CompareSettings) -> list[dict]:
    horizon = settings.claims.accuracy_horizons[0]
    noisy = settings.noisy_sigma
    ae = [
        ("test MSE, σ = 0", "test_mse_final", 0.0, "baseline_mean_image_mse"),
        (f"test MSE, σ = {noisy:g}", "test_mse_final", noisy, "baseline_mean_image_mse"),
        ("MSEd (training curve), σ = 0", "msed_train", 0.0, None),
        ("mean layer firing rate, σ = 0", "mean_layer_rate", 0.0, None),
    ]
    reg = [
        (f"R² ({horizon.replace('_', ' ')})", f"r2_{horizon}", f"repeat_last_r2_{horizon}"),
        (
            f"sMAPE % ({horizon.replace('_', ' ')})",
            f"smape_{horizon}",
            f"repeat_last_smape_{horizon}",
        ),
        ("S_comm (one step)", "s_comm_one_step", None),
        ("S_comp (one step)", "s_comp_one_step", None),
    ]
    return [
        {"stage": "autoencoder", "title": f"Autoencoder: {t}", "metric": m, "sigma": s, "base": b}
        for t, m, s, b in ae
    ] + [
        {"stage": "regressor", "title": f"Regressor: {t}", "metric": m, "sigma": None, "base": b}
        for t, m, b in reg
    ]


def _series(runs: pd.DataFrame, panel: dict, condition: str, model: str | None) -> dict[int, float]:
    if panel["stage"] == "autoencoder":
        return seed_values(
            runs,
            "autoencoder",
            panel["metric"],
            scenario=condition_scenario(condition),
            sigma=panel["sigma"],
        )
    return seed_values(runs, "regressor", panel["metric"], condition=condition, model=model)


def _baseline(runs: pd.DataFrame, panel: dict, conditions: Sequence[str]) -> float | None:
    if panel["base"] is None:
        return None
    values = []
    for condition in conditions:
        if panel["stage"] == "autoencoder":
            found = seed_values(
                runs,
                "autoencoder",
                panel["base"],
                scenario=condition_scenario(condition),
                sigma=panel["sigma"],
            )
        else:
            # The baselines depend on the data only: every model's run holds the same values.
            found = seed_values(runs, "regressor", panel["base"], condition=condition, model="mtc")
        values += list(found.values())
    return float(np.mean(values)) if values else None


def varied_parameters(definitions: pd.DataFrame) -> list[str]:
    """Defining parameters (not :data:`NOT_AN_AXIS`) with at least two distinct stated values."""
    return [
        name
        for name in DEFINING_COLUMNS
        if name in definitions
        and name not in NOT_AN_AXIS
        and definitions[name].dropna().nunique() > 1
    ]


def parameter_block(definitions: pd.DataFrame, reference: str, parameter: str) -> Block:
    """The block of ``parameter``: series as described in the module docstring."""
    differing = differing_parameters(definitions, reference)
    values = {
        row["condition"]: None if md.is_missing(row[parameter]) else float(row[parameter])
        for _, row in definitions.iterrows()
    }
    groups: dict[tuple[str, ...], list[str]] = {(): [reference] if reference in differing else []}
    for condition, names in differing.items():
        if parameter in names:
            groups.setdefault(tuple(n for n in names if n != parameter), []).append(condition)
    series = []
    for i, (others, members) in enumerate(groups.items()):
        members = [c for c in members if values.get(c) is not None]
        if not members:
            continue
        label = f"with {', '.join(others)}" if others else f"{parameter} alone"
        colour = SERIES_COLOURS(i % SERIES_COLOURS.N)
        series.append(Series(label, tuple(members), {c: colour for c in members}))
    return Block(parameter, values, tuple(series))


def beta_block(runs: pd.DataFrame, conditions: Sequence[str]) -> Block:
    """Every condition against its mapped β, one colour per condition."""
    values = {c: condition_value(runs, "mapping", c, "beta_fit") for c in conditions}
    series = Series(None, tuple(conditions), condition_colours(list(conditions)))
    return Block("beta_fit", values, (series,))


def _log_axis(known: Sequence[float]) -> bool:
    return bool(known) and min(known) > 0 and max(known) / min(known) > LOG_X_RATIO


def _draw_panel(
    ax: plt.Axes,
    runs: pd.DataFrame,
    panel: dict,
    block: Block,
    reference: str,
) -> int:
    """Draw one metric of one block; returns the number of plotted points."""
    members = [c for s in block.series for c in s.conditions]
    known = [block.values[c] for c in members if block.values[c] is not None]
    log_x = _log_axis(known)
    if known:
        lo, hi = min(known), max(known)
        span = (np.log10(hi) - np.log10(lo)) if log_x else hi - lo
    else:
        span = 0.0
    spread = MODEL_SPREAD * (span or 1.0)
    label_points = len(set(members)) <= MAX_LABELLED
    models: Sequence[str | None] = CONDITION_MODELS if panel["stage"] == "regressor" else (None,)
    plotted, with_data = 0, set()
    for s_index, series in enumerate(block.series):
        for model in models:
            points = []
            for condition in series.conditions:
                values = list(_series(runs, panel, condition, model).values())
                x0 = block.values[condition]
                # No x (e.g. no mapping record) or no runs: named in the title as without data.
                if x0 is None or not values:
                    continue
                offset = spread * MODEL_OFFSETS[model] if model else 0.0
                xp = 10 ** (np.log10(x0) + offset) if log_x else x0 + offset
                points.append((xp, mean_interval(values, CONFIDENCE), condition))
                with_data.add(condition)
            points.sort(key=lambda p: p[0])
            if len(points) >= MIN_LINE_POINTS:
                ax.plot([p[0] for p in points], [p[1].mean for p in points],
                        color=series.colours[points[0][2]], lw=0.8, alpha=0.6)  # fmt: skip
            for i, (xp, stat, condition) in enumerate(points):
                colour = series.colours[condition]
                bar = (
                    None
                    if stat.ci_low is None
                    else [[stat.mean - stat.ci_low], [stat.ci_high - stat.mean]]
                )
                legend = (
                    [series.label] if series.label and model in (None, CONDITION_MODELS[0]) else []
                )
                if model and s_index == 0:
                    legend.append(NEURON_MODELS[model].label)
                ax.errorbar(
                    xp,
                    stat.mean,
                    yerr=bar,
                    fmt=NEURON_MODELS[model].marker if model else "o",
                    color=colour,
                    mfc=colour if model != "lif" else "white",
                    ms=5,
                    capsize=2,
                    label=", ".join(legend) if legend and i == 0 else None,
                )
                plotted += 1
                if label_points and model in (None, "mtc"):
                    ax.annotate(
                        condition,
                        (xp, stat.mean),
                        textcoords="offset points",
                        # Alternate above / below: neighbouring conditions' labels overlap.
                        xytext=(5, 5 if members.index(condition) % 2 == 0 else -11),
                        fontsize=7,
                        fontweight="bold" if condition == reference else "normal",
                    )
    if plotted == 0:
        ax.text(0.5, 0.5, "no runs (see gaps.csv)", transform=ax.transAxes, ha="center",
                va="center", fontsize=9, color="0.4")  # fmt: skip
        ax.set_yticks([])
    base = _baseline(runs, panel, list(dict.fromkeys(members)))
    if base is not None:
        label = "mean image" if panel["stage"] == "autoencoder" else "repeat-last"
        ax.axhline(base, color="0.5", ls="--", lw=1, label=label)
    left_out = [c for c in dict.fromkeys(members) if c not in with_data]
    title = panel["title"]
    if left_out:
        named = f": {', '.join(left_out)}" if len(left_out) <= MAX_NAMED_GAPS else ", see gaps.csv"
        title += "\n" + textwrap.fill(
            f"({len(left_out)} condition(s) without data{named})", TITLE_WIDTH_CHARS
        )
    ax.set_title(title, fontsize=8)
    ax.set_xlabel(X_LABELS.get(block.x, block.x), fontsize=8)
    ax.tick_params(labelsize=7)
    if log_x:
        ax.set_xscale("log")
    ticks = sorted(set(known))
    if ticks and len(ticks) <= MAX_LABELLED:
        # Ticks at the conditions' own x values: a log axis over less than a decade
        # otherwise labels its minor ticks on top of each other.
        ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
        ax.minorticks_off()
    ax.margins(x=0.15, y=0.15)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, frameon=False)
    return plotted


def plot_blocks(
    runs: pd.DataFrame,
    settings: CompareSettings,
    blocks: Sequence[Block],
    title: str,
    *paths: str | Path,
) -> dict[str, int]:
    """Every metric panel for each block (rows of :data:`N_COLUMNS`), saved to ``paths``.

    Returns the number of plotted points per ``"<x>: <panel title>"`` (for tests and logs).
    """
    panels = _panels(settings)
    rows_per_block = int(np.ceil(len(panels) / N_COLUMNS))
    n_rows = max(len(blocks), 1) * rows_per_block
    fig, axes = plt.subplots(
        n_rows, N_COLUMNS, figsize=(4.0 * N_COLUMNS, 3.4 * n_rows), squeeze=False
    )
    counts: dict[str, int] = {}
    for b, block in enumerate(blocks):
        block_axes = axes[b * rows_per_block : (b + 1) * rows_per_block].flat
        for ax, panel in zip(block_axes, panels, strict=False):
            counts[f"{block.x}: {panel['title']}"] = _draw_panel(
                ax, runs, panel, block, settings.reference_condition
            )
        for ax in list(axes[b * rows_per_block : (b + 1) * rows_per_block].flat)[len(panels) :]:
            ax.set_visible(False)
    if not blocks:
        for ax in axes.flat:
            ax.set_visible(False)
        fig.text(0.5, 0.5, "no defining parameter varies between the conditions",
                 ha="center", va="center")  # fmt: skip
    fig.suptitle(
        f"{title} (mean and {CONFIDENCE:.0%} t interval over seeds; reference: "
        f"{settings.reference_condition}, labelled in bold)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - TITLE_HEIGHT_IN / fig.get_figheight()))
    save_figure(fig, *paths)
    return counts


def plot_dose_response_parameters(
    runs: pd.DataFrame, settings: CompareSettings, *paths: str | Path
) -> dict[str, int]:
    """Every metric against each varied defining parameter (one block each)."""
    definitions = condition_definitions(runs, settings.conditions)
    blocks = [
        parameter_block(definitions, settings.reference_condition, name)
        for name in varied_parameters(definitions)
    ]
    names = ", ".join(b.x for b in blocks) or "none"
    return plot_blocks(
        runs, settings, blocks, f"Network metrics against the varied parameters ({names})", *paths
    )


def plot_dose_response_beta(
    runs: pd.DataFrame, settings: CompareSettings, *paths: str | Path
) -> dict[str, int]:
    """Every metric against the condition's mapped β."""
    block = beta_block(runs, settings.conditions)
    return plot_blocks(
        runs, settings, [block], f"Network metrics against {X_LABELS['beta_fit']}", *paths
    )
