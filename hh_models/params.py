"""Parameter sets of the HH cell and its protocols, shared by NEURON and the Brian2 twin.

Conventions are NEURON's built-in ``hh`` (6.3 degC reference, ena 50, ek -77, el -54.3 mV).
Pure numpy: nothing here imports a simulator.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bridge.config import Condition
from bridge.config.loading import NA_CHANNEL_DEFAULTS, differs_from

ENA_mV = 50.0
EK_mV = -77.0
EL_DEFAULT_mV = -54.3
#: Initial potential of a cell that keeps its el (NEURON's v_init default; hh rests near it).
V_INIT_DEFAULT_mV = -65.0
CELSIUS_REF = 6.3
Q10_BASE = 3.0
#: Midpoints (mV) of hh's m-infinity and h-infinity: the pivots about which a slope factor
#: stretches the voltage axis of the gate (the CONSTANTs MPIVOT/HPIVOT of hhx.mod).
M_PIVOT_mV = -40.02457735236596
H_PIVOT_mV = -62.3075017836565
#: 1 uA/cm2 on the 100 um2 compartment is 1e-6 A/cm2 * 1e-6 cm2 = 1e-12 A = 0.001 nA.
UM2_PER_CM2 = 1e8
NA_PER_UA = 1e3


@dataclass(frozen=True)
class HHParams:
    """One HH cell. Conductances in S/cm2, potentials in mV, area in um2."""

    gnabar: float
    gkbar: float
    gl: float
    el_mV: float = EL_DEFAULT_mV
    ena_mV: float = ENA_mV
    ek_mV: float = EK_mV
    m_shift_mV: float = 0.0
    h_shift_mV: float = 0.0
    nap_fraction: float = 0.0
    #: Boltzmann slope of m-inf / h-inf multiplied by this (mutant population)
    m_slope_factor: float = 1.0
    h_slope_factor: float = 1.0
    #: m / h time constants multiplied by this (mutant population)
    m_tau_factor: float = 1.0
    h_tau_factor: float = 1.0
    #: K activation (n) half-voltage shift, whole cell
    n_shift_mV: float = 0.0
    #: mutant-allele fraction of gnabar; None: the whole Na conductance carries the Na
    #: parameters (as 1.0). Otherwise gnabar*(1-f) is wild type and gnabar*f mutant.
    mutant_fraction: float | None = None
    celsius: float = CELSIUS_REF
    cm_uF_cm2: float = 1.0
    area_um2: float = 100.0
    #: resting potential the leak was re-balanced to (None: el kept)
    v_rest_target_mV: float | None = None

    @property
    def q10_factor(self) -> float:
        return Q10_BASE ** ((self.celsius - CELSIUS_REF) / 10.0)

    @property
    def v_init_mV(self) -> float:
        """Initial potential (gates at steady state there): the re-balanced rest, else -65 mV."""
        if self.v_rest_target_mV is not None:
            return self.v_rest_target_mV
        return V_INIT_DEFAULT_mV

    @property
    def has_na_mutation(self) -> bool:
        """True when the Na parameters differ from hh's (whatever the mutant fraction)."""
        return differs_from(self, NA_CHANNEL_DEFAULTS)

    @property
    def mutant_fraction_or_all(self) -> float:
        """The mutant share of gnabar: ``mutant_fraction``, or 1 when it is not given."""
        return 1.0 if self.mutant_fraction is None else self.mutant_fraction

    @property
    def uses_builtin_hh(self) -> bool:
        """hh can express this cell: no Na mutation (then the fraction is moot), no K shift."""
        return not self.has_na_mutation and self.n_shift_mV == 0.0

    def density_to_nA(self, amp_uA_cm2: np.ndarray | float) -> np.ndarray | float:
        """Convert a current density (uA/cm2) on this compartment to nA."""
        return np.asarray(amp_uA_cm2) * self.area_um2 / UM2_PER_CM2 * NA_PER_UA


def _vtrap(x: np.ndarray, y: float) -> np.ndarray:
    """x / (exp(x/y) - 1) with its limit y at x = 0 (as in hh.mod)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x / y) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, y * (1.0 - x / y / 2.0), safe / np.expm1(safe / y))


def _gate_voltage(v: np.ndarray, shift_mV: float, slope_factor: float, pivot_mV: float):
    """The potential (mV) at which a shifted, slope-scaled gate evaluates hh's rates."""
    if slope_factor == 1.0:
        return v - shift_mV
    return pivot_mV + (v - shift_mV - pivot_mV) / slope_factor


def rates(
    v_mV: np.ndarray,
    m_shift_mV: float = 0.0,
    h_shift_mV: float = 0.0,
    m_slope_factor: float = 1.0,
    h_slope_factor: float = 1.0,
    n_shift_mV: float = 0.0,
) -> dict:
    """HH opening/closing rates (1/ms at 6.3 degC) of hh.mod, with half-voltage shifts and
    slope factors (as hhx.mod). Time-constant factors divide both rates of a gate."""
    v = np.asarray(v_mV, dtype=float)
    vm = _gate_voltage(v, m_shift_mV, m_slope_factor, M_PIVOT_mV)
    vh = _gate_voltage(v, h_shift_mV, h_slope_factor, H_PIVOT_mV)
    vn = v - n_shift_mV
    return {
        "alpha_m": 0.1 * _vtrap(-(vm + 40.0), 10.0),
        "beta_m": 4.0 * np.exp(-(vm + 65.0) / 18.0),
        "alpha_h": 0.07 * np.exp(-(vh + 65.0) / 20.0),
        "beta_h": 1.0 / (np.exp(-(vh + 35.0) / 10.0) + 1.0),
        "alpha_n": 0.01 * _vtrap(-(vn + 55.0), 10.0),
        "beta_n": 0.125 * np.exp(-(vn + 65.0) / 80.0),
    }


