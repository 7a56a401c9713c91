"""The single-compartment HH cell in NEURON: built-in ``hh`` or the project's ``hhx``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hh_models.mechanisms import load_mechanisms
from hh_models.params import HHParams, diameter_um

#: Axial resistance (ohm cm); irrelevant for one compartment, fixed so the cell is fully set.
RA_OHM_CM = 35.4


@dataclass
class HHCell:
    """One NEURON section with its HH mechanism; keep the object alive while simulating."""

    section: Any
    mechanism: str
    params: HHParams

    @property
    def segment(self) -> Any:
        return self.section(0.5)


MECHANISMS = ("hh", "hhx")


def default_mechanism(params: HHParams) -> str:
    """``hh`` when the condition needs nothing else, ``hhx`` (Na/K channelopathy) otherwise."""
    return "hh" if params.uses_builtin_hh else "hhx"


def set_globals(params: HHParams, mechanism: str) -> None:
    """Temperature and hhx's shifts, slope and time-constant factors are NEURON globals:
    one value per simulation."""
    from neuron import h

    h.celsius = params.celsius
    if mechanism == "hhx":
        load_mechanisms()
        h.mshift_hhx = params.m_shift_mV
        h.hshift_hhx = params.h_shift_mV
        h.mslope_hhx = params.m_slope_factor
        h.hslope_hhx = params.h_slope_factor
        h.mtaufac_hhx = params.m_tau_factor
        h.htaufac_hhx = params.h_tau_factor
        h.nshift_hhx = params.n_shift_mV


def build_cell(params: HHParams, name: str = "hh", mechanism: str | None = None) -> HHCell:
    """A cylinder with L = diam so that its side area is ``params.area_um2``; nseg 1.

    ``mechanism`` None picks :func:`default_mechanism`; ``"hhx"`` can be forced (it equals
    ``hh`` at zero shifts). Also sets the simulation globals (celsius, shifts).
    """
    from neuron import h

    mechanism = mechanism or default_mechanism(params)
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown HH mechanism {mechanism!r}; expected one of {MECHANISMS}")
    if mechanism == "hh" and not params.uses_builtin_hh:
        raise ValueError(
            "built-in hh has no Na/K shifts, slope or time-constant factors, or persistent Na: "
            "use hhx"
        )
    set_globals(params, mechanism)
    sec = h.Section(name=name)
    sec.L = sec.diam = diameter_um(params.area_um2)
    sec.nseg = 1
    sec.Ra = RA_OHM_CM
    sec.cm = params.cm_uF_cm2
    sec.insert(mechanism)
    seg = sec(0.5)
    mech = getattr(seg, mechanism)
    mech.gnabar = params.gnabar
    mech.gkbar = params.gkbar
    mech.gl = params.gl
    mech.el = params.el_mV
    if mechanism == "hhx":
        mech.nap = params.nap_fraction
        mech.mutfrac = params.mutant_fraction_or_all
    sec.ena = params.ena_mV
    sec.ek = params.ek_mV
    return HHCell(section=sec, mechanism=mechanism, params=params)
