"""Shared figure helpers: headless backend, one colour per condition, PNG + SVG saving."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bridge.io import atomic_path  # noqa: E402

#: Figures carry no timestamps so reruns give the same bytes where the backend allows.
SAVE_METADATA = {"png": {"Software": None}, "svg": {"Date": None}}
DPI = 150


def condition_colours(names: Sequence[str]) -> dict[str, tuple]:
    """A stable colour per condition (order of the conditions table)."""
    cmap = plt.get_cmap("viridis")
    n = max(len(names) - 1, 1)
    return {name: cmap(0.85 * i / n) for i, name in enumerate(names)}


def save_figure(fig: plt.Figure, *paths: str | Path) -> None:
    """Save to each path (format from the suffix) atomically, then close the figure."""
    for path in paths:
        fmt = Path(path).suffix.lstrip(".")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=SAVE_METADATA.get(fmt))
    plt.close(fig)
