"""Brian2 twin of the NEURON HH cell: the f-I step protocol, all amplitudes in one NeuronGroup.

Same model as NEURON's ``hh`` (and the ``hhx`` variant: a mutant Na population with shifts,
slope and time-constant factors and persistent Na beside a wild-type one, and a K shift; see
``hh_models.params.rates``): ena/ek/el from ``HHParams``, rates scaled by
q10 = 3^((celsius - 6.3)/10). Integrated with ``exponential_euler`` because the equations are
stiff at gnabar 1.0 (explicit RK4 goes wrong there).

Code generation: the requested target ('cython' by default); when Cython cannot compile,
the run falls back to 'numpy' with a logged WARNING. Brian2's Cython cache lives in
``build/brian2_cython/`` of the repository (git-ignored; safe to delete, it is rebuilt).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from bridge import REPO_ROOT
from hh_models.params import H_PIVOT_mV, HHParams, M_PIVOT_mV, StepProtocol, rates

LOG = logging.getLogger(__name__)

#: Every sweep starts at params.v_init_mV with the gates at their steady state there,
#: as NEURON's finitialize does.
CODEGEN_TARGETS = ("cython", "numpy")
#: Where Brian2 keeps compiled Cython extensions (keyed by code hash, shared between runs).
CYTHON_CACHE_DIR = REPO_ROOT / "build" / "brian2_cython"

# Rates of hh.mod in 1/ms at 6.3 degC. The vtrap terms x/(exp(x/y) - 1) are written as
# y/exprel(x/y): Brian2's exprel has the same removable singularity at x = 0 that hh.mod's
# vtrap handles by a Taylor branch, and is accurate on both sides of it.
EQUATIONS = """
dv/dt = (i_stim - ina - ik - il) / cm_area : volt
ina = gnabar * (mut_fraction * m**3 * ((1 - nap_fraction) * h + nap_fraction)
    + (1 - mut_fraction) * mw**3 * hw) * (v - ena) : amp/meter**2
ik = gkbar * n**4 * (v - ek) : amp/meter**2
il = gl * (v - el) : amp/meter**2
i_stim = amp_stim * int(timestep(t, dt) >= step_on) * int(timestep(t, dt) < step_off)
    : amp/meter**2
