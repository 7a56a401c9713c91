"""The MTC mapping: the MTC neuron under the HH protocols, and its fit to one condition.

The neuron is ``bridge.neurons.mtc`` (nothing here integrates it: every run goes through its
``mtc_fi_curve`` and equilibrium helpers, the code the regressor trains). This module converts
units and batches parameter sets: one model time unit lasts ``time_unit_ms``, one Euler step
``dt`` units; the layer input is the HH step in nA, so
``I_app = input_scale * amp_nA + input_offset + i_bias`` (model current units). A step sweep
starts from the zero-input rest state, holds zero input for ``delay_ms`` (a cell that fires at
rest keeps firing, as the HH cell does), then the step for ``duration_ms``; spikes are upward
crossings of ``MTC_SPIKE_THRESHOLD_V`` in the step window, the first one's latency
interpolated between samples. The spontaneous run holds zero input for ``spontaneous_ms``.

Fits: ``fit_mtc_reference`` (input_scale, input_offset and the slow gain a_slow_pos on the
reference condition, then held fixed) and ``fit_mtc_condition`` (the fast gain a_fast and the
resting drive i_bias of each condition). docs/mapping.md explains the coordinates, the search,
the interval and the statuses.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch

from bridge.config.mapping import MappingConfig, MtcFitConfig
from bridge.mapping import objective, search
from bridge.neurons.mtc import (
    MTCParams,
    mtc_fi_curve,
    mtc_preset,
    mtc_rest_is_stable,
    mtc_rest_state,
    mtc_steady_state_current,
)

log = logging.getLogger(__name__)

# --- the neuron under the HH protocols --------------------------------------------------

#: Parameter sets x amplitudes simulated at once. Every chunk pays a fixed Python cost per
#: Euler step (a few dozen small torch operations, 7200 steps per sweep on the quick config),
#: so a search's batch runs as one chunk where it fits: chunks of 2048 elements cost the MTC
#: reference fit 1.55x the CPU time (99 against 64 CPU-s, quick config, 1 thread). The time
#: loop holds a few dozen [sets, amps] float64 tensors (tens of MB at this size).
MTC_CHUNK_ELEMENTS = 65536
#: At most this many parameter sets per chunk: ``mtc_fi_curve`` solves each set's rest state
#: on a 4001-point voltage grid (65 MB per temporary at 2048 sets).
MTC_CHUNK_SETS = 2048
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


def mtc_protocol(window: objective.StepWindow, time_unit_ms: float, dt: float) -> MtcProtocol:
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
    chunk = min(MTC_CHUNK_SETS, max(1, MTC_CHUNK_ELEMENTS // max(1, amps.numel())))
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


# --- the fit --------------------------------------------------------------------------

MTC_STATUS_ORDER = search.status_order("a_fast_unidentified")
MTC_USABLE_STATUSES = search.usable_statuses("a_fast_unidentified")
MTC_DOWNSTREAM_RULE = (
    "use the mtc parameters (frozen) when mtc.use_downstream is true, i.e. mtc.status in "
    "{ok, depolarisation_block, a_fast_unidentified, param_at_bound, onset_only_reproduced} "
    "(and poor_fit when goodness_of_fit.use_poor_fits); with a_fast_unidentified the (a_fast, "
    "i_bias) pair reproduces the f-I curve but a_fast alone is not comparable across "
    "conditions; with param_at_bound see at_bound; with never_fires, block_at_rest, "
    "spontaneous_only, onset_only (the fitted MTC does not fire onset spikes only) or poor_fit "
    "skip the condition's MTC mapping (status_rules)"
)
# Written into every mapping JSON. "bridge.mapping.targets" is bridge.mapping.objective's
# pre-issue-11 name, kept so that the refactor left every output byte-identical; the text is
# rewritten when the mapping's objective changes (issue 12).
METHOD = {
    "objective": "sum of weight * (residual / scale)^2 over rates, latencies, spontaneous rate "
    "(bridge.mapping.targets, shared with the LIF fit)",
    "rates": "exact spike counts of the MTC in the HH step window (piecewise constant in the "
    "parameters)",
    "latency": "threshold crossing interpolated linearly inside its Euler step (continuous)",
    "optimiser": "derivative-free: batched start grid, a profile over the first coordinate "
    "(a_fast; a_slow_pos on the reference) with the others re-minimised by batched pattern "
    "searches, then pattern searches over all coordinates from the best profile points; "
    "conditions: when the best set's rest state differs from the HH cell's, a pattern search "
    "restricted to matching sets (kept when better, else reported as rest_state_alternative)",
    "coordinates": "a_fast and onset_nA (conditions); a_slow_pos, ln input_scale and onset_nA "
    "(reference); onset_nA = step amplitude at which the rest state loses stability",
    "interval": "condition fits: profile of the objective over a_fast (onset re-minimised), "
    "accepted where J <= J_min + delta * max(1, J_min / (N - p)); reference: range of the "
    "evaluated points inside that region (not a profile)",
}
#: Fields of MTCParams the reference fit changes; everything else keeps the preset's value.
REFERENCE_FREE = ("a_slow_pos", "input_scale", "input_offset")
#: Offsets (in amplitude spacings) of the onset candidates around the largest count jump.
ONSET_OFFSETS_SPACINGS = (-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0)
#: Largest start step of the onset coordinate in the pattern search, in amplitude spacings.
ONSET_STEP_SPACINGS = 4.0


@dataclass(frozen=True)
class MtcInputMap:
    """What the reference fit fixes for every condition (model units; scale per nA)."""

    input_scale: float
    input_offset: float
    a_slow_pos: float
    a_fast: float
    i_bias: float
    source: str

    @classmethod
    def from_reference(cls, mtc: Mapping[str, Any], condition: str) -> MtcInputMap:
        """From the ``mtc`` block of reference.json (validated: finite numbers)."""
        values = {}
        for key in ("input_scale", "input_offset", "a_slow_pos", "a_fast", "i_bias"):
            value = mtc.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"reference.json: key 'mtc.{key}': {value!r} is not a number")
            if not math.isfinite(value):
                raise ValueError(f"reference.json: key 'mtc.{key}': {value!r} is not finite")
            values[key] = float(value)
        if values["input_scale"] <= 0:
            raise ValueError("reference.json: key 'mtc.input_scale' must be > 0")
        status = mtc.get("status", "unknown")
        return cls(**values, source=f"reference:{condition} ({status})")


@dataclass(frozen=True, kw_only=True)
class MtcFitResult(search.FitReport):
    """Everything the mapping JSON needs for the MTC part of one condition."""

    kind: str
    params: MTCParams
    time_unit_ms: float
    onset_nA: float
    free: tuple[str, ...]
    fixed_source: str
    use_downstream: bool
    rest_state_alternative: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every MTCParams field, then the fit's report (floats finite or None)."""
        return {
            **self.params.to_dict(),
            **self.report_dict(METHOD),
            "fit": self.kind,
            "time_unit_ms": self.time_unit_ms,
            "input_unit": "nA (I_app = input_scale * amp_nA + input_offset + i_bias)",
            "free_parameters": list(self.free),
            "fixed_source": self.fixed_source,
            "use_downstream": self.use_downstream,
            "downstream_rule": MTC_DOWNSTREAM_RULE,
            "onset_nA": self.onset_nA,
            "rest_state_alternative": self.rest_state_alternative,
        }


