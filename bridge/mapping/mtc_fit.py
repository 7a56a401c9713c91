"""Fit the MTC neuron's gains and input mapping to one condition's HH f-I data.

The neuron is ``bridge.neurons.mtc`` (run through ``mtc_model``), driven by the HH step in
nA: ``I_app = input_scale * amp_nA + input_offset + i_bias``; its time unit lasts
``mtc_time_unit_ms``. The targets and the objective are the LIF's (``targets``): rates and
first-spike latencies per amplitude and the spontaneous rate.

Which parameters are fitted, and where:

* reference condition (``fit_mtc_reference``): ``input_scale`` and ``input_offset`` (nA ->
  model current) and the slow restoring gain ``a_slow_pos``; held fixed for every condition
  afterwards, like the LIF's input gain w. ``a_fast`` and ``i_bias`` stay at the preset's
  values there: they fix the gauge (the offset would otherwise trade exactly against
  ``i_bias``), and the reference's own condition fit re-fits both. ``a_slow_pos`` is fitted
  because, with the time unit fixed, it sets the tonic circuit's rate range (the preset's 2
  cannot reach the HH cell's ~140 Hz before block); it is held fixed because it stands for
  the K-like restoring conductance, which the conditions share (they differ in gnabar), and
  because re-fitting it per condition would trade off against a_fast on the rates.
* every condition (``fit_mtc_condition``): the fast negative-conductance gain ``a_fast``
  (the Na-like element the conditions change) and the resting drive ``i_bias`` (the MTC's
  counterpart of the LIF's bias_fit; the hyperexcitable cells' difference lies largely
  there). All other fields keep the preset's values.

Coordinates: ``i_bias`` (or ``input_offset`` on the reference) is searched through the
onset coordinate ``onset_nA``, the step amplitude at which the MTC's rest state loses
stability (``mtc_onset_current``); at a fixed gain it is pinned by where the HH cell starts
(or, firing at rest, stops) firing, so it hardly trades off against the gains.

Method (recorded in every result as ``method``): the objective is evaluated on the exact
discrete spike counts of the simulated step windows (piecewise constant in the parameters;
no smooth surrogate, so the fitted MTC is the neuron the networks run) and minimised without
derivatives, each round one batched simulation: a start grid (gains x onset candidates the
data point at), a profile over the first coordinate (a_fast; a_slow_pos on the reference)
whose other coordinates a pattern search re-minimises at each grid value, then pattern
searches over all coordinates from the ``n_starts`` best profile points. The pattern search
tries the full {-1, 0, 1} stencil of steps (diagonals follow the gain-onset ridges), moves to
the best improvement, halves its steps when none improves and stops at the configured
resolutions. When the best set's rest state differs from the HH cell's (silent at rest
where the cell fires, or the reverse), a further pattern search restricted to matching sets
starts from the best matching evaluated one (``_rest_state_search``): the start grid's few
onsets per gain can miss the narrow band in which the MTC fires at rest. A better matching
set replaces the fit; otherwise it is reported as ``rest_state_alternative`` (its objective
and the excess over the fit's). Condition fits report the profile interval of a_fast: the
accepted region {J <= J_min + delta * max(1, J_min / (N - p))}, as for the LIF, with its
edges bisected; an |a_fast| interval wider than ``max_gain_ratio`` sets
``a_fast_unidentified``. The exact counts make the objective rugged at the one-spike level
(one spike in an 800 ms window moves J by ~0.4): a search can stop in a local minimum next
to the best one.

Statuses (the first of ``MTC_STATUS_ORDER`` that applies; all in ``status_flags``): the
LIF's vocabulary with ``a_fast_unidentified`` in place of ``beta_unidentified``. The flag
``rest_state_mismatch`` (no status of its own) marks a fit whose MTC fires at rest where the
HH cell does not, or the reverse: with a_slow_pos and the input scale held at the
reference's, the tonic circuit's firing band cannot always cover a cell that fires over a
much wider current range (``condition_gains: [a_fast, a_slow_pos]`` frees the slow gain).
Measured on the default ``intermediate`` cell (gnabar 0.25, 53 Hz at rest, fitted up to
200 uA/cm2 at up to 186 Hz): with a_slow_pos 3.75 the MTC's peak rate is at most ~155 Hz
(a_fast -1.5; ~121 Hz at -2.2, where it fires ~55 Hz at rest), so the rates above
~100 uA/cm2 cost J >= 2.4e4 for every a_fast; the minimum (J 3.50e4, a_fast -1.82) is
silent at rest and the best set that fires at rest costs 3.72e4 (a_fast -1.86, 67 Hz at
rest). Freeing a_slow_pos drives both gains to their bounds (a_fast -4, a_slow_pos 8; J
1976): the cell wants a wider firing band, which the tonic circuit gets by scaling both
gains together, not from a_fast.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bridge.mapping.mtc_model import MtcProtocol, mtc_onset_current, mtc_protocol, simulate_mtc
from bridge.mapping.settings import MappingSettings, MtcFitSettings, mapping_settings
from bridge.mapping.targets import (
    MIN_POINTS_FOR_CORRELATION,
    MS_PER_S,
    FitTargets,
    StepWindow,
    acceptance_threshold,
    data_status_flags,
    fit_targets,
    profile_correlation,
    profile_crossing,
    profile_edge_pairs,
    profile_span,
    residual_table,
)
from bridge.neurons.mtc import MTCParams, mtc_preset

log = logging.getLogger(__name__)

#: Statuses in order of precedence (the first that applies is ``status``).
MTC_STATUS_ORDER = (
    "never_fires",
    "spontaneous_only",
    "a_fast_unidentified",
    "depolarisation_block",
    "ok",
)
#: Statuses whose fitted neuron downstream stages use.
MTC_USABLE_STATUSES = ("ok", "depolarisation_block", "a_fast_unidentified")
MTC_DOWNSTREAM_RULE = (
    "use the mtc parameters (frozen) when mtc.use_downstream is true, i.e. mtc.status in "
    "{ok, depolarisation_block, a_fast_unidentified}; with a_fast_unidentified the (a_fast, "
    "i_bias) pair reproduces the f-I curve but a_fast alone is not comparable across "
    "conditions; with never_fires or spontaneous_only skip the condition's MTC mapping (the "
    "data do not constrain the input response)"
)
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
#: Fields of MTCParams each fit may change; everything else keeps the preset's value.
CONDITION_FREE = ("a_fast", "i_bias")
REFERENCE_FREE = ("a_slow_pos", "input_scale", "input_offset")
#: Up to this many free coordinates the pattern search tries the full {-1, 0, 1} grid.
FULL_STENCIL_MAX_DIM = 3
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


@dataclass(frozen=True)
class MtcFitResult:
    """Everything the mapping JSON needs for the MTC part of one condition."""

    condition: str
    kind: str
    params: MTCParams
    time_unit_ms: float
    status: str
    status_flags: tuple[str, ...]
    objective: float
    converged: bool
    n_evaluations: int
    onset_nA: float
    free: tuple[str, ...]
    fixed_source: str
    intervals: dict[str, Any]
    tradeoff: dict[str, Any]
    residuals: dict[str, Any]
    fit_data: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    rest_state_alternative: dict[str, Any] | None = None

    @property
    def use_downstream(self) -> bool:
        return self.status in MTC_USABLE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every MTCParams field, then the fit's report (floats finite or None)."""
        return {
            **self.params.to_dict(),
            "condition": self.condition,
            "fit": self.kind,
            "time_unit_ms": self.time_unit_ms,
            "input_unit": "nA (I_app = input_scale * amp_nA + input_offset + i_bias)",
            "free_parameters": list(self.free),
            "fixed_source": self.fixed_source,
            "status": self.status,
            "status_flags": list(self.status_flags),
            "use_downstream": self.use_downstream,
            "downstream_rule": MTC_DOWNSTREAM_RULE,
            "objective": self.objective,
            "converged": self.converged,
            "n_evaluations": self.n_evaluations,
            "onset_nA": self.onset_nA,
            "method": dict(METHOD),
            "intervals": self.intervals,
            "tradeoff": self.tradeoff,
            "residuals": self.residuals,
            "fit_data": self.fit_data,
            "settings": self.settings,
            "rest_state_alternative": self.rest_state_alternative,
        }


