"""Figure: HH f-I curves (rate, first-spike latency) with the fitted LIF and MTC per condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bridge.plots.style import save_figure  # noqa: E402

PANEL_WIDTH_IN = 4.2
PANEL_HEIGHT_IN = 3.0
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
        2, n, figsize=(PANEL_WIDTH_IN * n, 2 * PANEL_HEIGHT_IN + 1.2), squeeze=False
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
