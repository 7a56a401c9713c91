"""Shared shortening of the HH config for tests that run the HH stage on tiny protocols."""

from __future__ import annotations

from typing import Any


def shorten_validation(
    hh: dict[str, Any], segment_ms: float, warmup_ms: float, levels_uA_cm2: list[list[float]]
) -> None:
    """One fit and one held-out segment of ``segment_ms`` per level (hh.validation), in place."""
    hh["validation"].update(
        levels_uA_cm2=levels_uA_cm2,
        segment_ms=segment_ms,
        warmup_ms=warmup_ms,
        fit_segments=1,
        heldout_segments=1,
    )