class _Problem:
    """Objective over internal coordinates, vectorised over rows.

    condition: z = (a_fast, [a_slow_pos], onset_nA), i_bias = I_on - offset - scale *
    onset_nA (a_slow_pos from the reference unless ``condition_gains`` frees it);
    reference: z = (a_slow_pos, ln input_scale, onset_nA), offset = I_on - i_bias - scale *
    onset_nA, with a_fast and i_bias at the preset's values. I_on is ``mtc_onset_current``.
    """

    def __init__(
        self,
        targets: FitTargets,
        settings: MappingSettings,
        base: MTCParams,
        fixed: MtcInputMap | None,
    ) -> None:
        self.targets = targets
        self.mtc: MtcFitSettings = settings.mtc
        self.base = base
        self.fixed = fixed
        self.reference = fixed is None
        self.protocol: MtcProtocol = mtc_protocol(
            targets.window, settings.mtc_time_unit_ms, settings.mtc.dt
        )
        self.n_evaluations = 0
        self.n_calls = 0
        self._log_z: list[np.ndarray] = []
        self._log_j: list[np.ndarray] = []
        self._log_spont: list[np.ndarray] = []
        #: when set, rows whose rest state differs from the HH cell's score inf
        self.require_rest_match = False
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
        m = self.mtc
        self.slow_free = self.reference or "a_slow_pos" in m.condition_gains
        names: list[str] = []
        lo: list[float] = []
        hi: list[float] = []
        if not self.reference:
            names.append("a_fast")
            lo.append(m.a_fast_bounds[0])
            hi.append(m.a_fast_bounds[1])
        if self.slow_free:
            names.append("a_slow_pos")
            lo.append(m.a_slow_pos_bounds[0])
            hi.append(m.a_slow_pos_bounds[1])
        if self.reference:
            names.append("ln_input_scale")
            lo.append(math.log(m.input_scale_bounds_per_nA[0]))
            hi.append(math.log(m.input_scale_bounds_per_nA[1]))
        names.append("onset_nA")
        self.names = tuple(names)
        self.lower = np.array([*lo, self.c_bounds[0]])
        self.upper = np.array([*hi, self.c_bounds[1]])
        # grids over the gain/scale coordinates (not a_fast, which the profile grids)
        self.grids = {
            "a_fast": np.linspace(*m.a_fast_bounds, m.profile_points),
            "a_slow_pos": np.linspace(*m.a_slow_pos_bounds, m.a_slow_pos_points),
            "ln_input_scale": np.linspace(
                *np.log(m.input_scale_bounds_per_nA), m.input_scale_points
            ),
        }
        #: pattern-search start steps (half a grid spacing; one amplitude spacing for the
        #: onset) and the resolutions at which the searches stop
        self.step0 = np.array(
            [
                0.5 * float(np.diff(self.grids[n][:2])[0]) if n != "onset_nA" else self.c_scale
                for n in self.names
            ]
        )
        resolution = {
            "a_fast": m.resolution_a_fast,
            "a_slow_pos": m.resolution_a_slow_pos,
            "ln_input_scale": m.resolution_ln_input_scale,
            "onset_nA": m.resolution_onset_spacings * self.c_scale,
        }
        self.step_min = np.array([resolution[n] for n in self.names])

    @property
    def n_params(self) -> int:
        return int(self.lower.size)

    def onset_current(self, a_fast: np.ndarray, a_slow_pos: np.ndarray) -> np.ndarray:
        """I_on per row, cached on the (a_fast, a_slow_pos) pair."""
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
        spont = resp.spontaneous_count * MS_PER_S / self.targets.window.spontaneous_ms
        return rates, resp.first_latency_ms, spont

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """Objective for rows of z; every evaluated point is logged for the intervals."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        self.n_evaluations += z.shape[0]
        self.n_calls += 1
        rates, lats, spont = self.response(z, self.targets.fit_amp_nA)
        values = self.targets.objective_value(rates, lats, spont)
        self._log_z.append(z.copy())
        self._log_j.append(values.copy())
        self._log_spont.append(spont.copy())
        if self.require_rest_match:
            values = np.where(self.rest_matches(spont), values, np.inf)
        return values

    def rest_matches(self, spont_hz: np.ndarray) -> np.ndarray:
        """Per row: does the MTC fire at rest exactly when the HH cell does?"""
        return (np.asarray(spont_hz) > 0) == (self.targets.spontaneous_rate_hz > 0)

    def best_rest_consistent(self) -> tuple[np.ndarray, float, int] | None:
        """Best evaluated row whose rest state matches the HH cell's: (z, objective, number
        of such rows), or None when no evaluated row matches."""
        spont = np.concatenate(self._log_spont)
        ok = self.rest_matches(spont)
        if not ok.any():
            return None
        z = np.vstack(self._log_z)[ok]
        j = np.concatenate(self._log_j)[ok]
        k = int(np.argmin(j))
        return z[k], float(j[k]), int(ok.sum())

    def accepted(self, threshold: float) -> np.ndarray:
        """All evaluated points with objective <= threshold (rows of z)."""
        z = np.vstack(self._log_z)
        return z[np.concatenate(self._log_j) <= threshold]

    def c_candidates(self, repetitive_only: bool = False) -> np.ndarray:
        """The onsets the data point at, plus a linear grid over the onset bounds.

        The HH cell's own onsets: midpoints between neighbouring fitted amplitudes where the
        count crosses one spike or ``latency_min_spikes`` (repetitive firing), and where it
        rises most (with ``ONSET_OFFSETS_SPACINGS`` around it).
        ``repetitive_only`` (the reference's start grid, which is the costlier one) keeps the
        repetitive onsets alone, falling back to everything when the data show none.
        """
        t = self.targets
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
            repetitive.extend(centre + self.c_scale * np.array(ONSET_OFFSETS_SPACINGS))
        if repetitive_only and repetitive:
            return np.unique(np.clip(np.array(repetitive), *self.c_bounds))
        grid = repetitive + onsets(1) + list(np.linspace(*self.c_bounds, self.mtc.onset_points))
        return np.unique(np.clip(np.array(grid), *self.c_bounds))


def _start_grid(
    problem: _Problem, heads: np.ndarray, cand: np.ndarray
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


def _stencil(n_free: int) -> np.ndarray:
    """Moves of the pattern search in units of the steps: the full {-1, 0, 1} grid for up to
    ``FULL_STENCIL_MAX_DIM`` free coordinates (diagonal moves follow the ridges along which
    the gains, the input scale and the onset trade off), the compass axes beyond (the full
    grid grows as 3^d)."""
    if n_free <= FULL_STENCIL_MAX_DIM:
        grid = np.array(np.meshgrid(*([[-1.0, 0.0, 1.0]] * n_free), indexing="ij"))
        moves = grid.reshape(n_free, -1).T
        return moves[np.any(moves != 0, axis=1)]
    eye = np.eye(n_free)
    return np.vstack([eye, -eye])


def _pattern(
    problem: _Problem, z0: np.ndarray, j0: np.ndarray, step: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched pattern search, one independent search per row of ``z0``.

    Each iteration evaluates the stencil moves (``_stencil``) of the free coordinates
    (step > 0) of every unfinished row in one simulation call; a row moves to its best
    improvement or, when none improves, halves its steps. Until its first failure a row
    doubles its steps after each move, so a start far from the optimum costs few calls. A
    row has converged once every free step is at most ``problem.step_min``. Returns (z,
    objective, converged) per row.
    """
    z, j = z0.copy(), j0.astype(float).copy()
    step = step.astype(float).copy()
    free = step > 0
    floor = np.where(free, problem.step_min, 0.0)
    done = np.all(step <= floor * (1 + 1e-9), axis=1)
    travelling = np.ones(z.shape[0], dtype=bool)
    for _ in range(problem.mtc.max_iter):
        rows = np.flatnonzero(~done)
        if rows.size == 0:
            break
        owners, cands = [], []
        for r in rows:
            idx = np.flatnonzero(free[r])
            for move in _stencil(idx.size):
                c = z[r].copy()
                c[idx] = np.clip(
                    c[idx] + move * step[r, idx], problem.lower[idx], problem.upper[idx]
                )
                if np.any(c != z[r]):
                    owners.append(r)
                    cands.append(c)
        owners_a = np.array(owners, dtype=int)
        values = problem.evaluate(np.array(cands)) if cands else np.zeros(0)
        for r in rows:
            mine = np.flatnonzero(owners_a == r)
            k = mine[np.argmin(values[mine])] if mine.size else -1
            if k >= 0 and values[k] < j[r]:
                z[r], j[r] = cands[k], values[k]
                if travelling[r]:
                    step[r] = 2.0 * step[r]
            else:
                travelling[r] = False
                step[r] = np.where(free[r], np.maximum(step[r] / 2.0, floor[r]), 0.0)
                done[r] = bool(np.all(step[r] <= floor[r] * (1 + 1e-9)))
    converged = np.all(step <= floor * (1 + 1e-9), axis=1)
    return z, j, converged


def _residual_table(problem: _Problem, z: np.ndarray) -> dict[str, Any]:
    rates, lats, spont = problem.response(z[None, :], problem.targets.amp_nA)
    return residual_table(problem.targets, "mtc", rates[0], lats[0], float(spont[0]))


def _refine_edges(
    problem: _Problem, xs: list[float], js: list[float], zs: list[np.ndarray], thr: float
) -> tuple[list[float], list[float], list[np.ndarray]]:
    """Bisect in a_fast between the outermost accepted profile points and their rejected
    neighbours, one call per round: the other coordinates at the two neighbours' mean, the
    onset also one amplitude spacing either side (the best of the three is kept)."""
    offsets = np.array([0.0, -1.0, 1.0]) * problem.c_scale
    for _ in range(problem.mtc.profile_edge_bisections):
        xv, jv, zv = _profile_arrays(xs, js, zs)
        pairs = profile_edge_pairs(jv, thr)
        if not pairs:
            break
        rows = []
        for a, r in pairs:
            centre = 0.5 * (zv[a] + zv[r])
            for off in offsets:
                row = centre.copy()
                row[-1] = np.clip(row[-1] + off, *problem.c_bounds)
                rows.append(row)
        values = problem.evaluate(np.array(rows)).reshape(len(pairs), offsets.size)
        best = np.argmin(values, axis=1)
        for p_i, k in enumerate(best):
            xs.append(float(rows[p_i * offsets.size + k][0]))
            js.append(float(values[p_i, k]))
            zs.append(rows[p_i * offsets.size + k])
    return xs, js, zs


def _profile_arrays(
    xs: list[float], js: list[float], zs: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile points sorted by a_fast; of points at the same a_fast the best is kept."""
    best: dict[float, int] = {}
    for i, (x, j) in enumerate(zip(xs, js, strict=True)):
        if x not in best or j < js[best[x]]:
            best[x] = i
    keep = [best[x] for x in sorted(best)]
    return np.asarray(xs)[keep], np.asarray(js)[keep], np.asarray(zs)[keep]


def _profile_intervals(
    problem: _Problem, xs: list[float], js: list[float], zs: list[np.ndarray], thr: float
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """a_fast interval from the profile; other ranges from the accepted region."""
    xv, jv, zv = _profile_arrays(xs, js, zs)
    span = profile_span(xv, jv, thr, problem.lower[0], problem.upper[0])
    acc_mask, lo_i, hi_i = span.accepted, span.lo_i, span.hi_i
    lo_open, hi_open = span.open_low, span.open_high
    flags: list[str] = ["profile_multimodal"] if span.multimodal else []
    edges = []
    x_lo, x_hi = float(xv[lo_i]), float(xv[hi_i])
    if lo_i > 0:
        x_lo = profile_crossing(xv[lo_i], jv[lo_i], xv[lo_i - 1], jv[lo_i - 1], thr)
        frac = (x_lo - xv[lo_i - 1]) / (xv[lo_i] - xv[lo_i - 1])
        edges.append(zv[lo_i - 1] + frac * (zv[lo_i] - zv[lo_i - 1]))
    if hi_i < xv.size - 1:
        x_hi = profile_crossing(xv[hi_i], jv[hi_i], xv[hi_i + 1], jv[hi_i + 1], thr)
        frac = (x_hi - xv[hi_i]) / (xv[hi_i + 1] - xv[hi_i])
        edges.append(zv[hi_i] + frac * (zv[hi_i + 1] - zv[hi_i]))
    if lo_open:
        flags.append("a_fast_interval_open_low")
    if hi_open:
        flags.append("a_fast_interval_open_high")
    region = np.vstack([zv[acc_mask], problem.accepted(thr)] + [e[None, :] for e in edges])
    x_lo = min(x_lo, float(region[:, 0].min()))
    x_hi = max(x_hi, float(region[:, 0].max()))
    f_region = problem.fields(region)
    f_prof = problem.fields(zv)
    ends = sorted([abs(x_lo), abs(x_hi)])
    intervals: dict[str, Any] = {
        "a_fast": [x_lo, x_hi],
        "a_fast_ratio": ends[1] / ends[0],
        "i_bias": [float(f_region["i_bias"].min()), float(f_region["i_bias"].max())],
        "a_slow_pos": [float(f_region["a_slow_pos"].min()), float(f_region["a_slow_pos"].max())],
        "onset_nA": [float(region[:, -1].min()), float(region[:, -1].max())],
        "open_low": bool(lo_open),
        "open_high": bool(hi_open),
        "objective_threshold": float(thr),
        "n_accepted_evaluations": int(region.shape[0]),
        "rule": "accepted region {J <= J_min + delta * max(1, J_min / (N - p))}; a_fast edges "
        "from the profile over a_fast (other coordinates re-minimised, edges bisected and "
        "interpolated), each range widened to every evaluated point in the region; "
        "a_fast_ratio = max |a_fast| / min |a_fast| over the interval",
    }
    tradeoff = {
        "profile": {
            "a_fast": xv.tolist(),
            "i_bias": f_prof["i_bias"].tolist(),
            "a_slow_pos": f_prof["a_slow_pos"].tolist(),
            "onset_nA": zv[:, -1].tolist(),
            "objective": jv.tolist(),
            "accepted": acc_mask.tolist(),
        },
        "n_accepted": span.n_accepted,
        "corr_a_fast_i_bias": profile_correlation(xv[acc_mask], f_prof["i_bias"][acc_mask]),
        "corr_a_fast_a_slow_pos": profile_correlation(xv[acc_mask], f_prof["a_slow_pos"][acc_mask])
        if problem.slow_free
        else None,
        "corr_note": f"Pearson correlation along accepted profile points (null with fewer "
        f"than {MIN_POINTS_FOR_CORRELATION} points or no spread; corr_a_fast_a_slow_pos null "
        "when a_slow_pos is held at the reference's value)",
    }
    return intervals, tradeoff, flags


def _region_intervals(problem: _Problem, thr: float) -> dict[str, Any]:
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


def _settings_record(settings: MappingSettings) -> dict[str, Any]:
    record = settings.to_dict()
    return {k: record[k] for k in ("mtc_time_unit_ms", "reference_condition", "objective", "mtc")}


def _fit_data(problem: _Problem) -> dict[str, Any]:
    t = problem.targets
    p = problem.protocol
    return {
        "n_amplitudes": int(t.amp_nA.size),
        "n_rate_points": int(t.in_fit.sum()),
        "n_latency_points": int(t.latency_in_fit.sum()),
        "n_excluded_block": t.n_excluded_block,
        "excluded_rule": "sweeps flagged block and every amplitude at or above the first "
        "block (or summary block_onset_uA_cm2) are left out (the rule shared with the LIF)",
        "spontaneous": t.spontaneous,
        "spontaneous_rate_hh_hz": t.spontaneous_rate_hz,
        "n_points": t.n_points,
        "n_params": problem.n_params,
        "coordinates": list(problem.names),
        "onset_bounds_nA": list(problem.c_bounds),
        "protocol_steps": {"delay": p.n_delay, "step": p.n_step, "spontaneous": p.n_spont},
        "euler_step_ms": p.step_ms,
    }


def _prepare(
    fi: pd.DataFrame, summary: Mapping[str, Any], mapping_cfg: Mapping[str, Any], window: StepWindow
) -> tuple[MappingSettings, FitTargets, MTCParams]:
    settings = mapping_settings(mapping_cfg)
    targets = fit_targets(fi, summary, settings.objective, window)
    if targets.amp_nA.size < 2:
        raise ValueError(f"fi_curve.csv of {targets.condition!r}: needs at least 2 amplitudes")
    base = mtc_preset(settings.mtc.preset).replace(dt=settings.mtc.dt)
    return settings, targets, base


def _status(
    targets: FitTargets,
    flags: list[str],
    converged: bool,
    ratio: float | None,
    max_ratio: float,
    spontaneous_rate_hz: float,
) -> tuple[str, tuple[str, ...]]:
    found = set(flags) | data_status_flags(targets)
    if (spontaneous_rate_hz > 0) != (targets.spontaneous_rate_hz > 0):
        # a flag, not a status (the vocabulary is the LIF's): the fit's compromise leaves
        # the MTC silent at rest where the HH cell fires, or the reverse
        found.add("rest_state_mismatch")
    if not converged:
        found.add("not_converged")
    if ratio is not None and ratio > max_ratio:
        found.add("a_fast_unidentified")
    status = next((s for s in MTC_STATUS_ORDER if s in found), "ok")
    return status, tuple(sorted(found))


def _log_done(problem: _Problem, kind: str, objective: float, status: str, t0: float) -> None:
    log.info(
        "MTC %s fit of %s: objective %.4g, status %s; %d parameter sets in %d simulation calls, "
        "%.1f s",
        kind,
        problem.targets.condition,
        objective,
        status,
        problem.n_evaluations,
        problem.n_calls,
        time.perf_counter() - t0,
    )


def _params_at(problem: _Problem, z: np.ndarray) -> MTCParams:
    f = problem.fields(z[None, :])
    return problem.base.replace(**{k: float(v[0]) for k, v in f.items()})


def _search(
    problem: _Problem, heads: np.ndarray, prefer: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]:
    """Start grid, a profile over the first coordinate, then pattern searches.

    ``heads`` are the grid over the coordinates before the onset; the first of them is
    profiled (a_fast for conditions, a_slow_pos for the reference). Each head is tried with
    every onset candidate in one call; each profile value keeps its best head, whose other
    coordinates a batched pattern search re-minimises at that fixed value (the profile);
    the ``n_starts`` best profile points then start searches over all coordinates. Ties go
    to the profile value nearest ``prefer`` (a flat objective, e.g. a silent cell, keeps the
    reference's a_fast). Returns (profile objective, profile z, best z, best objective,
    converged).
    """
    m = problem.mtc
    cand = problem.c_candidates(repetitive_only=problem.reference)
    j0, z0, c_step = _start_grid(problem, heads, cand)
    step = np.tile(problem.step0, (z0.shape[0], 1))
    step[:, -1] = c_step
    first = z0[:, 0]
    keys = np.unique(first)
    pick = np.array([np.flatnonzero(first == k)[np.argmin(j0[first == k])] for k in keys])
    z0, j0, step = z0[pick], j0[pick], step[pick]
    step[:, 0] = 0.0
    z0, j0, _ = _pattern(problem, z0, j0, step)
    step[:, 0] = problem.step0[0]
    order = np.lexsort((np.abs(z0[:, 0] - prefer), j0))[: m.n_starts]
    zs, js, ok = _pattern(problem, z0[order], j0[order], step[order])
    k = int(np.lexsort((~ok, js))[0])
    return j0, z0, zs[k], float(js[k]), bool(ok[k])


def _rest_state_search(
    problem: _Problem, best_z: np.ndarray, best_j: float
) -> tuple[np.ndarray, float, bool, int] | None:
    """Search restricted to parameter sets whose MTC rest state matches the HH cell's.

    The start grid holds few onsets per gain, and the onsets at which the MTC fires at rest
    (a cell that fires without input) form a narrow band; a search can settle on the other
    side of the rest-state boundary although a better matching set exists. When ``best_z``
    mismatches, the best matching evaluated set starts a pattern search on which mismatching
    sets score inf. Returns (z, objective, converged, number of matching evaluated sets), or
    None when ``best_z`` matches or no evaluated set does.
    """
    _, _, spont = problem.response(best_z[None, :], problem.targets.fit_amp_nA)
    if problem.rest_matches(spont)[0]:
        return None
    found = problem.best_rest_consistent()
    if found is None:
        return None
    z0, j0, n_match = found
    problem.require_rest_match = True
    try:
        z, j, ok = _pattern(problem, z0[None, :], np.array([j0]), problem.step0[None, :].copy())
    finally:
        problem.require_rest_match = False
    return z[0], float(j[0]), bool(ok[0]), n_match


def _rest_state_alternative(
    problem: _Problem, found: tuple[np.ndarray, float, bool, int], best_j: float
) -> dict[str, Any]:
    """Report of the restricted search's result beside a ``rest_state_mismatch`` fit: the
    cost of matching the rest state, on record (the fit stays the objective's minimum)."""
    z, j, ok, n_match = found
    params = _params_at(problem, z)
    residuals = _residual_table(problem, z)
    return {
        **{name: float(getattr(params, name)) for name in ("a_fast", "a_slow_pos", "i_bias")},
        "onset_nA": float(z[-1]),
        "objective": j,
        "objective_excess": j - best_j,
        "converged": ok,
        "spontaneous_rate_mtc_hz": residuals["spontaneous_rate_mtc_hz"],
        "spontaneous_rate_hh_hz": problem.targets.spontaneous_rate_hz,
        "rate_mtc_hz": residuals["rate_mtc_hz"],
        "n_rest_consistent_evaluations": n_match,
        "rule": "the best evaluated parameter set whose rest state matches the HH cell's "
        "(fires at rest exactly when it does), polished by a pattern search restricted to such "
        "sets; objective_excess = its objective minus the fit's. Null when the fit's rest "
        "state matches",
    }


def fit_mtc_condition(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    mapping_cfg: Mapping[str, Any],
    fixed: MtcInputMap,
    *,
    window: StepWindow,
) -> MtcFitResult:
    """Fit a_fast and i_bias (and a_slow_pos when ``condition_gains`` frees it) of one
    condition; input scale and offset held at the reference's values.

    ``fi`` is the HH stage's fi_curve.csv, ``summary`` its summary.json, ``mapping_cfg`` the
    config's ``mapping`` section, ``fixed`` the reference fit (``MtcInputMap``), ``window``
    the HH protocol timing (``step_window_from_config``).
    """
    t0 = time.perf_counter()
    settings, targets, base = _prepare(fi, summary, mapping_cfg, window)
    problem = _Problem(targets, settings, base, fixed)
    m = settings.mtc
    # the reference's a_fast joins the profile grid: a flat objective then keeps it exactly
    a_grid = np.unique(np.append(problem.grids["a_fast"], np.clip(fixed.a_fast, *m.a_fast_bounds)))
    heads = a_grid[:, None]
    if problem.slow_free:
        heads = np.array([[a, s] for a in a_grid for s in problem.grids["a_slow_pos"]])
    prof_j, prof_z, best_z, best_j, converged = _search(problem, heads, fixed.a_fast)
    rest_alt = _rest_state_search(problem, best_z, best_j)
    if rest_alt is not None and rest_alt[1] < best_j:
        # the search missed the better side of the rest-state boundary: adopt it
        best_z, best_j, converged = rest_alt[0], rest_alt[1], rest_alt[2]
        rest_alt = None

    # profile interval of a_fast with edge bisection
    xs = prof_z[:, 0].tolist() + [float(best_z[0])]
    js = prof_j.tolist() + [best_j]
    zs = list(prof_z) + [best_z]
    thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, m.profile_delta)
    xs, js, zs = _refine_edges(problem, xs, js, zs, thr)
    k = int(np.argmin(js))
    if js[k] < best_j:
        # a bisection point beat the search: search again from it (once), then bisect the
        # edges of the new acceptance region
        step = problem.step0[None, :].copy()
        z, j, ok = _pattern(problem, np.asarray(zs[k])[None, :], np.array([js[k]]), step)
        best_z, best_j, converged = z[0], float(j[0]), bool(ok[0])
        xs, js, zs = xs + [float(best_z[0])], js + [best_j], zs + [best_z]
        thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, m.profile_delta)
        xs, js, zs = _refine_edges(problem, xs, js, zs, thr)
        k = int(np.argmin(js))
        if js[k] < best_j:
            # still beaten: report the better point, not as a converged optimum
            best_z, best_j, converged = zs[k], float(js[k]), False
            thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, m.profile_delta)
    intervals, tradeoff, flags = _profile_intervals(problem, xs, js, zs, thr)
    residuals = _residual_table(problem, best_z)
    status, all_flags = _status(
        targets,
        flags,
        converged,
        intervals["a_fast_ratio"],
        m.max_gain_ratio,
        residuals["spontaneous_rate_mtc_hz"],
    )
    alternative = (
        _rest_state_alternative(problem, rest_alt, best_j)
        if rest_alt is not None and "rest_state_mismatch" in all_flags
        else None
    )
    _log_done(problem, "condition", best_j, status, t0)
    fitted = ", ".join(m.condition_gains)
    held = "input_scale, input_offset" + ("" if problem.slow_free else ", a_slow_pos")
    return MtcFitResult(
        condition=targets.condition,
        kind="condition",
        params=_params_at(problem, best_z),
        time_unit_ms=settings.mtc_time_unit_ms,
        status=status,
        status_flags=all_flags,
        objective=best_j,
        converged=converged,
        n_evaluations=problem.n_evaluations,
        onset_nA=float(best_z[-1]),
        free=(*m.condition_gains, "i_bias"),
        fixed_source=f"{held} from {fixed.source}; fitted here: {fitted}, i_bias; other "
        f"fields from the {m.preset!r} preset",
        intervals=intervals,
        tradeoff=tradeoff,
        residuals=residuals,
        fit_data=_fit_data(problem),
        settings=_settings_record(settings),
        rest_state_alternative=alternative,
    )


