"""The MTC neuron of ``bridge.neurons.mtc`` under the HH stage's protocols, in ms and nA.

Nothing here integrates the neuron: every run goes through ``mtc_fi_curve`` (the step and
spontaneous protocols) and the equilibrium helpers of ``bridge.neurons.mtc``, the same code
the regressor stage trains. This module only converts units and batches parameter sets:

* time: one model time unit lasts ``time_unit_ms``; one Euler step ``dt`` model units;
* input: the layer input is the HH step amplitude in nA, so
  ``I_app = input_scale * amp_nA + input_offset + i_bias`` (model current units);
* step sweep: the zero-input rest state, ``delay_ms`` at zero input (a cell that fires at
  rest keeps firing, as the HH cell does), then the step for ``duration_ms``; spikes
  (upward crossings of ``MTC_SPIKE_THRESHOLD_V``) counted in the step window, the first
  one's latency interpolated between samples;
* spontaneous run: zero input from the rest state for ``spontaneous_ms``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import torch

from bridge.mapping.targets import StepWindow
from bridge.neurons.mtc import (
    MTCParams,
    mtc_fi_curve,
    mtc_rest_is_stable,
    mtc_rest_state,
    mtc_steady_state_current,
)

#: Parameter sets x amplitudes simulated at once. ``mtc_fi_curve`` solves the rest state on
#: a 4001-point grid per element, so this bounds the peak memory to a few hundred MB.
MTC_CHUNK_ELEMENTS = 2048
#: Voltage grid (model units) on which the onset of instability is bracketed, then refined
#: ONSET_REFINEMENTS times on ONSET_SUBDIVISIONS points: the onset voltage to ~1e-7.
ONSET_GRID_POINTS = 401
ONSET_SUBDIVISIONS = 64
ONSET_REFINEMENTS = 3
DTYPE = torch.float64


@dataclass(frozen=True)
class MtcProtocol:
    """The HH protocol timing in MTC Euler steps (each ``time_unit_ms * dt`` ms long)."""

    time_unit_ms: float
    dt: float
    n_delay: int
    n_step: int
    n_spont: int

    @property
    def step_ms(self) -> float:
        """Length of one Euler step in ms."""
        return self.time_unit_ms * self.dt


def mtc_protocol(window: StepWindow, time_unit_ms: float, dt: float) -> MtcProtocol:
    """Protocol in Euler steps; the HH window lengths must be whole numbers of steps."""
    if not (math.isfinite(time_unit_ms) and time_unit_ms > 0 and math.isfinite(dt) and dt > 0):
        raise ValueError(f"need time_unit_ms > 0 and dt > 0 ({time_unit_ms=}, {dt=})")
    n_delay, n_step, n_spont = window.n_steps(time_unit_ms * dt)
    return MtcProtocol(time_unit_ms, dt, n_delay, n_step, n_spont)


@dataclass(frozen=True)
class MtcResponse:
    """Responses of parameter sets (rows) to the step amplitudes (columns) and at rest.

    ``first_latency_ms`` is NaN where the step window holds no spike.
    """

    spike_count: np.ndarray
    first_latency_ms: np.ndarray
    spontaneous_count: np.ndarray


def _batched(base: MTCParams, varying: Mapping[str, np.ndarray], rows: slice) -> MTCParams:
    """``base`` with the varying fields as [rows, 1] float64 tensors."""
    changes = {
        name: torch.as_tensor(np.asarray(values, dtype=float)[rows], dtype=DTYPE).reshape(-1, 1)
        for name, values in varying.items()
    }
    return base.replace(**changes)


def _n_sets(varying: Mapping[str, np.ndarray]) -> int:
    sizes = {np.asarray(v).size for v in varying.values()}
    if len(sizes) != 1:
        raise ValueError(f"varying fields must have one common length; got sizes {sorted(sizes)}")
    return sizes.pop()


def simulate_mtc(
    base: MTCParams,
    varying: Mapping[str, np.ndarray],
    amps_nA: np.ndarray,
    protocol: MtcProtocol,
) -> MtcResponse:
    """Step sweeps and the spontaneous run of each parameter set.

    ``base`` holds the fields shared by all sets (its ``dt`` is replaced by the protocol's),
    ``varying`` maps field names to one value per set.
    """
    base = base.replace(dt=protocol.dt)
    n = _n_sets(varying)
    amps = torch.as_tensor(np.asarray(amps_nA, dtype=float), dtype=DTYPE)
    counts = np.zeros((n, amps.numel()), dtype=np.int64)
    latency = np.full((n, amps.numel()), np.nan)
    spont = np.zeros(n, dtype=np.int64)
    chunk = max(1, MTC_CHUNK_ELEMENTS // max(1, amps.numel()))
    zero = torch.zeros(1, dtype=DTYPE)
    with torch.no_grad():
        for start in range(0, n, chunk):
            rows = slice(start, min(n, start + chunk))
            params = _batched(base, varying, rows)
            fi = mtc_fi_curve(amps, params, protocol.n_step, settle_steps=protocol.n_delay)
            counts[rows] = fi.spike_count.numpy()
            first = fi.first_spike_time.numpy() * protocol.time_unit_ms
            latency[rows] = np.where(np.isfinite(first), first, np.nan)
        # The spontaneous run only needs simulating where the zero-input rest state is
        # unstable: a stable one is a fixed point of the Euler map that mtc_fi_curve starts
        # on (not kicked), so it stays there and never crosses the threshold (which lies
        # inside the unstable band). One call for all sets: this run is long but narrow.
        all_rows = _batched(base, varying, slice(0, n))
        moving = ~mtc_rest_stable_at_zero(all_rows)
        if moving.any():
            sub = {name: np.asarray(v, dtype=float)[moving] for name, v in varying.items()}
            params = _batched(base, sub, slice(0, int(moving.sum())))
            rest = mtc_fi_curve(zero, params, protocol.n_spont, settle_steps=0)
            spont[moving] = rest.spike_count.numpy()[:, 0]
    return MtcResponse(spike_count=counts, first_latency_ms=latency, spontaneous_count=spont)


def _bracket(grid: torch.Tensor, lost: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the last grid point before the first lost one and that lost one ([n, 1])."""
    first = torch.argmax(lost.to(torch.int8), dim=1).clamp(min=1)
    upper = torch.gather(grid, 1, first.reshape(-1, 1))
    lower = torch.gather(grid, 1, (first - 1).reshape(-1, 1))
    return lower, upper


def mtc_rest_stable_at_zero(params: MTCParams) -> np.ndarray:
    """Per set (fields [n, 1]): is the zero-input rest state (``mtc_rest_state``) stable?"""
    n = _rows(params)
    with torch.no_grad():
        state = mtc_rest_state(params, (n, 1), 0.0, dtype=DTYPE)
        # v_slow holds the equilibrium itself (v may carry the kick of an unstable one)
        stable = mtc_rest_is_stable(state.v_slow, params)
    return stable.numpy()[:, 0]


def _rows(params: MTCParams) -> int:
    sizes = [
        getattr(params, f.name).shape[0]
        for f in fields(MTCParams)
        if isinstance(getattr(params, f.name), torch.Tensor) and getattr(params, f.name).dim() > 0
    ]
    return max(sizes, default=1)


def mtc_onset_current(base: MTCParams, varying: Mapping[str, np.ndarray]) -> np.ndarray:
    """Lowest applied current (model units) at which the resting equilibrium is lost.

    Walking up the steady-state I-V curve from hyperpolarised voltages, the rest state (the
    most hyperpolarised equilibrium, as ``mtc_rest_state`` picks it) ends where it turns
    unstable (``mtc_rest_is_stable``; a Hopf bifurcation for the tonic circuit) or where the
    I-V curve folds (a saddle-node). Returns that current per set; +inf where the rest state
    stays stable on the whole voltage grid (the set cannot fire tonically).
    """
    n = _n_sets(varying)
    params = _batched(base, varying, slice(0, n))
    gain_sum = sum(
        float(torch.as_tensor(getattr(params, name)).abs().max())
        for name in ("a_fast", "a_slow_pos", "a_slow_neg", "a_ultraslow")
    )
    span = gain_sum + 1.0 + float(torch.as_tensor(params.input_offset).abs().max())
    v = torch.linspace(-span, span, ONSET_GRID_POINTS, dtype=DTYPE).reshape(1, -1)
    v = v.expand(n, -1)

    def resting(volts: torch.Tensor) -> torch.Tensor:
        # rising I-V (an equilibrium continues) and linear stability
        h = 1e-6
        slope = mtc_steady_state_current(volts + h, params) - mtc_steady_state_current(
            volts - h, params
        )
        return (slope > 0) & mtc_rest_is_stable(volts, params)

    with torch.no_grad():
        lost = ~resting(v)
        has = lost.any(dim=1)
        lower, upper = _bracket(v, lost)
        # refine the bracket on finer grids (a few batched calls instead of a long bisection)
        fractions = torch.linspace(0.0, 1.0, ONSET_SUBDIVISIONS, dtype=DTYPE).reshape(1, -1)
        for _ in range(ONSET_REFINEMENTS):
            sub = lower + (upper - lower) * fractions
            sub_lost = ~resting(sub)
            sub_lost[:, -1] = True  # the bracket's upper end is lost by construction
            lower, upper = _bracket(sub, sub_lost)
        current = mtc_steady_state_current(0.5 * (lower + upper), params)[:, 0]
    out = current.numpy().astype(float)
    out[~has.numpy()] = math.inf
    return out
