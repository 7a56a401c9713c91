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


def set_globals(params: HHParams) -> None:
    """Temperature and the hhx shifts are NEURON globals: one value per simulation."""
    from neuron import h

    h.celsius = params.celsius
    if not params.uses_builtin_hh:
        load_mechanisms()
        h.mshift_hhx = params.m_shift_mV
        h.hshift_hhx = params.h_shift_mV


def build_cell(params: HHParams, name: str = "hh") -> HHCell:
    """A cylinder with L = diam so that its side area is ``params.area_um2``; nseg 1.

    Uses ``hh`` when the condition needs nothing else, ``hhx`` (shifts, persistent Na)
    otherwise. Also sets the simulation globals (celsius, shifts) from ``params``.
    """
    from neuron import h

    set_globals(params)
    mechanism = "hh" if params.uses_builtin_hh else "hhx"
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
    sec.ena = params.ena_mV
    sec.ek = params.ek_mV
    return HHCell(section=sec, mechanism=mechanism, params=params)
