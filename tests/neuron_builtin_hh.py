"""Reference f-I runs with NEURON's built-in ``hh`` (no compilation needed), for the tests.

Deliberately independent of hh_models' own NEURON code: one 100 um2 compartment per amplitude,
IClamp in nA, NetCon spike detection, all in one simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hh_models.params import HHParams, StepProtocol

V_INIT_mV = -65.0


def neuron_builtin_fi(
    params: HHParams, protocol: StepProtocol, threshold_mV: float
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """fi_curve-like table (step-window counts) and the spike times (ms) of every sweep."""
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = params.celsius
    side_um = math.sqrt(params.area_um2 / math.pi)
    cells = []
    for i, amp in enumerate(protocol.amps_uA_cm2):
        sec = h.Section(name=f"ref_hh_{i}")
        sec.L = sec.diam = side_um
        sec.nseg = 1
        sec.cm = params.cm_uF_cm2
        sec.insert("hh")
        seg = sec(0.5)
        seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl, seg.hh.el = (
            params.gnabar,
            params.gkbar,
            params.gl,
            params.el_mV,
        )
        stim = h.IClamp(seg)
        stim.delay, stim.dur = protocol.delay_ms, protocol.duration_ms
        stim.amp = float(params.density_to_nA(amp))
        netcon = h.NetCon(seg._ref_v, None, sec=sec)
        netcon.threshold = threshold_mV
        times = h.Vector()
        netcon.record(times)
        cells.append((sec, stim, netcon, times))
    h.dt = protocol.dt_ms
    h.steps_per_ms = 1.0 / protocol.dt_ms
    h.finitialize(V_INIT_mV)
    h.continuerun(protocol.tstop_ms)
    spikes = [np.array(times.to_python()) for *_, times in cells]
    start, stop = protocol.delay_ms, protocol.delay_ms + protocol.duration_ms
    counts = np.array([np.count_nonzero((s >= start) & (s < stop)) for s in spikes])
    amps = np.asarray(protocol.amps_uA_cm2, dtype=float)
    table = pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": params.density_to_nA(amps),
            "spike_count": counts,
            "rate_hz": counts / (protocol.duration_ms / 1000.0),
        }
    )
    for sec, *_ in cells:
        h.delete_section(sec=sec)
    return table, spikes