@dataclass(frozen=True)
class MtcCoordinates:
    """An MTC fit's internal coordinates: names, bounds, start grids, pattern-search steps."""

    names: tuple[str, ...]
    lower: np.ndarray
    upper: np.ndarray
    grids: dict[str, np.ndarray]  # over the gains and the input scale (not the onset)
    step0: np.ndarray  # start steps: half a grid spacing; one amplitude spacing for the onset
    step_min: np.ndarray  # the resolutions at which the searches stop


def _coordinates(
    m: MtcFitConfig,
    reference: bool,
    slow_free: bool,
    c_bounds: tuple[float, float],
    c_scale: float,
) -> MtcCoordinates:
    names: list[str] = []
    lo: list[float] = []
    hi: list[float] = []
    if not reference:
        names.append("a_fast")
        lo.append(m.a_fast_bounds[0])
        hi.append(m.a_fast_bounds[1])
    if slow_free:
        names.append("a_slow_pos")
        lo.append(m.a_slow_pos_bounds[0])
        hi.append(m.a_slow_pos_bounds[1])
    if reference:
        names.append("ln_input_scale")
        lo.append(math.log(m.input_scale_bounds_per_nA[0]))
        hi.append(math.log(m.input_scale_bounds_per_nA[1]))
    names.append("onset_nA")
    grids = {
        "a_fast": np.linspace(*m.a_fast_bounds, m.grid.a_fast_points),
        "a_slow_pos": np.linspace(*m.a_slow_pos_bounds, m.grid.a_slow_pos_points),
        "ln_input_scale": np.linspace(
            *np.log(m.input_scale_bounds_per_nA), m.grid.input_scale_points
        ),
    }
    step0 = np.array(
        [0.5 * float(np.diff(grids[n][:2])[0]) if n != "onset_nA" else c_scale for n in names]
    )
    res = m.search.resolution
    resolution = {
        "a_fast": res.a_fast,
        "a_slow_pos": res.a_slow_pos,
        "ln_input_scale": res.ln_input_scale,
        "onset_nA": res.onset_spacings * c_scale,
    }
    return MtcCoordinates(
        names=tuple(names),
        lower=np.array([*lo, c_bounds[0]]),
        upper=np.array([*hi, c_bounds[1]]),
        grids=grids,
        step0=step0,
        step_min=np.array([resolution[n] for n in names]),
    )


