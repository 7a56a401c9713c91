"""Closed-form beta values: the autoencoder paper's label mapping and the membrane decay.

The paper (Eq. 1-4) writes the LIF decay as beta = exp(-dt/tau) with tau = C/g and then
takes dt = C, so beta = exp(-g) with g "in mS". Applied to a condition it is a label
mapping: the number written in the condition's gnabar (0.12 for control) goes into exp(-x),
whatever its unit; it is not derived from the cell's dynamics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

LABEL_MAPPING_TEXT = (
    "label mapping: beta = exp(-x) with x the number in the condition's gnabar "
    "(autoencoder paper Eq. 3-4: beta = exp(-dt/tau), tau = C/g, dt = C); "
    "not derived from the cell's dynamics"
)


@dataclass(frozen=True)
class AnalyticBeta:
    """The paper's label mapping for one condition."""

    name: str
    value: float
    unit: str
    beta: float
    mapping: str = LABEL_MAPPING_TEXT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MembraneBeta:
    """beta = exp(-dt/tau_m) from the measured resting membrane time constant; None + reason."""

    beta: float | None
    tau_m_ms: float | None
    dt_ms: float
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def beta_analytic(gnabar: float, name: str = "gnabar", unit: str = "S/cm2") -> AnalyticBeta:
    """Label mapping beta = exp(-x), x the number in the condition's gnabar (0.12 -> 0.887)."""
    if isinstance(gnabar, bool) or not math.isfinite(gnabar) or gnabar < 0:
        raise ValueError(f"{name} = {gnabar!r}: expected a finite number >= 0")
    return AnalyticBeta(name=name, value=float(gnabar), unit=unit, beta=math.exp(-gnabar))


def beta_membrane(
    tau_m_ms: float | None, dt_ms: float, reason_if_missing: str | None = None
) -> MembraneBeta:
    """exp(-dt_ms/tau_m_ms); ``beta`` None with a reason when tau_m is undefined."""
    if not (math.isfinite(dt_ms) and dt_ms > 0):
        raise ValueError(f"dt_ms = {dt_ms!r}: expected a finite number > 0")
    if tau_m_ms is None:
        reason = reason_if_missing or "tau_m_ms is undefined for this condition"
        return MembraneBeta(beta=None, tau_m_ms=None, dt_ms=dt_ms, reason=reason)
    if not (math.isfinite(tau_m_ms) and tau_m_ms > 0):
        return MembraneBeta(
            beta=None, tau_m_ms=None, dt_ms=dt_ms, reason=f"tau_m_ms = {tau_m_ms!r} is not > 0"
        )
    return MembraneBeta(
        beta=math.exp(-dt_ms / tau_m_ms), tau_m_ms=float(tau_m_ms), dt_ms=dt_ms, reason=None
    )
