"""Dose-response figure of the comparison stage: each network metric against gnabar or beta.

One panel per metric: the autoencoder's test MSE (no noise and ``compare.noisy_sigma``),
MSEd and mean layer rate of each condition's scenario, and the regressor's R2 / sMAPE at
the first of the claims' accuracy horizons, S_comm and S_comp (one step) for MTC and LIF.
Points are means over seeds with SD bars, labelled with the condition; dashed lines are the
trivial baselines (mean image, repeat-last-value) where one exists. A condition without an x
value or without runs is left out and counted in the panel title.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bridge.compare.comparisons import condition_value, seed_values
from bridge.compare.paths import condition_scenario
from bridge.config.compare import CompareSettings
from bridge.figure_style import condition_colours, plt, save_figure
from bridge.neurons.registry import CONDITION_MODELS, NEURON_MODELS

X_LABELS = {"gnabar": "gNa (S/cm²)", "beta_fit": "mapped β (LIF fit)"}
#: Side-by-side slots of the condition models around each condition's x (-1, +1 for two).
MODEL_OFFSETS = {
    model: 2 * i - (len(CONDITION_MODELS) - 1) for i, model in enumerate(CONDITION_MODELS)
}
#: x range ratio above which the x axis is logarithmic (gnabar spans 0.12 to 1.0).
LOG_X_RATIO = 5.0
#: Horizontal spread between the model points of one condition (fraction of the range).
MODEL_SPREAD = 0.012
N_COLUMNS = 4


def _x_value(runs: pd.DataFrame, condition: str, x: str) -> float | None:
    if x == "gnabar":
        value = condition_value(runs, "hh", condition, "gnabar")
        return value if value is not None else condition_value(runs, "mapping", condition, x)
    return condition_value(runs, "mapping", condition, x)


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


def plot_dose_response(
    runs: pd.DataFrame, settings: CompareSettings, x: str, *paths: str | Path
) -> dict[str, int]:
    """Draw the figure against ``x`` (``gnabar`` or ``beta_fit``) and save it to ``paths``.

    Returns the number of plotted points per panel title (for tests and logs).
    """
    if x not in X_LABELS:
        raise ValueError(f"plot_dose_response: x must be one of {sorted(X_LABELS)}, got {x!r}")
    conditions = list(settings.conditions)
    colours = condition_colours(conditions)
    xs = {c: _x_value(runs, c, x) for c in conditions}
    known = [v for v in xs.values() if v is not None]
    log_x = bool(known) and min(known) > 0 and max(known) / min(known) > LOG_X_RATIO
    span = (np.log10(max(known)) - np.log10(min(known))) if log_x and known else None
    if not log_x and known:
        span = max(known) - min(known)
    spread = MODEL_SPREAD * (span or 1.0)
    panels = _panels(settings)
    n_rows = int(np.ceil(len(panels) / N_COLUMNS))
    fig, axes = plt.subplots(n_rows, N_COLUMNS, figsize=(4.0 * N_COLUMNS, 3.4 * n_rows))
    counts: dict[str, int] = {}
    for ax, panel in zip(axes.flat, panels, strict=False):
        models: Sequence[str | None] = (
            CONDITION_MODELS if panel["stage"] == "regressor" else (None,)
        )
        plotted, left_out = 0, []
        for condition in conditions:
            x0 = xs[condition]
            drew = False
            for model in models:
                values = list(_series(runs, panel, condition, model).values())
                if x0 is None or not values:
                    continue
                offset = spread * MODEL_OFFSETS[model] if model else 0.0
                xp = 10 ** (np.log10(x0) + offset) if log_x else x0 + offset
                sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                ax.errorbar(
                    xp,
                    float(np.mean(values)),
                    yerr=sd,
                    fmt=NEURON_MODELS[model].marker if model else "o",
                    color=colours[condition],
                    mfc=colours[condition] if model != "lif" else "white",
                    ms=6,
                    capsize=3,
                    label=(
                        NEURON_MODELS[model].label if model and condition == conditions[0] else None
                    ),
                )
                plotted += 1
                drew = True
                if model in (None, "mtc"):
                    bold = condition == settings.reference_condition
                    ax.annotate(
                        condition,
                        (xp, float(np.mean(values))),
                        textcoords="offset points",
                        # Alternate above / below: neighbouring conditions' labels overlap.
                        xytext=(5, 5 if conditions.index(condition) % 2 == 0 else -11),
                        fontsize=7,
                        fontweight="bold" if bold else "normal",
                    )
            if not drew:
                left_out.append(condition)
        if plotted == 0:
            ax.text(0.5, 0.5, "no runs (see gaps.csv)", transform=ax.transAxes, ha="center",
                    va="center", fontsize=9, color="0.4")  # fmt: skip
            ax.set_yticks([])
        base = _baseline(runs, panel, conditions)
        if base is not None:
            label = "mean image" if panel["stage"] == "autoencoder" else "repeat-last"
            ax.axhline(base, color="0.5", ls="--", lw=1, label=label)
        title = panel["title"]
        if left_out:
            title += f"\n({len(left_out)} condition(s) without data: {', '.join(left_out)})"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel(X_LABELS[x], fontsize=8)
        ax.tick_params(labelsize=7)
        if log_x:
            ax.set_xscale("log")
        if known:
            # Ticks at the conditions' own x values: a log axis over less than a decade
            # otherwise labels its minor ticks on top of each other.
            ticks = sorted(set(known))
            ax.set_xticks(ticks, [f"{t:.3g}" for t in ticks])
            ax.minorticks_off()
        ax.margins(x=0.15, y=0.15)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, frameon=False)
        counts[panel["title"]] = plotted
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Network metrics against {X_LABELS[x]} (mean ± SD over seeds; control: "
        f"{settings.reference_condition} in bold)",
        fontsize=10,
    )
    fig.tight_layout()
    save_figure(fig, *paths)
    return counts
