"""Figure: HH and fitted-LIF f-I curves (rate and first-spike latency) per condition."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bridge.io import atomic_path  # noqa: E402

PANEL_WIDTH_IN = 4.0
PANEL_HEIGHT_IN = 3.0
FIGURE_DPI = 150


def _array(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _caption(result: Mapping[str, Any]) -> str:
    lo, hi = result["intervals"]["tau_ms"]
    return (
        f"{result['condition']} [{result['status']}]\n"
        f"beta_fit {result['beta_fit']:.3f} (tau {result['tau_fit_ms']:.2f} ms, "
        f"[{lo:.2f}, {hi:.2f}]), b {result['bias_fit']:.3f}\n"
        f"w {result['w_per_nA']:.3g}/nA, objective {result['objective']:.3g}"
    )


def plot_mapping_fi(results: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """One column per condition: rates (top) and first-spike latencies (bottom), HH vs LIF.

    ``results`` are ``LifFitResult.to_dict()`` records (or the mapping JSONs holding them).
    HH points excluded from the fit (depolarisation block) are drawn hollow; latencies that
    did not enter the fit are drawn faint. The output format follows the file suffix.
    """
    if not results:
        raise ValueError("plot_mapping_fi: no results to plot")
    n = len(results)
    fig, axes = plt.subplots(
        2,
        n,
        figsize=(PANEL_WIDTH_IN * n, 2 * PANEL_HEIGHT_IN),
        squeeze=False,
        sharex="col",
    )
    for col, result in enumerate(results):
        res = result["residuals"]
        amp = np.asarray(res["amp_uA_cm2"], dtype=float)
        in_fit = np.asarray(res["in_fit"], dtype=bool)
        lat_fit = np.asarray(res["latency_in_fit"], dtype=bool)
        ax = axes[0, col]
        ax.plot(amp, res["rate_lif_hz"], "-", color="C1", lw=1.5, label="LIF (fit)")
        ax.plot(
            amp[in_fit],
            np.asarray(res["rate_hh_hz"])[in_fit],
            "o",
            ms=3,
            color="C0",
            label="HH (fitted)",
        )
        if (~in_fit).any():
            ax.plot(
                amp[~in_fit],
                np.asarray(res["rate_hh_hz"])[~in_fit],
                "o",
                ms=3,
                mfc="none",
                color="C0",
                label="HH (block, not fitted)",
            )
        ax.axhline(res["spontaneous_rate_hh_hz"], color="C0", ls=":", lw=1, label="HH spontaneous")
        ax.axhline(
            res["spontaneous_rate_lif_hz"], color="C1", ls=":", lw=1, label="LIF spontaneous"
        )
        ax.set_title(_caption(result), fontsize=8)
        ax.set_ylabel("rate (Hz)")
        ax.legend(fontsize=6, loc="upper left")
        ax = axes[1, col]
        lat_hh = _array(res["latency_hh_ms"])
        lat_lif = _array(res["latency_lif_ms"])
        ax.plot(amp, lat_lif, "-", color="C1", lw=1.5, label="LIF")
        ax.plot(amp[lat_fit], lat_hh[lat_fit], "o", ms=3, color="C0", label="HH (fitted)")
        other = ~lat_fit & ~np.isnan(lat_hh)
        if other.any():
            ax.plot(
                amp[other], lat_hh[other], "o", ms=3, color="C0", alpha=0.3, label="HH (not fitted)"
            )
        if np.isfinite(np.concatenate([lat_hh, lat_lif])).any():
            ax.set_yscale("log")
        ax.set_xlabel("step amplitude (uA/cm2)")
        ax.set_ylabel("first-spike latency (ms)")
        ax.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=FIGURE_DPI)
    plt.close(fig)
