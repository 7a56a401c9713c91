"""NEURON protocols on the HH cell: batched current steps, a no-input run, an OU-noise run.

All sweeps of a step protocol are independent cells of ONE simulation (one ``finitialize``,
one ``psolve``): NEURON's fixed per-step cost is paid once for the whole f-I curve instead
of once per amplitude. Spikes are NetCon upward crossings of ``threshold_mV`` (exact
interpolated times); voltages are recorded every time step and also returned decimated
to ``store_dt_ms`` for storage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import lfilter

from bridge.config import ConfigError
from hh_models.cell import HHCell, build_cell
from hh_models.params import HHParams, StepProtocol

log = logging.getLogger(__name__)

#: Longest interval (ms) NEURON's ParallelContext may integrate between spike exchanges;
#: with no network it only has to be positive (psolve refuses a zero minimum delay).
PSOLVE_MAXSTEP_MS = 10.0
#: Duration (ms) of an IClamp that must stay on for the whole run.
ALWAYS_ON_MS = 1e9
#: Round-off allowed between the OU samples and the current NEURON applied (uA/cm2).
PLAY_TOLERANCE_UA_CM2 = 1e-9
#: Time step when a caller gives none: the protocol default (hh_models.params.StepProtocol).
DEFAULT_DT_ms = StepProtocol.dt_ms
#: Threshold used to report whether a kick of the rest check fired (NEURON/eFEL -20 mV).
DEFAULT_THRESHOLD_mV = -20.0


@dataclass
class StepRun:
    """Result of the batched step protocol (one row per amplitude, ascending)."""

    params: HHParams
    protocol: StepProtocol
    threshold_mV: float
    amps_uA_cm2: np.ndarray  #: [n_sweeps]
    amps_nA: np.ndarray  #: [n_sweeps]
    dt_ms: float
    v_full_mV: np.ndarray  #: [n_sweeps, n_full] at dt_ms (float64), for features
    store_dt_ms: float
    t_ms: np.ndarray  #: [n_t] stored times
    v_mV: np.ndarray  #: [n_sweeps, n_t] float32 at store_dt_ms
    spike_times_ms: list[np.ndarray]  #: per sweep, whole sweep

    @property
    def t_full_ms(self) -> np.ndarray:
        return np.arange(self.v_full_mV.shape[1]) * self.dt_ms

    @property
    def step_start_ms(self) -> float:
        return self.protocol.delay_ms

    @property
    def step_end_ms(self) -> float:
        return self.protocol.delay_ms + self.protocol.duration_ms


@dataclass
class SingleRun:
    """One cell for ``duration_ms`` (no input, or a played current)."""

    params: HHParams
    threshold_mV: float
    dt_ms: float
    v_full_mV: np.ndarray  #: [n_full] at dt_ms
    spike_times_ms: np.ndarray
    #: injected current density (uA/cm2); sample k is applied during [k dt, (k+1) dt)
    i_uA_cm2: np.ndarray

    @property
    def t_full_ms(self) -> np.ndarray:
        return np.arange(self.v_full_mV.size) * self.dt_ms

    @property
    def duration_ms(self) -> float:
        return (self.v_full_mV.size - 1) * self.dt_ms


def decimation_factor(dt_ms: float, store_dt_ms: float) -> int:
    """Integer k with store_dt = k * dt; ConfigError if store_dt is not a multiple of dt."""
    k = round(store_dt_ms / dt_ms)
    if k < 1 or not math.isclose(k * dt_ms, store_dt_ms, rel_tol=1e-9, abs_tol=1e-12):
        raise ConfigError(
            f"hh.steps.store_dt_ms = {store_dt_ms} must be a positive multiple of "
            f"hh.dt_ms = {dt_ms}"
        )
    return k


def _n_steps(tstop_ms: float, dt_ms: float) -> int:
    n = round(tstop_ms / dt_ms)
    if not math.isclose(n * dt_ms, tstop_ms, rel_tol=1e-9, abs_tol=1e-9):
        raise ConfigError(f"duration {tstop_ms} ms is not a multiple of dt {dt_ms} ms")
    return n


class CellBatch:
    """N cells of one condition in one NEURON run, each with its own stimulus.

    NEURON state is global; this object owns every section/point process it creates and
    they disappear with it.
    """

    def __init__(
        self, params: HHParams, n_cells: int, threshold_mV: float, mechanism: str | None = None
    ) -> None:
        from neuron import h

        h.load_file("stdrun.hoc")
        self.h = h
        self.params = params
        self.cells: list[HHCell] = [
            build_cell(params, name=f"hh_{i}", mechanism=mechanism) for i in range(n_cells)
        ]
        self.stims: list[Any] = []
        self.spike_vecs: list[Any] = []
        self.netcons: list[Any] = []
        self.v_vecs: list[Any] = []
        for cell in self.cells:
            nc = h.NetCon(cell.segment._ref_v, None, sec=cell.section)
            nc.threshold = threshold_mV
            vec = h.Vector()
            nc.record(vec)
            self.netcons.append(nc)
            self.spike_vecs.append(vec)
            v = h.Vector()
            v.record(cell.segment._ref_v)
            self.v_vecs.append(v)

    def iclamp(self, index: int, delay_ms: float, dur_ms: float, amp_nA: float) -> Any:
        stim = self.h.IClamp(self.cells[index].segment)
        stim.delay = delay_ms
        stim.dur = dur_ms
        stim.amp = amp_nA
        self.stims.append(stim)
        return stim

    def run(
        self,
        tstop_ms: float,
        dt_ms: float,
        v_init_mV: float,
        after_init: Callable[[], None] | None = None,
    ) -> int:
        """finitialize + one psolve; returns the number of recorded samples per cell."""
        h = self.h
        h.dt = dt_ms
        h.tstop = tstop_ms
        h.CVode().active(0)
        # Contiguous per-mechanism data: same numbers, ~15 % faster on many cells.
        h.CVode().cache_efficient(1)
        pc = h.ParallelContext()
        pc.set_maxstep(PSOLVE_MAXSTEP_MS)
        h.finitialize(v_init_mV)
        if after_init is not None:
            after_init()
        pc.psolve(tstop_ms)
        n = _n_steps(tstop_ms, dt_ms) + 1
        if int(self.v_vecs[0].size()) != n:
            raise RuntimeError(f"NEURON recorded {self.v_vecs[0].size()} samples, expected {n}")
        return n

    def voltages(self) -> np.ndarray:
        return np.vstack([v.as_numpy() for v in self.v_vecs])

    def spikes(self) -> list[np.ndarray]:
        return [v.as_numpy().copy() for v in self.spike_vecs]


def run_steps(
    params: HHParams,
    protocol: StepProtocol,
    threshold_mV: float,
    store_dt_ms: float,
    mechanism: str | None = None,
) -> StepRun:
    """Every amplitude of ``protocol`` as one cell of a single NEURON simulation.

    ``mechanism`` forces ``hh`` or ``hhx`` (default: the one the condition needs).
    """
    amps = np.asarray(protocol.amps_uA_cm2, dtype=float)
    if amps.size == 0:
        raise ConfigError("hh.steps.amp_segments_uA_cm2 gives no amplitudes")
    k = decimation_factor(protocol.dt_ms, store_dt_ms)
    amps_nA = np.asarray(params.density_to_nA(amps), dtype=float)
    sim = CellBatch(params, amps.size, threshold_mV, mechanism)
    for i, amp in enumerate(amps_nA):
        sim.iclamp(i, protocol.delay_ms, protocol.duration_ms, float(amp))
    sim.run(protocol.tstop_ms, protocol.dt_ms, params.v_init_mV)
    v_full = sim.voltages()
    return StepRun(
        params=params,
        protocol=protocol,
        threshold_mV=threshold_mV,
        amps_uA_cm2=amps,
        amps_nA=amps_nA,
        dt_ms=protocol.dt_ms,
        v_full_mV=v_full,
        store_dt_ms=store_dt_ms,
        t_ms=np.arange(0, v_full.shape[1], k) * protocol.dt_ms,
        v_mV=v_full[:, ::k].astype(np.float32),
        spike_times_ms=sim.spikes(),
    )


def run_spontaneous(
    params: HHParams, duration_ms: float, dt_ms: float, threshold_mV: float
) -> SingleRun:
    """The cell with no input, started at ``params.v_init_mV`` with gates at steady state."""
    sim = CellBatch(params, 1, threshold_mV)
    n = sim.run(duration_ms, dt_ms, params.v_init_mV)
    return SingleRun(
        params=params,
        threshold_mV=threshold_mV,
        dt_ms=dt_ms,
        v_full_mV=sim.voltages()[0],
        spike_times_ms=sim.spikes()[0],
        i_uA_cm2=np.zeros(n),
    )


def ou_current(
    n_samples: int,
    dt_ms: float,
    mean: float,
    sigma: float,
    tau_ms: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Ornstein-Uhlenbeck samples by the exact update, started in the stationary law.

    x[k+1] = mean + a (x[k] - mean) + sigma sqrt(1 - a^2) z[k],  a = exp(-dt/tau).
    Same units as ``mean`` and ``sigma``.
    """
    a = math.exp(-dt_ms / tau_ms)
    z = rng.standard_normal(n_samples)
    drive = np.empty(n_samples)
    drive[0] = sigma * z[0]
    drive[1:] = sigma * math.sqrt(1.0 - a * a) * z[1:]
    deviation = lfilter([1.0], [1.0, -a], drive)
    return mean + deviation