def steady_state_currents(params: HHParams, v_mV: np.ndarray | float) -> dict:
    """Na and K current densities (mA/cm2) with every gate at its steady state
    (mutant and wild-type Na populations summed)."""
    r = rates(
        v_mV,
        params.m_shift_mV,
        params.h_shift_mV,
        params.m_slope_factor,
        params.h_slope_factor,
        params.n_shift_mV,
    )
    wt = rates(v_mV)
    m = r["alpha_m"] / (r["alpha_m"] + r["beta_m"])
    h = r["alpha_h"] / (r["alpha_h"] + r["beta_h"])
    n = r["alpha_n"] / (r["alpha_n"] + r["beta_n"])
    mw = wt["alpha_m"] / (wt["alpha_m"] + wt["beta_m"])
    hw = wt["alpha_h"] / (wt["alpha_h"] + wt["beta_h"])
    h_eff = (1.0 - params.nap_fraction) * h + params.nap_fraction
    f = params.mutant_fraction_or_all
    v = np.asarray(v_mV, dtype=float)
    return {
        "ina": params.gnabar * (f * m**3 * h_eff + (1.0 - f) * mw**3 * hw) * (v - params.ena_mV),
        "ik": params.gkbar * n**4 * (v - params.ek_mV),
    }


def rebalanced_el(params: HHParams, v_rest_mV: float) -> float:
    """Leak reversal (mV) that makes ``v_rest_mV`` a steady state (zero net current).

    Only a fixed point: whether it is stable is checked by simulation (perturbation).
    """
    cur = steady_state_currents(params, v_rest_mV)
    return float(v_rest_mV + (cur["ina"] + cur["ik"]) / params.gl)


def params_from_condition(condition: Condition, hh_cfg: Mapping[str, Any]) -> HHParams:
    """Build the cell's parameters from a conditions row and the ``hh`` config section."""
    params = HHParams(
        gnabar=condition.gnabar,
        gkbar=condition.gkbar,
        gl=condition.gl,
        m_shift_mV=condition.m_shift_mV,
        h_shift_mV=condition.h_shift_mV,
        nap_fraction=condition.nap_fraction,
        m_slope_factor=condition.m_slope_factor,
        h_slope_factor=condition.h_slope_factor,
        m_tau_factor=condition.m_tau_factor,
        h_tau_factor=condition.h_tau_factor,
        n_shift_mV=condition.n_shift_mV,
        mutant_fraction=condition.mutant_fraction,
        celsius=condition.celsius if condition.celsius is not None else float(hh_cfg["celsius"]),
        cm_uF_cm2=float(hh_cfg["cm_uF_cm2"]),
        area_um2=float(hh_cfg["area_um2"]),
    )
    if condition.v_rest_mV is None:
        return params
    el = rebalanced_el(params, condition.v_rest_mV)
    return HHParams(**{**params.__dict__, "el_mV": el, "v_rest_target_mV": condition.v_rest_mV})


def diameter_um(area_um2: float) -> float:
    """Diameter (= length) of a cylinder whose side area is ``area_um2``."""
    return math.sqrt(area_um2 / math.pi)


@dataclass(frozen=True)
class StepProtocol:
    """Current steps for an f-I curve: delay, step, after (ms); amplitudes in uA/cm2."""

    amps_uA_cm2: tuple[float, ...]
    delay_ms: float = 100.0
    duration_ms: float = 800.0
    after_ms: float = 100.0
    dt_ms: float = 0.025

    @property
    def tstop_ms(self) -> float:
        return self.delay_ms + self.duration_ms + self.after_ms


def amplitude_grid(segments: Sequence[Sequence[float]]) -> tuple[float, ...]:
    """Amplitudes (uA/cm2) from [start, stop, spacing] segments; stop inclusive, sorted, unique."""
    values: list[float] = []
    for start, stop, spacing in segments:
        n = int(math.floor((stop - start) / spacing + 1e-9)) + 1
        values.extend(start + spacing * np.arange(n))
    return tuple(float(v) for v in np.unique(np.round(values, 6)))


def step_protocol_from_config(hh_cfg: Mapping[str, Any]) -> StepProtocol:
    steps = hh_cfg["steps"]
    return StepProtocol(
        amps_uA_cm2=amplitude_grid(steps["amp_segments_uA_cm2"]),
        delay_ms=float(steps["delay_ms"]),
        duration_ms=float(steps["duration_ms"]),
        after_ms=float(steps["after_ms"]),
        dt_ms=float(hh_cfg["dt_ms"]),
    )
