"""Markdown rendering of the comparison tables: numbers to 4 significant digits, gaps shown."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

SIGNIFICANT_DIGITS = 4
#: What a Markdown cell shows for a value that is not there (the CSV cell stays empty).
GAP = "—"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt(value: Any, digits: int = SIGNIFICANT_DIGITS) -> str:
    """A number to ``digits`` significant digits; text as is; a gap as :data:`GAP`."""
    if is_missing(value):
        return GAP
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int,)) or (isinstance(value, float) and value.is_integer()):
        if abs(value) < 1e6:
            return str(int(value))
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return GAP
        return f"{value:.{digits}g}"
    return str(value)


def mean_sd(mean: Any, sd: Any, n: Any) -> str:
    """``mean ± sd (n=k)``; ``mean (n=1)``; ``— (n=0)`` for a gap."""
    count = 0 if is_missing(n) else int(n)
    if count == 0 or is_missing(mean):
        return f"{GAP} (n={count})"
    if is_missing(sd):
        return f"{fmt(mean)} (n={count})"
    return f"{fmt(mean)} ± {fmt(sd, 2)} (n={count})"


def table(frame: pd.DataFrame) -> str:
    """A GitHub-style Markdown table of ``frame`` with every cell through :func:`fmt`."""
    if frame.empty:
        return "_(no rows)_"
    # A pipe inside a cell would end it: escape it (bridge.compare.html reads it back).
    text = frame.astype(object).map(lambda v: fmt(v).replace("|", "\\|"))
    return text.to_markdown(index=False, disable_numparse=True)


def provenance_line(prov: Mapping[str, Any]) -> str:
    """One line naming the commit and config hash (package versions in the CSV sidecars)."""
    return (
        f"_Provenance: git commit `{prov.get('git_commit', 'unknown')}`, "
        f"config hash `{prov.get('config_hash', 'unknown')}`._"
    )