def run_noise(
    params: HHParams, noise_cfg: Mapping[str, Any], dt_ms: float, threshold_mV: float
) -> SingleRun:
    """OU current (hh.noise: duration_ms, mean/sigma_uA_cm2, tau_ms, seed) into an IClamp.

    The same seed gives every condition the same current (common random numbers), so
    differences between conditions come from the cell.
    """
    duration_ms = float(noise_cfg["duration_ms"])
    n_steps = _n_steps(duration_ms, dt_ms)
    rng = np.random.default_rng(int(noise_cfg["seed"]))
    current = ou_current(
        n_steps + 1,
        dt_ms,
        float(noise_cfg["mean_uA_cm2"]),
        float(noise_cfg["sigma_uA_cm2"]),
        float(noise_cfg["tau_ms"]),
        rng,
    )
    sim = CellBatch(params, 1, threshold_mV)
    h = sim.h
    stim = sim.iclamp(0, 0.0, ALWAYS_ON_MS, 0.0)
    played = h.Vector(np.asarray(params.density_to_nA(current), dtype=float))
    # Sample k is the amplitude during the step that starts at t = k * dt.
    played.play(stim._ref_amp, dt_ms)
    applied = h.Vector()
    applied.record(stim._ref_i)
    sim.run(duration_ms, dt_ms, params.v_init_mV)
    # The sample recorded at t = k * dt is the current of the step that ended there.
    applied_uA_cm2 = applied.as_numpy()[1:] / float(params.density_to_nA(1.0))
    mismatch = float(np.max(np.abs(applied_uA_cm2 - current[:-1])))
    if mismatch > PLAY_TOLERANCE_UA_CM2:
        raise RuntimeError(
            f"NEURON applied a current that differs from the OU samples by {mismatch}"
        )
    return SingleRun(
        params=params,
        threshold_mV=threshold_mV,
        dt_ms=dt_ms,
        v_full_mV=sim.voltages()[0],
        spike_times_ms=sim.spikes()[0],
        i_uA_cm2=current,
    )