class MtcProblem(search.FitProblem):
    """Objective over internal coordinates, vectorised over rows.

    condition: z = (a_fast, [a_slow_pos], onset_nA), i_bias = I_on - offset - scale *
    onset_nA (a_slow_pos from the reference unless ``condition_gains`` frees it);
    reference: z = (a_slow_pos, ln input_scale, onset_nA), offset = I_on - i_bias - scale *
    onset_nA, with a_fast and i_bias at the preset's values. I_on is ``mtc_onset_current``.
    """

    model = "mtc"

    def __init__(
        self,
        targets: objective.FitTargets,
        cfg: MappingConfig,
        base: MTCParams,
        fixed: MtcInputMap | None,
    ) -> None:
        super().__init__(targets)
        self.mtc: MtcFitConfig = cfg.mtc
        self.base = base
        self.fixed = fixed
        self.reference = fixed is None
        self.protocol: MtcProtocol = mtc_protocol(targets.window, cfg.mtc_time_unit_ms, cfg.mtc.dt)
        self._onset_cache: dict[tuple[float, float], float] = {}
        amps = targets.amp_nA
        margin = self.mtc.onset_margin * float(amps[-1] - amps[0])
        if fixed is not None:
            # at least onset_margin_model of model current either side: room for an MTC that
            # stays silent (or fires) on the whole grid, single onset spikes included
            margin = max(margin, self.mtc.onset_margin_model / fixed.input_scale)
        self.c_bounds = (float(amps[0] - margin), float(amps[-1] + margin))
        #: data resolution of the onset: the median amplitude spacing, in nA
        self.c_scale = float(np.median(np.diff(amps)))
        self.slow_free = self.reference or "a_slow_pos" in self.mtc.condition_gains
        coords = _coordinates(self.mtc, self.reference, self.slow_free, self.c_bounds, self.c_scale)
        self.names, self.grids = coords.names, coords.grids
        self.lower, self.upper = coords.lower, coords.upper
        self.step0, self.step_min = coords.step0, coords.step_min

    def onset_current(self, a_fast: np.ndarray, a_slow_pos: np.ndarray) -> np.ndarray:
        """I_on per row, cached on the (a_fast, a_slow_pos) pair.

        The cache also keeps each pair's value fixed: ``mtc_onset_current`` brackets on a
        voltage grid spanning the batch's largest gains, so a value depends (within its
        refinement) on the batch it was first computed in.
        """
        keys = list(zip(a_fast.tolist(), a_slow_pos.tolist(), strict=True))
        missing = sorted({k for k in keys if k not in self._onset_cache})
        if missing:
            arr = np.array(missing)
            values = mtc_onset_current(self.base, {"a_fast": arr[:, 0], "a_slow_pos": arr[:, 1]})
            self._onset_cache.update(zip(missing, values.tolist(), strict=True))
        return np.array([self._onset_cache[k] for k in keys])

    def fields(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """MTCParams fields that vary between rows of z (model units)."""
        z = np.atleast_2d(z)
        n = z.shape[0]
        col = {name: z[:, i] for i, name in enumerate(self.names)}
        c = col["onset_nA"]
        if self.reference:
            a_fast = np.full(n, float(self.base.a_fast))
            a_slow = col["a_slow_pos"]
            scale = np.exp(col["ln_input_scale"])
            i_bias = np.full(n, float(self.base.i_bias))
            offset = self.onset_current(a_fast, a_slow) - i_bias - scale * c
        else:
            fx = self.fixed
            a_fast = col["a_fast"]
            a_slow = col["a_slow_pos"] if self.slow_free else np.full(n, fx.a_slow_pos)
            scale = np.full(n, fx.input_scale)
            offset = np.full(n, fx.input_offset)
            i_bias = self.onset_current(a_fast, a_slow) - offset - scale * c
        return {
            "a_fast": a_fast,
            "a_slow_pos": a_slow,
            "input_scale": scale,
            "input_offset": offset,
            "i_bias": i_bias,
        }

    def response(
        self, z: np.ndarray, amps_nA: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rate_hz [rows, amps], latency_ms [rows, amps], spontaneous rate_hz [rows])."""
        resp = simulate_mtc(self.base, self.fields(z), amps_nA, self.protocol)
        rates = self.targets.rate_hz_from_counts(resp.spike_count)
        spont = resp.spontaneous_count * objective.MS_PER_S / self.targets.window.spontaneous_ms
        return rates, resp.first_latency_ms, spont

    def pattern(
        self, z0: np.ndarray, j0: np.ndarray, step: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Batched pattern searches from the rows of z0 (``search.pattern_search``)."""
        return search.pattern_search(self, z0, j0, step, self.step_min, self.mtc.search.max_iter)

    def restart(self, z0: np.ndarray, j0: float) -> tuple[np.ndarray, float, bool]:
        """One pattern search over all coordinates from z0 (objective j0)."""
        z, j, ok = self.pattern(np.asarray(z0)[None, :], np.array([j0]), self.step0[None, :].copy())
        return z[0], float(j[0]), bool(ok[0])

    def params_at(self, z: np.ndarray) -> MTCParams:
        """The MTCParams of one row of z."""
        f = self.fields(z[None, :])
        return self.base.replace(**{k: float(v[0]) for k, v in f.items()})


def _onset_candidates(problem: MtcProblem, repetitive_only: bool = False) -> np.ndarray:
    """The onsets the data point at, plus a linear grid over the onset bounds.

    The HH cell's own onsets: midpoints between neighbouring fitted amplitudes where the
    count crosses one spike or ``latency_min_spikes`` (repetitive firing), and where it
    rises most (with ``ONSET_OFFSETS_SPACINGS`` around it).
    ``repetitive_only`` (the reference's start grid, which is the costlier one) keeps the
    repetitive onsets alone, falling back to everything when the data show none.
    """
    t = problem.targets
    amps = t.fit_amp_nA
    counts = t.spike_count[t.in_fit]

    def onsets(min_spikes: int) -> list[float]:
        fires = counts >= min_spikes
        flips = np.flatnonzero(fires[:-1] != fires[1:])
        return [0.5 * (amps[i] + amps[i + 1]) for i in flips]

    repetitive = onsets(t.objective.latency_min_spikes)
    if counts.size > 1 and np.diff(counts).max() > 0:
        # the largest step in count: where a class-II cell starts firing for good (the
        # first 2-spike sweep can be a transient); the MTC's own onset (the loss of
        # stability) may sit a few amplitude steps away, so offsets join it
        jump = int(np.argmax(np.diff(counts)))
        centre = 0.5 * (amps[jump] + amps[jump + 1])
        repetitive.extend(centre + problem.c_scale * np.array(ONSET_OFFSETS_SPACINGS))
    if repetitive_only and repetitive:
        return np.unique(np.clip(np.array(repetitive), *problem.c_bounds))
    grid = (
        repetitive + onsets(1) + list(np.linspace(*problem.c_bounds, problem.mtc.grid.onset_points))
    )
    return np.unique(np.clip(np.array(grid), *problem.c_bounds))


def _edge_points(
    problem: MtcProblem, pairs: list[tuple[int, int]], _x: np.ndarray, zv: np.ndarray
) -> tuple[list[float], list[np.ndarray]]:
    """Profile points halfway in a_fast between each edge pair, in one call: the other
    coordinates at the two neighbours' mean, the onset also one amplitude spacing either
    side (the best of the three is kept)."""
    offsets = np.array([0.0, -1.0, 1.0]) * problem.c_scale
    rows = []
    for a, r in pairs:
        centre = 0.5 * (zv[a] + zv[r])
        for off in offsets:
            row = centre.copy()
            row[-1] = np.clip(row[-1] + off, *problem.c_bounds)
            rows.append(row)
    values = problem.evaluate(np.array(rows)).reshape(len(pairs), offsets.size)
    best = np.argmin(values, axis=1)
    picks = [p_i * offsets.size + k for p_i, k in enumerate(best)]
    return [float(values[p_i, k]) for p_i, k in enumerate(best)], [rows[i] for i in picks]


def _start_grid(
    problem: MtcProblem, heads: np.ndarray, cand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row of ``heads`` (the coordinates before the onset) with every onset candidate,
    in one call. Returns, per head, the best objective, its z and its onset step: the gap to
    the nearest other candidate, between one and ``ONSET_STEP_SPACINGS`` amplitude spacings
    (the pattern search doubles its steps while it travels)."""
    n, k = heads.shape[0], cand.size
    z = np.column_stack([np.repeat(heads, k, axis=0), np.tile(cand, n)])
    values = problem.evaluate(z).reshape(n, k)
    idx = np.argmin(values, axis=1)
    gaps = np.diff(cand) if k > 1 else np.array([np.inf])
    left = np.where(idx > 0, gaps[np.maximum(idx - 1, 0)], np.inf)
    right = np.where(idx < k - 1, gaps[np.minimum(idx, max(k - 2, 0))], np.inf)
    nearest = np.minimum(np.minimum(left, right), ONSET_STEP_SPACINGS * problem.c_scale)
    c_step = np.maximum(nearest, problem.c_scale)
    return values[np.arange(n), idx], np.column_stack([heads, cand[idx]]), c_step


def _search(
    problem: MtcProblem, heads: np.ndarray, prefer: float
) -> tuple[np.ndarray, np.ndarray, search.Optimum]:
    """Start grid, a profile over the first coordinate, then pattern searches.

    ``heads`` are the grid over the coordinates before the onset; the first of them is
    profiled (a_fast for conditions, a_slow_pos for the reference). Each head is tried with
    every onset candidate in one call; each profile value keeps its best head, whose other
    coordinates a batched pattern search re-minimises at that fixed value (the profile);
    the ``n_starts`` best profile points then start searches over all coordinates. Ties go
    to the profile value nearest ``prefer`` (a flat objective, e.g. a silent cell, keeps the
    reference's a_fast). Returns (profile objective, profile z, optimum).
    """
    cand = _onset_candidates(problem, repetitive_only=problem.reference)
    j0, z0, c_step = _start_grid(problem, heads, cand)
    step = np.tile(problem.step0, (z0.shape[0], 1))
    step[:, -1] = c_step
    first = z0[:, 0]
    keys = np.unique(first)
    pick = np.array([np.flatnonzero(first == k)[np.argmin(j0[first == k])] for k in keys])
    z0, j0, step = z0[pick], j0[pick], step[pick]
    step[:, 0] = 0.0
    z0, j0, _ = problem.pattern(z0, j0, step)
    step[:, 0] = problem.step0[0]
    order = np.lexsort((np.abs(z0[:, 0] - prefer), j0))[: problem.mtc.search.n_starts]
    zs, js, ok = problem.pattern(z0[order], j0[order], step[order])
    k = int(np.lexsort((~ok, js))[0])
    return j0, z0, search.Optimum(zs[k], float(js[k]), bool(ok[k]))


def _rest_state_search(
    problem: MtcProblem, best: search.Optimum
) -> tuple[search.Optimum, int] | None:
    """Search restricted to parameter sets whose MTC rest state matches the HH cell's.

    The start grid holds few onsets per gain, and the onsets at which the MTC fires at rest
    (a cell that fires without input) form a narrow band; a search can settle on the other
    side of the rest-state boundary although a better matching set exists. When ``best``
    mismatches, the best matching evaluated set starts a pattern search on which mismatching
    sets score inf. Returns (its optimum, number of matching evaluated sets), or None when
    ``best`` matches or no evaluated set does.
    """
    _, _, spont = problem.response(best.z[None, :], problem.targets.fit_amp_nA)
    if problem.rest_matches(spont)[0]:
        return None
    found = problem.best_rest_consistent()
    if found is None:
        return None
    z0, j0, n_match = found
    problem.require_rest_match = True
    try:
        z, j, ok = problem.pattern(z0[None, :], np.array([j0]), problem.step0[None, :].copy())
    finally:
        problem.require_rest_match = False
    return search.Optimum(z[0], float(j[0]), bool(ok[0])), n_match


def _rest_state_alternative(
    problem: MtcProblem, found: tuple[search.Optimum, int], best_j: float
) -> dict[str, Any]:
    """Report of the restricted search's result beside a ``rest_state_mismatch`` fit: the
    cost of matching the rest state, on record (the fit stays the objective's minimum)."""
    alt, n_match = found
    params = problem.params_at(alt.z)
    residuals = problem.residuals(alt.z)
    return {
        **{name: float(getattr(params, name)) for name in ("a_fast", "a_slow_pos", "i_bias")},
        "onset_nA": float(alt.z[-1]),
        "objective": alt.objective,
        "objective_excess": alt.objective - best_j,
        "converged": alt.converged,
        "spontaneous_rate_mtc_hz": residuals["spontaneous_rate_mtc_hz"],
        "spontaneous_rate_hh_hz": problem.targets.spontaneous_rate_hz,
        "rate_mtc_hz": residuals["rate_mtc_hz"],
        "n_rest_consistent_evaluations": n_match,
        "rule": "the best evaluated parameter set whose rest state matches the HH cell's "
        "(fires at rest exactly when it does), polished by a pattern search restricted to such "
        "sets; objective_excess = its objective minus the fit's. Null when the fit's rest "
        "state matches",
    }


def _profile_intervals(
    problem: MtcProblem, iv: search.ProfileInterval, thr: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """a_fast interval from the profile; other ranges from the accepted region."""
    acc = iv.span.accepted
    f_region = problem.fields(iv.region)
    f_prof = problem.fields(iv.z)
    ends = sorted([abs(iv.lo), abs(iv.hi)])
    intervals: dict[str, Any] = {
        "a_fast": [iv.lo, iv.hi],
        "a_fast_ratio": ends[1] / ends[0],
        "i_bias": [float(f_region["i_bias"].min()), float(f_region["i_bias"].max())],
        "a_slow_pos": [float(f_region["a_slow_pos"].min()), float(f_region["a_slow_pos"].max())],
        "onset_nA": [float(iv.region[:, -1].min()), float(iv.region[:, -1].max())],
        "open_low": bool(iv.span.open_low),
        "open_high": bool(iv.span.open_high),
        "objective_threshold": float(thr),
        "n_accepted_evaluations": int(iv.region.shape[0]),
        "rule": "accepted region {J <= J_min + delta * max(1, J_min / (N - p))}; a_fast edges "
        "from the profile over a_fast (other coordinates re-minimised, edges bisected and "
        "interpolated), each range widened to every evaluated point in the region; "
        "a_fast_ratio = max |a_fast| / min |a_fast| over the interval",
    }
    tradeoff = {
        "profile": {
            "a_fast": iv.x.tolist(),
            "i_bias": f_prof["i_bias"].tolist(),
            "a_slow_pos": f_prof["a_slow_pos"].tolist(),
            "onset_nA": iv.z[:, -1].tolist(),
            "objective": iv.j.tolist(),
            "accepted": acc.tolist(),
        },
        "n_accepted": iv.span.n_accepted,
        "corr_a_fast_i_bias": search.profile_correlation(iv.x[acc], f_prof["i_bias"][acc]),
        "corr_a_fast_a_slow_pos": search.profile_correlation(iv.x[acc], f_prof["a_slow_pos"][acc])
        if problem.slow_free
        else None,
        "corr_note": f"Pearson correlation along accepted profile points (null with fewer "
        f"than {search.MIN_POINTS_FOR_CORRELATION} points or no spread; corr_a_fast_a_slow_pos "
        "null when a_slow_pos is held at the reference's value)",
    }
    return intervals, tradeoff


def _region_intervals(problem: MtcProblem, thr: float) -> dict[str, Any]:
    """Reference fit: ranges of the fitted quantities over the accepted evaluated points."""
    region = problem.accepted(thr)
    f = problem.fields(region)
    out: dict[str, Any] = {
        name: [float(f[name].min()), float(f[name].max())] for name in REFERENCE_FREE
    }
    out["onset_nA"] = [float(region[:, -1].min()), float(region[:, -1].max())]
    out["objective_threshold"] = float(thr)
    out["n_accepted_evaluations"] = int(region.shape[0])
    out["rule"] = (
        "range over the evaluated points (start grid and pattern search) with J <= J_min + "
        "delta * max(1, J_min / (N - p)); a box around the optimum, not a profile"
    )
    return out


def _fit_data(problem: MtcProblem) -> dict[str, Any]:
    p = problem.protocol
    return {
        **problem.targets.data_record(),
        "excluded_rule": "sweeps flagged block and every amplitude at or above the first "
        "block (or summary block_onset_uA_cm2) are left out (the rule shared with the LIF)",
        "n_params": problem.n_params,
        "coordinates": list(problem.names),
        "onset_bounds_nA": list(problem.c_bounds),
        "protocol_steps": {"delay": p.n_delay, "step": p.n_step, "spontaneous": p.n_spont},
        "euler_step_ms": p.step_ms,
    }


def _problem(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    cfg: MappingConfig,
    window: objective.StepWindow,
    fixed: MtcInputMap | None,
) -> MtcProblem:
    targets = objective.fit_targets_for_model(fi, summary, cfg.objective, window)
    if fixed is None:
        objective.reference_name(summary, cfg.reference_condition)
    base = mtc_preset(cfg.mtc.preset).replace(dt=cfg.mtc.dt)
    return MtcProblem(targets, cfg, base, fixed)


def _status(
    problem: MtcProblem,
    cfg: MappingConfig,
    flags: list[str],
    best: search.Optimum,
    residuals: Mapping[str, Any],
) -> tuple[tuple[str, tuple[str, ...]], search.Judgement]:
    """(status, flags) and the goodness-of-fit judgement of the fit at ``best``."""
    spont = residuals["spontaneous_rate_mtc_hz"]
    if (spont > 0) != (problem.targets.spontaneous_rate_hz > 0):
        # a flag, not a status (the vocabulary is the LIF's): the fit's compromise leaves
        # the MTC silent at rest where the HH cell fires, or the reverse
        flags = [*flags, "rest_state_mismatch"]
    if problem.targets.excitability == "onset_only" and objective.onset_only_reproduced(
        problem.targets, np.asarray(residuals["rate_mtc_hz"]), spont
    ):
        flags = [*flags, "onset_only_reproduced"]
    judgement = search.judge(
        problem.targets, best.objective, best.z, problem, problem.names, cfg.goodness_of_fit
    )
    flags = [*flags, *judgement.flags]
    status = search.fit_status(problem.targets, flags, best.converged, MTC_STATUS_ORDER)
    return status, judgement


def _result(
    problem: MtcProblem,
    cfg: MappingConfig,
    best: search.Optimum,
    judged: tuple[tuple[str, tuple[str, ...]], search.Judgement],
    t0: float,
    **report: Any,
) -> MtcFitResult:
    """The fit's result (``report``: free, fixed_source, intervals, tradeoff, residuals and
    rest_state_alternative), logged with its cost."""
    kind = "reference" if problem.reference else "condition"
    status, judgement = judged
    usable = search.usable_statuses("a_fast_unidentified", cfg.goodness_of_fit.use_poor_fits)
    log.info(
        "MTC %s fit of %s: objective %.4g, status %s; %d parameter sets (%d simulated) "
        "in %d simulation calls, %.1f s",
        kind,
        problem.targets.condition,
        best.objective,
        status[0],
        problem.n_evaluations,
        problem.n_simulated,
        problem.n_calls,
        time.perf_counter() - t0,
    )
    return MtcFitResult(
        condition=problem.targets.condition,
        kind=kind,
        params=problem.params_at(best.z),
        time_unit_ms=cfg.mtc_time_unit_ms,
        status=status[0],
        status_flags=status[1],
        objective=best.objective,
        converged=best.converged,
        n_evaluations=problem.n_evaluations,
        onset_nA=float(best.z[-1]),
        fit_data=_fit_data(problem),
        settings=objective.settings_record(cfg, "mtc"),
        judgement=judgement,
        use_downstream=status[0] in usable,
        **report,
    )


def fit_mtc_condition(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    cfg: MappingConfig,
    fixed: MtcInputMap,
    *,
    window: objective.StepWindow,
) -> MtcFitResult:
    """Fit a_fast and i_bias (and a_slow_pos when ``condition_gains`` frees it) of one
    condition; input scale and offset held at the reference's values.

    ``fi`` is the HH stage's fi_curve.csv, ``summary`` its summary.json, ``cfg`` the
    config's ``mapping`` section, ``fixed`` the reference fit (``MtcInputMap``), ``window``
    the HH protocol timing (``step_window_from_config``).
    """
    t0 = time.perf_counter()
    problem = _problem(fi, summary, cfg, window, fixed)
    m = cfg.mtc
    # the reference's a_fast joins the profile grid: a flat objective then keeps it exactly
    a_grid = np.unique(np.append(problem.grids["a_fast"], np.clip(fixed.a_fast, *m.a_fast_bounds)))
    heads = a_grid[:, None]
    if problem.slow_free:
        heads = np.array([[a, s] for a in a_grid for s in problem.grids["a_slow_pos"]])
    prof_j, prof_z, best = _search(problem, heads, fixed.a_fast)
    rest_alt = _rest_state_search(problem, best)
    if rest_alt is not None and rest_alt[0].objective < best.objective:
        # the search missed the better side of the rest-state boundary: adopt it
        best, rest_alt = rest_alt[0], None
    profile = search.Profile(
        prof_j.tolist() + [best.objective], list(prof_z) + [best.z], best_per_x=True
    )
    how = search.ProfileRefinement(
        delta=m.profile.delta,
        edge_bisections=m.profile.edge_bisections,
        new_points=partial(_edge_points, problem),
        restart=problem.restart,
        adopt_later_improvement=True,
    )
    best, thr = search.refine_profile(problem, profile, best, how)
    interval = search.profile_interval(problem, profile, thr, "a_fast")
    intervals, tradeoff = _profile_intervals(problem, interval, thr)
    residuals = problem.residuals(best.z)
    flags = list(interval.flags)
    if intervals["a_fast_ratio"] > m.profile.max_gain_ratio:
        flags.append("a_fast_unidentified")
    judged = _status(problem, cfg, flags, best, residuals)
    status = judged[0]
    alternative = (
        _rest_state_alternative(problem, rest_alt, best.objective)
        if rest_alt is not None and "rest_state_mismatch" in status[1]
        else None
    )
    fitted = ", ".join(m.condition_gains)
    held = "input_scale, input_offset" + ("" if problem.slow_free else ", a_slow_pos")
    return _result(
        problem,
        cfg,
        best,
        judged,
        t0,
        free=(*m.condition_gains, "i_bias"),
        fixed_source=f"{held} from {fixed.source}; fitted here: {fitted}, i_bias; other "
        f"fields from the {m.preset!r} preset",
        intervals=intervals,
        tradeoff=tradeoff,
        residuals=residuals,
        rest_state_alternative=alternative,
    )


def fit_mtc_reference(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    cfg: MappingConfig,
    *,
    window: objective.StepWindow,
) -> MtcFitResult:
    """Fit input_scale, input_offset and a_slow_pos on the reference condition.

    a_fast and i_bias stay at the preset's values (the gauge; docs/mapping.md). Pass the
    result to ``MtcInputMap.from_reference(result.to_dict(), condition)`` for the conditions.
    Raises ValueError when ``summary`` is not the configured reference condition.
    """
    t0 = time.perf_counter()
    problem = _problem(fi, summary, cfg, window, None)
    heads = np.array(
        [[a, s] for a in problem.grids["a_slow_pos"] for s in problem.grids["ln_input_scale"]]
    )
    _, _, best = _search(problem, heads, float(problem.base.a_slow_pos))
    thr = problem.threshold(best.objective, cfg.mtc.profile.delta)
    residuals = problem.residuals(best.z)
    return _result(
        problem,
        cfg,
        best,
        _status(problem, cfg, [], best, residuals),
        t0,
        free=REFERENCE_FREE,
        fixed_source=f"a_fast, i_bias and the other fields from the {cfg.mtc.preset!r} preset",
        intervals=_region_intervals(problem, thr),
        tradeoff={},
        residuals=residuals,
    )
