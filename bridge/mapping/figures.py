"""The mapping stage's figures.

* :func:`plot_mapping_fi`: HH f-I curves (rate, first-spike latency) with the fitted LIF and MTC
  per condition.
* :func:`plot_mapping_curves`: each mapped parameter against gnabar and against the HH cell's
  excitability. Rows: LIF beta_fit and bias_fit, MTC a_fast and i_bias (and a_slow_pos when the
  conditions re-fit it); columns: gnabar, the HH spontaneous rate, the HH rheobase (single
  spike). Each fitted point carries its interval; a point whose mapping downstream stages skip
  (use_downstream false) is drawn hollow and left out of the interpolant. An interpolant (PCHIP,
  which keeps monotone data monotone) is drawn only through usable points whose x are distinct
  and whose values are strictly monotone in x; the panel says which case applies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator

from bridge.figure_style import condition_colours, plt, save_figure
from bridge.mapping.lif import THRESHOLD as LIF_THRESHOLD
from bridge.neurons.mtc import MTC_SPIKE_THRESHOLD_V

FI_PANEL_WIDTH_IN = 4.2
FI_PANEL_HEIGHT_IN = 3.0
HH_COLOUR = "0.15"
LIF_COLOUR = "C1"
MTC_COLOUR = "C0"


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _title(result: Mapping[str, Any]) -> str:
    lo, hi = result["intervals"]["tau_ms"]
    lines = [
        f"{result['condition']}",
        f"LIF [{result['status']}]: beta {result['beta_fit']:.3f}",
        f"  tau {result['tau_fit_ms']:.2f} ms [{lo:.2f}, {hi:.2f}], b {result['bias_fit']:.3f},"
        f" J {result['objective']:.3g}",
    ]
    mtc = result.get("mtc")
    if mtc is not None:
        a_lo, a_hi = mtc["intervals"].get("a_fast", [mtc["a_fast"], mtc["a_fast"]])
        lines += [
            f"MTC [{mtc['status']}]: a_fast {mtc['a_fast']:.3f} [{a_lo:.3f}, {a_hi:.3f}]",
            f"  i_bias {mtc['i_bias']:.3f}, a_slow_pos {mtc['a_slow_pos']:.2f},"
            f" J {mtc['objective']:.3g}",
        ]
        if "rest_state_mismatch" in mtc["status_flags"]:
            lines.append("  MTC rest state differs from HH (rest_state_mismatch)")
    return "\n".join(lines)


def _symlog_amp(ax: plt.Axes, amp: np.ndarray) -> None:
    """Linear around the rheobases, compressed above: the grid is dense there anyway."""
    ax.set_xscale("symlog", linthresh=20.0, linscale=1.5)
    ax.set_xlim(amp.min() - 1.0, amp.max() * 1.05)


def plot_mapping_fi(results: Sequence[Mapping[str, Any]], *paths: str | Path) -> None:
    """One column per condition: rates (top) and first-spike latencies (bottom).

    ``results`` are ``LifFitResult.to_dict()`` records or the mapping JSONs (which add the
    MTC under ``mtc``). HH points left out of the fits (depolarisation block) are drawn
    hollow; latencies that did not enter the fits faint. Each path's suffix sets its format.
    """
    if not results:
        raise ValueError("plot_mapping_fi: no results to plot")
    if not paths:
        raise ValueError("plot_mapping_fi: no output path")
    n = len(results)
    fig, axes = plt.subplots(
        2, n, figsize=(FI_PANEL_WIDTH_IN * n, 2 * FI_PANEL_HEIGHT_IN + 1.2), squeeze=False
    )
    for col, result in enumerate(results):
        res = result["residuals"]
        mtc = result.get("mtc")
        mres = mtc["residuals"] if mtc is not None else None
        amp = np.asarray(res["amp_uA_cm2"], dtype=float)
        in_fit = np.asarray(res["in_fit"], dtype=bool)
        lat_fit = np.asarray(res["latency_in_fit"], dtype=bool)
        rate_hh = np.asarray(res["rate_hh_hz"], dtype=float)

        ax = axes[0, col]
        ax.plot(amp[in_fit], rate_hh[in_fit], "o", ms=3, color=HH_COLOUR, label="HH (fitted)")
        if (~in_fit).any():
            ax.plot(
                amp[~in_fit],
                rate_hh[~in_fit],
                "o",
                ms=3,
                mfc="none",
                color=HH_COLOUR,
                label="HH (block and above, not fitted)",
            )
        ax.plot(amp, res["rate_lif_hz"], "-", color=LIF_COLOUR, lw=1.3, label="LIF fit")
        if mres is not None:
            ax.plot(amp, mres["rate_mtc_hz"], "-", color=MTC_COLOUR, lw=1.3, label="MTC fit")
        spont = [(res["spontaneous_rate_hh_hz"], HH_COLOUR, "HH at rest")]
        spont.append((res["spontaneous_rate_lif_hz"], LIF_COLOUR, "LIF at rest"))
        if mres is not None:
            spont.append((mres["spontaneous_rate_mtc_hz"], MTC_COLOUR, "MTC at rest"))
        for value, colour, label in spont:
            ax.axhline(value, color=colour, ls=":", lw=1, label=f"{label} ({value:.1f} Hz)")
        ax.set_title(_title(result), fontsize=7, loc="left")
        ax.set_ylabel("rate in step window (Hz)")
        _symlog_amp(ax, amp)
        ax.legend(fontsize=6, loc="upper left")

        ax = axes[1, col]
        lat_hh = _array(res["latency_hh_ms"])
        ax.plot(amp[lat_fit], lat_hh[lat_fit], "o", ms=3, color=HH_COLOUR, label="HH (fitted)")
        other = ~lat_fit & ~np.isnan(lat_hh)
        if other.any():
            ax.plot(
                amp[other],
                lat_hh[other],
                "o",
                ms=3,
                color=HH_COLOUR,
                alpha=0.25,
                label="HH (not fitted: <2 spikes, block, or firing at rest)",
            )
        ax.plot(amp, _array(res["latency_lif_ms"]), "-", color=LIF_COLOUR, lw=1.3, label="LIF")
        if mres is not None:
            lat_mtc = _array(mres["latency_mtc_ms"])
            ax.plot(amp, lat_mtc, "-", color=MTC_COLOUR, lw=1.3, label="MTC")
        finite = np.isfinite(lat_hh).any() or np.isfinite(_array(res["latency_lif_ms"])).any()
        if finite:
            ax.set_yscale("log")
        _symlog_amp(ax, amp)
        ax.set_xlabel("step amplitude (uA/cm2; linear to 20, log above)")
        ax.set_ylabel("first-spike latency (ms)")
        ax.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    save_figure(fig, *paths)


# --- mapped parameters against the HH cell's excitability ----------------------------------

CURVES_PANEL_WIDTH_IN = 3.4
CURVES_PANEL_HEIGHT_IN = 2.4
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
        figsize=(CURVES_PANEL_WIDTH_IN * len(MEASURES), CURVES_PANEL_HEIGHT_IN * len(params) + 0.8),
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


#: Voltage panel of the validation figure: this many ms of the segment after its warm-up.
VALIDATION_TRACE_MS = 400.0
VALIDATION_MODELS = (
    ("hh", "HH (NEURON)"),
    ("lif", "LIF"),
    ("lif_fine", "LIF fine dt"),
    ("mtc", "MTC"),
)


def plot_validation(
    condition: str,
    data: Any,
    runs: Mapping[str, Any],
    results: Mapping[str, Any],
    *paths: str | Path,
) -> None:
    """Rasters of HH, LIF and MTC on the first held-out segment of every level, and the
    voltages of one level (the one whose HH rate is closest to the median).

    ``data`` is a :class:`bridge.mapping.validation.ValidationData`, ``runs`` the model runs
    of :func:`bridge.mapping.validation.validate_condition` (held-out segments in order),
    ``results`` its scores (Gamma at the hit window in the labels).
    """
    heldout = np.flatnonzero(data.segment_set == 1)
    levels = [int(x) for x in np.unique(data.segment_level)]
    first = {lv: int(np.flatnonzero(data.segment_level[heldout] == lv)[0]) for lv in levels}
    rates = [np.asarray(data.spikes_ms[heldout[first[lv]]]).size for lv in levels]
    shown = levels[int(np.argsort(rates)[len(rates) // 2])]
    fig, axes = plt.subplots(
        4, 1, figsize=(9.0, 9.0), sharex=False, gridspec_kw={"height_ratios": [1, 1, 1, 2]}
    )
    t0, t1 = data.warmup_ms, data.warmup_ms + VALIDATION_TRACE_MS
    i = first[shown]
    t_hh = np.arange(data.v_mV.shape[1]) * data.store_dt_ms
    axes[0].plot(t_hh, data.v_mV[heldout[i]], color="k", lw=0.7)
    axes[0].set_ylabel("HH V (mV)")
    # Dotted: the spike threshold (LIF: 1; MTC: the upward crossing counted as a spike).
    threshold = {"lif": LIF_THRESHOLD, "mtc": MTC_SPIKE_THRESHOLD_V}
    for ax, model, label in ((axes[1], "lif", "LIF U"), (axes[2], "mtc", "MTC V")):
        run = runs.get(model)
        if run is None or run.trace is None:
            ax.text(0.5, 0.5, f"{model}: not evaluable", transform=ax.transAxes, ha="center")
        else:
            t = np.arange(run.trace.shape[1]) * run.step_ms
            ax.plot(t, run.trace[i], color="C0" if model == "lif" else "C2", lw=0.7)
            ax.axhline(threshold[model], color="0.5", lw=0.6, ls=":")
        ax.set_ylabel(label)
    mean, sigma = data.levels_uA_cm2[shown]
    axes[0].set_title(
        f"{condition}: held-out segment, level {shown} (mean {mean:g}, SD {sigma:g} uA/cm2)"
    )
    for ax in axes[:3]:
        ax.set_xlim(t0, t1)
    ax = axes[3]
    row = 0
    ticks, labels = [], []
    for lv in levels:
        seg = first[lv]
        for model, name in VALIDATION_MODELS:
            if model == "hh":
                spikes = np.asarray(data.spikes_ms[heldout[seg]])
            elif model in runs:
                spikes = np.asarray(runs[model].spikes_ms[seg])
            else:
                spikes = np.array([])
            ax.vlines(spikes, row - 0.4, row + 0.4, color="k" if model == "hh" else "C0", lw=0.6)
            gamma = ""
            if model != "hh" and model in results and results[model].get("levels"):
                key = f"{results['hit_window_ms']:g}"
                value = results[model]["levels"][levels.index(lv)]["gamma"][key]
                gamma = "" if value is None else f" G={value:.2f}"
            ticks.append(row)
            labels.append(f"L{lv} {name}{gamma}")
            row -= 1
        row -= 0.5
    ax.set_yticks(ticks, labels, fontsize=6)
    ax.set_xlim(0, data.segment_ms)
    ax.set_xlabel("time in segment (ms)")
    ax.axvline(data.warmup_ms, color="0.6", lw=0.5, ls="--")
    save_figure(fig, *paths)