dm/dt = q10 / m_tau_factor * (alpha_m * (1 - m) - beta_m * m) : 1
dh/dt = q10 / h_tau_factor * (alpha_h * (1 - h) - beta_h * h) : 1
dn/dt = q10 * (alpha_n * (1 - n) - beta_n * n) : 1
dmw/dt = q10 * (alpha_mw * (1 - mw) - beta_mw * mw) : 1
dhw/dt = q10 * (alpha_hw * (1 - hw) - beta_hw * hw) : 1
vm = m_pivot + (v - m_shift - m_pivot) / m_slope : volt
vh = h_pivot + (v - h_shift - h_pivot) / h_slope : volt
alpha_m = (1 / ms) / exprel(-(vm + 40 * mV) / (10 * mV)) : Hz
beta_m = (4 / ms) * exp(-(vm + 65 * mV) / (18 * mV)) : Hz
alpha_h = (0.07 / ms) * exp(-(vh + 65 * mV) / (20 * mV)) : Hz
beta_h = (1 / ms) / (exp(-(vh + 35 * mV) / (10 * mV)) + 1) : Hz
alpha_mw = (1 / ms) / exprel(-(v + 40 * mV) / (10 * mV)) : Hz
beta_mw = (4 / ms) * exp(-(v + 65 * mV) / (18 * mV)) : Hz
alpha_hw = (0.07 / ms) * exp(-(v + 65 * mV) / (20 * mV)) : Hz
beta_hw = (1 / ms) / (exp(-(v + 35 * mV) / (10 * mV)) + 1) : Hz
alpha_n = (0.1 / ms) / exprel(-(v - n_shift + 55 * mV) / (10 * mV)) : Hz
beta_n = (0.125 / ms) * exp(-(v - n_shift + 65 * mV) / (80 * mV)) : Hz
amp_stim : amp/meter**2 (constant)
"""


@dataclass(frozen=True)
class Brian2StepResult:
    """Spikes (and optionally voltage) of one Brian2 step-protocol run; one entry per sweep."""

    amp_uA_cm2: np.ndarray
    #: spike times (ms, from t = 0) of each sweep, ascending
    spike_times_ms: tuple[np.ndarray, ...]
    #: code generation target that actually ran ('cython' or the 'numpy' fallback)
    codegen_target: str
    dt_ms: float
    #: sample times (ms) and voltages (mV, [n_sweeps, n_t]); None unless recorded
    t_ms: np.ndarray | None = None
    v_mV: np.ndarray | None = None

    def spike_counts(self, start_ms: float, stop_ms: float) -> np.ndarray:
        """Spikes per sweep with start_ms <= t < stop_ms."""
        return np.array(
            [int(np.count_nonzero((s >= start_ms) & (s < stop_ms))) for s in self.spike_times_ms],
            dtype=int,
        )


def steady_state_gates(params: HHParams, v_mV: float | None = None) -> dict[str, float]:
    """m, h, n at their steady state at ``v_mV`` (default: params.v_init_mV, as NEURON's
    finitialize sets them)."""
    v_mV = params.v_init_mV if v_mV is None else v_mV
    r = rates(
        np.array([v_mV]),
        params.m_shift_mV,
        params.h_shift_mV,
        params.m_slope_factor,
        params.h_slope_factor,
        params.n_shift_mV,
    )
    wt = rates(np.array([v_mV]))
    gates = {
        gate: float(r[f"alpha_{gate}"][0] / (r[f"alpha_{gate}"][0] + r[f"beta_{gate}"][0]))
        for gate in ("m", "h", "n")
    }
    for gate in ("m", "h"):
        gates[f"{gate}w"] = float(
            wt[f"alpha_{gate}"][0] / (wt[f"alpha_{gate}"][0] + wt[f"beta_{gate}"][0])
        )
    return gates


@contextmanager
def _codegen_prefs(target: str) -> Iterator[None]:
    """Set Brian2's code generation target and cache for one run; restore them afterwards."""
    from brian2 import prefs

    saved = (prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir)
    prefs.codegen.target = target
    if target == "cython":
        CYTHON_CACHE_DIR.mkdir(parents=True, exist_ok=True)
        prefs.codegen.runtime.cython.cache_dir = str(CYTHON_CACHE_DIR)
    try:
        yield
    finally:
        prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir = saved


def _simulate(
    params: HHParams,
    protocol: StepProtocol,
    threshold_mV: float,
    dt_ms: float,
    target: str,
    record_dt_ms: float | None,
) -> Brian2StepResult:
    import brian2 as b2

    amps = np.asarray(protocol.amps_uA_cm2, dtype=float)
    with _codegen_prefs(target):
        group = b2.NeuronGroup(
            len(amps),
            EQUATIONS,
            # Threshold plus the same condition as refractoriness: a spike is an upward
            # crossing, and the neuron cannot spike again before v has gone back below it.
            threshold="v > v_threshold",
            refractory="v > v_threshold",
            method="exponential_euler",
            dt=dt_ms * b2.ms,
            name="hh_steps",
        )
        group.amp_stim = amps * b2.uA / b2.cm**2
        group.v = params.v_init_mV * b2.mV
        for gate, value in steady_state_gates(params).items():
            setattr(group, gate, value)
        spikes = b2.SpikeMonitor(group, name="hh_spikes")
        objects: list = [group, spikes]
        voltage = None
        if record_dt_ms is not None:
            voltage = b2.StateMonitor(
                group, "v", record=True, dt=record_dt_ms * b2.ms, name="hh_voltage"
            )
            objects.append(voltage)
        namespace = {
            "cm_area": params.cm_uF_cm2 * b2.uF / b2.cm**2,
            "gnabar": params.gnabar * b2.siemens / b2.cm**2,
            "gkbar": params.gkbar * b2.siemens / b2.cm**2,
            "gl": params.gl * b2.siemens / b2.cm**2,
            "ena": params.ena_mV * b2.mV,
            "ek": params.ek_mV * b2.mV,
            "el": params.el_mV * b2.mV,
            "m_shift": params.m_shift_mV * b2.mV,
            "h_shift": params.h_shift_mV * b2.mV,
            "nap_fraction": params.nap_fraction,
            "m_slope": params.m_slope_factor,
            "h_slope": params.h_slope_factor,
            "m_pivot": M_PIVOT_mV * b2.mV,
            "h_pivot": H_PIVOT_mV * b2.mV,
            "m_tau_factor": params.m_tau_factor,
            "h_tau_factor": params.h_tau_factor,
            "n_shift": params.n_shift_mV * b2.mV,
            "mut_fraction": params.mutant_fraction_or_all,
            "q10": params.q10_factor,
            # Step on/off as time-step indices: exact, no floating-point comparison of t.
            "step_on": int(round(protocol.delay_ms / dt_ms)),
            "step_off": int(round((protocol.delay_ms + protocol.duration_ms) / dt_ms)),
            "v_threshold": threshold_mV * b2.mV,
        }
        net = b2.Network(*objects)
        net.run(protocol.tstop_ms * b2.ms, namespace=namespace)
        trains = spikes.spike_trains()
        spike_times = tuple(
            np.sort(np.asarray(trains[i] / b2.ms, dtype=float)) for i in range(len(amps))
        )
        t_ms = v_mV = None
        if voltage is not None:
            t_ms = np.asarray(voltage.t / b2.ms, dtype=float)
            v_mV = np.asarray(voltage.v / b2.mV, dtype=float)
    return Brian2StepResult(
        amp_uA_cm2=amps,
        spike_times_ms=spike_times,
        codegen_target=target,
        dt_ms=dt_ms,
        t_ms=t_ms,
        v_mV=v_mV,
    )