@dataclass
class PlayedRun:
    """Cells of one condition, each driven by its own played current (one NEURON run)."""

    dt_ms: float
    v_full_mV: np.ndarray  #: [n_cells, n_full] at dt_ms
    spike_times_ms: list[np.ndarray]  #: per cell
    #: injected current density (uA/cm2); sample k is applied during [k dt, (k+1) dt)
    i_uA_cm2: np.ndarray  #: [n_cells, n_full]


def run_played_currents(
    params: HHParams, currents_uA_cm2: np.ndarray, dt_ms: float, threshold_mV: float
) -> PlayedRun:
    """Play ``currents_uA_cm2 [n_cells, n_samples]`` into one IClamp per cell, from rest.

    Sample k is the amplitude during the step starting at t = k * dt; the run lasts
    (n_samples - 1) * dt ms. All cells share one ``finitialize``/``psolve``.
    """
    currents = np.atleast_2d(np.asarray(currents_uA_cm2, dtype=float))
    n_cells, n_samples = currents.shape
    if n_samples < 2:
        raise ValueError("run_played_currents: need at least 2 samples per cell")
    sim = CellBatch(params, n_cells, threshold_mV)
    h = sim.h
    played = []
    for i in range(n_cells):
        stim = sim.iclamp(i, 0.0, ALWAYS_ON_MS, 0.0)
        vec = h.Vector(np.asarray(params.density_to_nA(currents[i]), dtype=float))
        vec.play(stim._ref_amp, dt_ms)
        played.append(vec)
    sim.run((n_samples - 1) * dt_ms, dt_ms, params.v_init_mV)
    return PlayedRun(
        dt_ms=dt_ms,
        v_full_mV=sim.voltages(),
        spike_times_ms=sim.spikes(),
        i_uA_cm2=currents,
    )


