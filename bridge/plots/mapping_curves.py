"""Figure: each mapped parameter against gnabar and against the HH cell's excitability.

Rows: LIF beta_fit and bias_fit, MTC a_fast and i_bias (and a_slow_pos when the conditions
re-fit it); columns: gnabar, the HH spontaneous rate, the HH rheobase (single spike). Each
fitted point carries its interval; a point whose mapping downstream stages skip
(use_downstream false) is drawn hollow and left out of the interpolant. An interpolant
(PCHIP, which keeps monotone data monotone) is drawn only through usable points whose x are
distinct and whose values are strictly monotone in x; the panel says which case applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.interpolate import PchipInterpolator  # noqa: E402

from bridge.plots.style import condition_colours, save_figure  # noqa: E402

PANEL_WIDTH_IN = 3.4
PANEL_HEIGHT_IN = 2.4
INTERPOLANT_POINTS = 200
MIN_POINTS_FOR_INTERPOLANT = 2

Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Quantity:
    """One axis quantity: label and how to read value (and interval, usability) from a JSON."""

    label: str
    value: Getter
    interval: Getter | None = None
    usable: Getter | None = None


def _pair(values: Any) -> tuple[float, float] | None:
    if isinstance(values, (list, tuple)) and len(values) == 2 and None not in values:
        return float(values[0]), float(values[1])
    return None


PARAMETERS = (
    Quantity("beta_analytic (label: exp(-gnabar))", lambda r: r["beta_analytic"]),
    Quantity(
        "LIF beta_fit (= beta_syn)",
        lambda r: r["beta_fit"],
        lambda r: _pair(r["intervals"].get("beta")),
        lambda r: r["use_downstream"],
    ),
    Quantity(
        "LIF bias_fit (threshold/step)",
        lambda r: r["bias_fit"],
        lambda r: _pair(r["intervals"].get("bias")),
        lambda r: r["use_downstream"],
    ),
    Quantity(
        "MTC a_fast",
        lambda r: r["mtc"]["a_fast"],
        lambda r: _pair(r["mtc"]["intervals"].get("a_fast")),
        lambda r: r["mtc"]["use_downstream"],
    ),
    Quantity(
        "MTC i_bias (model current)",
        lambda r: r["mtc"]["i_bias"],
        lambda r: _pair(r["mtc"]["intervals"].get("i_bias")),
        lambda r: r["mtc"]["use_downstream"],
    ),
)
SLOW_GAIN = Quantity(
    "MTC a_slow_pos",
    lambda r: r["mtc"]["a_slow_pos"],
    lambda r: _pair(r["mtc"]["intervals"].get("a_slow_pos")),
    lambda r: r["mtc"]["use_downstream"],
)
MEASURES = (
    Quantity("gnabar (S/cm2)", lambda r: r["gnabar"]),
    Quantity("HH spontaneous rate (Hz)", lambda r: r["hh"]["spontaneous_rate_hz"]),
    Quantity("HH rheobase, single spike (uA/cm2)", lambda r: r["hh"]["rheobase_single_uA_cm2"]),
)


def _interpolant_note(x: np.ndarray, y: np.ndarray) -> tuple[str, bool]:
    """Why (not) an interpolant: needs >= 2 points, distinct x, strictly monotone y."""
    if x.size < MIN_POINTS_FOR_INTERPOLANT:
        return f"< {MIN_POINTS_FOR_INTERPOLANT} usable points: no interpolant", False
    order = np.argsort(x, kind="stable")
    dx, dy = np.diff(x[order]), np.diff(y[order])
    if np.any(dx == 0):
        return "x not distinct: no interpolant", False
    if np.all(dy > 0) or np.all(dy < 0):
        return "monotone: PCHIP interpolant", True
    return "not monotone: no interpolant", False


def _panel(
    ax: plt.Axes,
    records: Sequence[Mapping[str, Any]],
    param: Quantity,
    measure: Quantity,
    colours: Mapping[str, Any],
) -> None:
    xs, ys, n_missing = [], [], 0
    for record in records:
        x, y = measure.value(record), param.value(record)
        if x is None or y is None:
            n_missing += 1
            continue
        usable = bool(param.usable(record)) if param.usable else True
        colour = colours[record["condition"]]
        interval = param.interval(record) if param.interval else None
        yerr = None
        if interval is not None:
            lo, hi = min(interval), max(interval)
            yerr = [[max(0.0, y - lo)], [max(0.0, hi - y)]]
        ax.errorbar(
            [x],
            [y],
            yerr=yerr,
            fmt="o",
            ms=5,
            color=colour,
            mfc=colour if usable else "none",
            capsize=3,
            lw=1,
        )
        if usable:
            xs.append(float(x))
            ys.append(float(y))
    x_arr, y_arr = np.array(xs), np.array(ys)
    note, draw = _interpolant_note(x_arr, y_arr)
    if draw:
        order = np.argsort(x_arr)
        grid = np.linspace(x_arr.min(), x_arr.max(), INTERPOLANT_POINTS)
        ax.plot(grid, PchipInterpolator(x_arr[order], y_arr[order])(grid), "-", color="0.6", lw=1)
    if n_missing:
        note += f"; {n_missing} condition(s) without a value"
    ax.text(0.02, 0.97, note, transform=ax.transAxes, fontsize=6, va="top", color="0.3")
    ax.margins(x=0.12, y=0.2)


def plot_mapping_curves(records: Sequence[Mapping[str, Any]], *paths: str | Path) -> None:
    """Grid of mapped parameters (rows) against gnabar and excitability (columns).

    ``records`` are the condition JSONs of ``bridge.mapping.stage.run_condition``.
    """
    if not records:
        raise ValueError("plot_mapping_curves: no records to plot")
    if not paths:
        raise ValueError("plot_mapping_curves: no output path")
    params = list(PARAMETERS)
    if "a_slow_pos" in records[0]["mtc"].get("free_parameters", []):
        params.append(SLOW_GAIN)
    colours = condition_colours([r["condition"] for r in records])
    fig, axes = plt.subplots(
        len(params),
        len(MEASURES),
        figsize=(PANEL_WIDTH_IN * len(MEASURES), PANEL_HEIGHT_IN * len(params) + 0.8),
        squeeze=False,
    )
    for i, param in enumerate(params):
        for j, measure in enumerate(MEASURES):
            ax = axes[i, j]
            _panel(ax, records, param, measure, colours)
            if j == 0:
                ax.set_ylabel(param.label, fontsize=8)
            if i == len(params) - 1:
                ax.set_xlabel(measure.label, fontsize=8)
            ax.tick_params(labelsize=7)
    # beta from the resting membrane time constant beside the label mapping (no interval;
    # null for cells that fire at rest)
    for j, measure in enumerate(MEASURES):
        points = [
            (measure.value(r), r["beta_membrane"])
            for r in records
            if r["beta_membrane"] is not None and measure.value(r) is not None
        ]
        if points:
            mx, my = zip(*points, strict=True)
            axes[0, j].plot(mx, my, "+", color="0.3", ms=8, label="beta_membrane = exp(-dt/tau_m)")
            axes[0, j].legend(fontsize=6, loc="lower left")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=colours[r["condition"]], label=r["condition"])
        for r in records
    ]
    handles.append(
        plt.Line2D([], [], marker="o", ls="", color="0.3", mfc="none", label="not used downstream")
    )
    fig.suptitle(
        "Mapped parameters across conditions (bars: fit intervals; hollow: not used downstream)",
        fontsize=10,
    )
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.025, 1, 0.985))
    save_figure(fig, *paths)