def cython_available() -> bool:
    """True when Brian2 can compile and import a Cython test extension here."""
    from brian2.codegen.runtime.cython_rt import CythonCodeObject

    with _codegen_prefs("cython"):
        return bool(CythonCodeObject.is_available())


def run_steps_brian2(
    params: HHParams,
    protocol: StepProtocol,
    threshold_mV: float,
    dt_ms: float,
    codegen_target: str = "cython",
    record_dt_ms: float | None = None,
) -> Brian2StepResult:
    """Run every step amplitude of ``protocol`` as one neuron of a single NeuronGroup.

    The current (uA/cm2) is on for delay_ms <= t < delay_ms + duration_ms; a spike is an
    upward crossing of ``threshold_mV``. ``dt_ms`` is Brian2's step (independent of
    ``protocol.dt_ms``, NEURON's). Voltage is recorded every ``record_dt_ms`` when given.
    """
    if codegen_target not in CODEGEN_TARGETS:
        raise ValueError(f"codegen_target {codegen_target!r} not one of {CODEGEN_TARGETS}")
    if not dt_ms > 0:
        raise ValueError(f"dt_ms must be > 0, got {dt_ms}")
    if record_dt_ms is not None and record_dt_ms < dt_ms:
        raise ValueError(f"record_dt_ms {record_dt_ms} is smaller than dt_ms {dt_ms}")
    if not protocol.amps_uA_cm2:
        raise ValueError("the step protocol has no amplitudes")
    target = codegen_target
    if target == "cython" and not cython_available():
        LOG.warning(
            "Brian2: Cython code generation is not available here (test compilation failed); "
            "falling back to the numpy target, which is slower but gives the same model"
        )
        target = "numpy"
    start = time.perf_counter()
    try:
        result = _simulate(params, protocol, threshold_mV, dt_ms, target, record_dt_ms)
    except Exception as err:
        if target != "cython":
            raise
        LOG.warning(
            "Brian2: the Cython run failed (%s: %s); falling back to the numpy target",
            type(err).__name__,
            err,
        )
        target = "numpy"
        result = _simulate(params, protocol, threshold_mV, dt_ms, target, record_dt_ms)
    LOG.info(
        "Brian2 twin: %d sweeps x %.0f ms at dt %g ms, target %s, %.1f s wall",
        len(result.amp_uA_cm2),
        protocol.tstop_ms,
        dt_ms,
        target,
        time.perf_counter() - start,
    )
    return result