@dataclass(frozen=True)
class RestCheck:
    """Outcome of the perturbation test of a resting potential (mV)."""

    v_target_mV: float
    perturbation_mV: float
    settle_ms: float
    v_end_mV: tuple[float, ...]  #: after +perturbation, -perturbation, none
    n_spikes: tuple[int, ...]

    @property
    def max_deviation_mV(self) -> float:
        return float(max(abs(v - self.v_target_mV) for v in self.v_end_mV))


def check_rest_stability(
    params: HHParams,
    perturbation_mV: float,
    settle_ms: float,
    tolerance_mV: float,
    dt_ms: float = DEFAULT_DT_ms,
    condition_name: str = "?",
    threshold_mV: float = DEFAULT_THRESHOLD_mV,
) -> RestCheck:
    """Kick V by +-perturbation from the re-balanced rest; it must come back within tolerance.

    Gates start at their steady state at the target; only V is displaced (as by a brief
    current pulse). Raises ConfigError naming the condition when V ends more than
    ``tolerance_mV`` away from the target after ``settle_ms``.
    """
    target = params.v_rest_target_mV
    if target is None:
        raise ValueError(f"condition '{condition_name}': no re-balanced resting potential")
    offsets = (perturbation_mV, -perturbation_mV, 0.0)
    sim = CellBatch(params, len(offsets), threshold_mV)

    def displace() -> None:
        for cell, offset in zip(sim.cells, offsets, strict=True):
            cell.segment.v = target + offset

    n = sim.run(settle_ms, dt_ms, target, after_init=displace)
    v_end = tuple(float(v) for v in sim.voltages()[:, n - 1])
    check = RestCheck(
        v_target_mV=target,
        perturbation_mV=perturbation_mV,
        settle_ms=settle_ms,
        v_end_mV=v_end,
        n_spikes=tuple(int(s.size) for s in sim.spikes()),
    )
    if check.max_deviation_mV > tolerance_mV:
        raise ConfigError(
            f"condition '{condition_name}', column 'v_rest_mV': {target} mV is not a stable "
            f"resting potential (leak re-balanced to el = {params.el_mV:.3f} mV): after a "
            f"+-{perturbation_mV} mV kick V ends at {', '.join(f'{v:.2f}' for v in v_end)} mV "
            f"after {settle_ms} ms (tolerance {tolerance_mV} mV, spikes {check.n_spikes}); "
            "choose another v_rest_mV or leave the cell empty"
        )
    log.info(
        "condition %s: rest %.2f mV stable (max deviation %.3g mV after %g ms)",
        condition_name,
        target,
        check.max_deviation_mV,
        settle_ms,
    )
    return check


def spike_counts_in_window(
    spike_times_ms: Sequence[np.ndarray], start_ms: float, end_ms: float
) -> np.ndarray:
    """Spikes with start <= t < end, per sweep."""
    return np.array(
        [int(np.count_nonzero((s >= start_ms) & (s < end_ms))) for s in spike_times_ms],
        dtype=int,
    )
