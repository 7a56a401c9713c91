"""The autoencoder paper's NEURON figure for every condition.

Columns are conditions. Rows: membrane potential without input and at a reference step,
spike raster over the step amplitudes, spike counts per amplitude; a bottom panel overlays
all f-I curves with rheobase, spontaneous rate and block onset marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bridge.contracts import HHSummary, read_fi_curve, read_hh_summary
from bridge.figure_style import condition_colours, plt, save_figure

#: Window of the no-input trace shown (ms): long enough for several spontaneous spikes.
SPONTANEOUS_WINDOW_MS = 200.0
#: Step amplitude (uA/cm2) whose trace is shown: repetitive firing in every default condition.
REFERENCE_AMP_uA_cm2 = 10.0


def _load(hh_dir: Path) -> tuple[HHSummary, pd.DataFrame, dict]:
    summary = read_hh_summary(hh_dir / "summary.json")
    fi = read_fi_curve(hh_dir / "fi_curve.csv")
    with np.load(hh_dir / "traces.npz") as npz:
        traces = {key: npz[key] for key in npz.files}
    return summary, fi, traces


def plot_hh_overview(
    hh_dirs: Sequence[str | Path],
    png: str | Path,
    svg: str | Path,
    reference_amp_uA_cm2: float = REFERENCE_AMP_uA_cm2,
) -> None:
    """Draw the overview from ``results/hh/{condition}`` folders into PNG and SVG."""
    data = [_load(Path(d)) for d in hh_dirs]
    names = [summary.condition for summary, _, _ in data]
    colours = condition_colours(names)
    n = len(data)
    fig = plt.figure(figsize=(4.2 * n, 12.5), layout="constrained")
    grid = fig.add_gridspec(5, n, height_ratios=[1, 1, 1.4, 1, 1.4])
    fi_ax = fig.add_subplot(grid[4, :])
    for col, (summary, fi, traces) in enumerate(data):
        name = summary.condition
        colour = colours[name]
        title = f"{name}\ngNa {summary.gnabar:g} S/cm²"

        ax = fig.add_subplot(grid[0, col])
        t = traces["spontaneous_t_ms"]
        shown = t <= t[0] + SPONTANEOUS_WINDOW_MS
        ax.plot(t[shown], traces["spontaneous_v_mV"][shown], color=colour, lw=0.8)
        rate = summary.spontaneous_rate_hz or 0.0
        ax.set_title(f"{title}\nno input: {rate:.1f} Hz", fontsize=9)
        ax.set_ylabel("V (mV)")
        ax.set_xlabel("time (ms)")

        ax = fig.add_subplot(grid[1, col])
        amps = traces["amp_uA_cm2"]
        idx = int(np.argmin(np.abs(amps - reference_amp_uA_cm2)))
        ax.plot(traces["t_ms"], traces["v_mV"][idx], color=colour, lw=0.6)
        ax.set_title(f"step {amps[idx]:g} µA/cm² ({amps[idx] * 1e-3:g} nA)", fontsize=9)
        ax.set_ylabel("V (mV)")
        ax.set_xlabel("time (ms)")

        ax = fig.add_subplot(grid[2, col])
        spike_t = traces["spike_times_ms"]
        spike_amp = amps[traces["spike_sweep_index"].astype(int)]
        ax.scatter(spike_t, spike_amp, s=0.4, color=colour, marker="|", linewidths=0.5)
        ax.axvspan(
            float(traces["delay_ms"]),
            float(traces["delay_ms"] + traces["duration_ms"]),
            color="0.92",
            zorder=0,
        )
        ax.set_ylabel("step (µA/cm²)")
        ax.set_xlabel("time (ms)")
        ax.set_title("spike raster", fontsize=9)

        ax = fig.add_subplot(grid[3, col])
        ax.bar(fi["amp_uA_cm2"], fi["spike_count"], width=0.8 * np.diff(amps).min(), color=colour)
        ax.set_ylabel("spikes in step")
        ax.set_xlabel("step (µA/cm²)")
        ax.set_title("spike counts", fontsize=9)

        fi_ax.plot(fi["amp_uA_cm2"], fi["rate_hz"], color=colour, lw=1.4, label=name)
        block = fi[fi["block"].astype(bool)]
        if len(block):
            fi_ax.scatter(block["amp_uA_cm2"], block["rate_hz"], color=colour, marker="x", s=12)
        if summary.spontaneous:
            fi_ax.axhline(rate, color=colour, ls=":", lw=1)
        rheobase = summary.rheobase_repetitive_uA_cm2
        if rheobase is not None:
            fi_ax.axvline(rheobase, color=colour, ls="--", lw=0.8)
    fi_ax.set_xlabel("step amplitude (µA/cm²; ×0.001 = nA on 100 µm²)")
    fi_ax.set_ylabel("rate in step (Hz)")
    fi_ax.set_title(
        "f–I curves: dashed = repetitive rheobase, dotted = spontaneous rate, "
        "x = depolarisation block",
        fontsize=9,
    )
    fi_ax.legend(fontsize=8)
    save_figure(fig, png, svg)