def fit_mtc_reference(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    mapping_cfg: Mapping[str, Any],
    *,
    window: StepWindow,
) -> MtcFitResult:
    """Fit input_scale, input_offset and a_slow_pos on the reference condition.

    a_fast and i_bias stay at the preset's values (the gauge; module docstring). Pass the
    result to ``MtcInputMap.from_reference(result.to_dict(), condition)`` for the conditions.
    Raises ValueError when ``summary`` is not the configured reference condition.
    """
    t0 = time.perf_counter()
    settings, targets, base = _prepare(fi, summary, mapping_cfg, window)
    name = str(summary.get("condition"))
    if name != settings.reference_condition:
        raise ValueError(
            f"summary.json is for condition {name!r}, but mapping.reference_condition is "
            f"{settings.reference_condition!r}"
        )
    problem = _Problem(targets, settings, base, None)
    m = settings.mtc
    heads = np.array(
        [[a, s] for a in problem.grids["a_slow_pos"] for s in problem.grids["ln_input_scale"]]
    )
    _, _, best_z, best_j, converged = _search(problem, heads, float(base.a_slow_pos))
    thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, m.profile_delta)
    residuals = _residual_table(problem, best_z)
    status, all_flags = _status(
        targets, [], converged, None, m.max_gain_ratio, residuals["spontaneous_rate_mtc_hz"]
    )
    _log_done(problem, "reference", best_j, status, t0)
    return MtcFitResult(
        condition=targets.condition,
        kind="reference",
        params=_params_at(problem, best_z),
        time_unit_ms=settings.mtc_time_unit_ms,
        status=status,
        status_flags=all_flags,
        objective=best_j,
        converged=converged,
        n_evaluations=problem.n_evaluations,
        onset_nA=float(best_z[-1]),
        free=REFERENCE_FREE,
        fixed_source=f"a_fast, i_bias and the other fields from the {m.preset!r} preset",
        intervals=_region_intervals(problem, thr),
        tradeoff={},
        residuals=residuals,
        fit_data=_fit_data(problem),
        settings=_settings_record(settings),
    )
