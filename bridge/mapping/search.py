"""Search machinery shared by the LIF and MTC fits (docs/mapping.md describes the method).

* ``FitProblem``: the objective over a fit's internal coordinates z (one row per parameter
  set), with every evaluation logged so that an interval can use all evaluated points;
* derivative-free searches: zoomed grids, bounded Nelder-Mead, batched pattern search;
* the profile over the first coordinate: edge bisection, one restart when a profile point
  beats the optimum, the accepted span and the profile-likelihood interval;
* statuses and results: the precedence rule, the vocabulary and the report both fits share.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize

from bridge.config.mapping import GoodnessOfFitConfig
from bridge.logs import ProgressLog
from bridge.mapping.objective import FitTargets, data_status_flags, residual_table

#: Fewer accepted profile points than this give no trade-off correlation.
MIN_POINTS_FOR_CORRELATION = 3
#: A profile point this close to a search bound counts as on it (an open interval end).
BOUND_TOL = 1e-12
#: Up to this many free coordinates the pattern search tries the full {-1, 0, 1} grid.
FULL_STENCIL_MAX_DIM = 3
#: Relative slack when a pattern-search step is compared with its resolution (float noise).
STEP_RTOL = 1e-9
#: A fitted coordinate within this fraction of its search range from a bound lies on it (the
#: searches clip to the bounds, so a coordinate stopped by one sits exactly there).
AT_BOUND_RTOL = 1e-6
#: Prefix of a coordinate searched on a log scale: it is reported as exp(value), unprefixed.
LOG_PREFIX = "ln_"

#: New profile points from the edge pairs: (pairs, sorted x, sorted z) -> (objectives, z rows).
NewPoints = Callable[
    [list[tuple[int, int]], np.ndarray, np.ndarray], tuple[list[float], list[np.ndarray]]
]
#: A local search from one point: (z0, its objective) -> (z, objective, converged).
Restart = Callable[[np.ndarray, float], tuple[np.ndarray, float, bool]]


class FitProblem:
    """Objective over a fit's internal coordinates z, vectorised over rows.

    Subclasses set ``model`` (it names the residual columns, e.g. ``rate_lif_hz``), the
    bounds ``lower`` and ``upper`` of z, and implement ``response``.
    """

    model = ""
    lower: np.ndarray
    upper: np.ndarray
    #: Simulate each distinct row once per fit: a row evaluated before (bit for bit the same
    #: z) takes its first objective. A row's response does not depend on the rows simulated
    #: beside it, so the fit is unchanged; pattern searches revisit many stencil points
    #: (about a quarter of an MTC fit's rows). False simulates every requested row.
    reuse_evaluations = True

    def __init__(self, targets: FitTargets) -> None:
        self.targets = targets
        #: rows requested (the fit's reported n_evaluations) and rows actually simulated
        self.n_evaluations = 0
        self.n_simulated = 0
        #: calls of ``response`` for the objective
        self.n_calls = 0
        #: when set, rows whose rest state differs from the HH cell's score inf
        self.require_rest_match = False
        self._log_z: list[np.ndarray] = []
        self._log_j: list[np.ndarray] = []
        self._log_spont: list[np.ndarray] = []
        self._seen: dict[bytes, tuple[float, float]] = {}
        # A fit simulates for minutes: a log line per PROGRESS_INTERVAL_S of simulation calls.
        model = type(self).__name__.removesuffix("Problem").upper()
        condition = getattr(targets, "condition", None)
        self._progress = ProgressLog(
            logging.getLogger(type(self).__module__),
            f"{model} fit" + (f" of {condition}" if condition else ""),
        )

    @property
    def n_params(self) -> int:
        return int(self.lower.size)

    def response(
        self, z: np.ndarray, amps_nA: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rate_hz [rows, amps], latency_ms [rows, amps], spontaneous rate_hz [rows])."""
        raise NotImplementedError

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """Objective for rows of z; every evaluated point is logged for the intervals."""
        z = np.atleast_2d(np.asarray(z, dtype=float))
        self.n_evaluations += z.shape[0]
        values, spont = self._objective(z)
        self._log_z.append(z.copy())
        self._log_j.append(values.copy())
        self._log_spont.append(spont.copy())
        if self.require_rest_match:
            values = np.where(self.rest_matches(spont), values, np.inf)
        return values

    def _simulate(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(objective, spontaneous rate_hz) of every row of z, in one ``response`` call."""
        self.n_calls += 1
        self.n_simulated += z.shape[0]
        self._progress.tick(
            "%d parameter sets so far (%d simulated) in %d simulation calls",
            self.n_evaluations,
            self.n_simulated,
            self.n_calls,
        )
        rates, lats, spont = self.response(z, self.targets.fit_amp_nA)
        return self.targets.objective_value(rates, lats, spont), np.asarray(spont, dtype=float)

    def _objective(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(objective, spontaneous rate_hz) per row; only rows not seen before (and each
        distinct one once) are simulated when ``reuse_evaluations``."""
        if not self.reuse_evaluations:
            return self._simulate(z)
        keys = [row.tobytes() for row in z]
        fresh = list(dict.fromkeys(k for k in keys if k not in self._seen))
        if fresh:
            row_of = {k: i for i, k in enumerate(keys)}  # equal keys are equal rows
            values, spont = self._simulate(z[[row_of[k] for k in fresh]])
            pairs = zip(values.tolist(), spont.tolist(), strict=True)
            self._seen.update(zip(fresh, pairs, strict=True))
        found = np.array([self._seen[k] for k in keys], dtype=float).reshape(len(keys), 2)
        return found[:, 0], found[:, 1]

    def rest_matches(self, spont_hz: np.ndarray) -> np.ndarray:
        """Per row: does the model fire at rest exactly when the HH cell does?"""
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

    def threshold(self, j_min: float, delta: float) -> float:
        """Acceptance level of the profile-likelihood region around ``j_min``."""
        return acceptance_threshold(j_min, self.targets.n_points, self.n_params, delta)

    def residuals(self, z: np.ndarray) -> dict[str, Any]:
        """Residual table of one parameter set over every fi row (``residual_table``)."""
        rates, lats, spont = self.response(z[None, :], self.targets.amp_nA)
        return residual_table(self.targets, self.model, rates[0], lats[0], float(spont[0]))


def acceptance_threshold(j_min: float, n_points: int, n_params: int, delta: float) -> float:
    """Profile-likelihood acceptance level J_min + delta * max(1, J_min / (N - p)).

    The residual variance is estimated from the fit (J_min / (N - p)) and floored at the
    objective's own scale (1), so a perfect fit still gets a finite region.
    """
    dof = max(1, n_points - n_params)
    return j_min + delta * max(1.0, j_min / dof)


# --- searches ---------------------------------------------------------------------------


def zoom_grid(
    problem: FitProblem,
    first: np.ndarray,
    best_rest: np.ndarray,
    best_val: np.ndarray,
    half: np.ndarray,
    rounds: int,
    n_points: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise over the coordinates after the first at each value of ``first``.

    Each round evaluates an ``n_points``-per-coordinate grid of half-width ``half`` around
    the best point so far (one row per value of ``first``), then shrinks the half-width to
    one grid spacing. Returns (objective [n], best z [n, n_params]).
    """
    n_first = first.size
    lo_in, hi_in = problem.lower[1:], problem.upper[1:]
    n_in = lo_in.size
    offsets_1d = np.linspace(-1.0, 1.0, n_points)
    mesh = np.meshgrid(*([offsets_1d] * n_in), indexing="ij")
    offsets = np.column_stack([m.ravel() for m in mesh])
    best_rest = best_rest.copy()
    best_val = best_val.copy()
    half = np.broadcast_to(half, (n_first, n_in)).copy()
    for _ in range(rounds):
        cand = best_rest[:, None, :] + offsets[None, :, :] * half[:, None, :]
        cand = np.clip(cand, lo_in, hi_in)
        z = np.column_stack([np.repeat(first, offsets.shape[0]), cand.reshape(-1, n_in)])
        values = problem.evaluate(z).reshape(n_first, offsets.shape[0])
        idx = np.argmin(values, axis=1)
        better = values[np.arange(n_first), idx] < best_val
        best_rest[better] = cand[better, idx[better]]
        best_val = np.where(better, values[np.arange(n_first), idx], best_val)
        half = half * 2.0 / (n_points - 1)
    return best_val, np.column_stack([first, best_rest])


@dataclass(frozen=True)
class NelderMeadSettings:
    """Bounded Nelder-Mead in coordinates z / scale (tolerances in those coordinates)."""

    scale: np.ndarray
    max_iter: int
    xatol: float
    fatol: float


def nelder_mead(
    problem: FitProblem, z0: np.ndarray, step: np.ndarray, nm: NelderMeadSettings
) -> tuple[np.ndarray, float, bool]:
    """Bounded Nelder-Mead from ``z0``; ``step`` is the initial simplex edge per scaled
    coordinate. Returns (z, objective, converged)."""
    lo, hi = problem.lower / nm.scale, problem.upper / nm.scale
    x0 = np.clip(z0 / nm.scale, lo, hi)
    simplex = np.vstack([x0] + [x0 + np.eye(x0.size)[i] * step[i] for i in range(x0.size)])
    # a vertex pushed past a bound goes the other way so the simplex stays non-degenerate
    for i in range(1, simplex.shape[0]):
        j = i - 1
        if simplex[i, j] > hi[j]:
            simplex[i, j] = x0[j] - step[j]
    simplex = np.clip(simplex, lo, hi)

    def fun(x: np.ndarray) -> float:
        return float(problem.evaluate((x * nm.scale)[None, :])[0])

    res = minimize(
        fun,
        x0,
        method="Nelder-Mead",
        bounds=list(zip(lo, hi, strict=True)),
        options={
            "maxiter": nm.max_iter,
            "xatol": nm.xatol,
            "fatol": nm.fatol,
            "initial_simplex": simplex,
        },
    )
    return np.clip(res.x, lo, hi) * nm.scale, float(res.fun), bool(res.success)


def stencil(n_free: int) -> np.ndarray:
    """Moves of the pattern search in units of the steps: the full {-1, 0, 1} grid for up to
    ``FULL_STENCIL_MAX_DIM`` free coordinates (diagonal moves follow ridges along which
    coordinates trade off), the compass axes beyond (the full grid grows as 3^d)."""
    if n_free <= FULL_STENCIL_MAX_DIM:
        grid = np.array(np.meshgrid(*([[-1.0, 0.0, 1.0]] * n_free), indexing="ij"))
        moves = grid.reshape(n_free, -1).T
        return moves[np.any(moves != 0, axis=1)]
    eye = np.eye(n_free)
    return np.vstack([eye, -eye])


def pattern_search(
    problem: FitProblem,
    z0: np.ndarray,
    j0: np.ndarray,
    step: np.ndarray,
    step_min: np.ndarray,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched pattern search, one independent search per row of ``z0``.

    Each iteration evaluates the stencil moves (``stencil``) of the free coordinates
    (step > 0) of every unfinished row in one call; a row moves to its best improvement or,
    when none improves, halves its steps. Until its first failure a row doubles its steps
    after each move, so a start far from the optimum costs few calls. A row has converged
    once every free step is at most ``step_min``. Returns (z, objective, converged) per row.
    """
    z, j = z0.copy(), j0.astype(float).copy()
    step = step.astype(float).copy()
    free = step > 0
    floor = np.where(free, step_min, 0.0)
    done = np.all(step <= floor * (1 + STEP_RTOL), axis=1)
    travelling = np.ones(z.shape[0], dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(~done)
        if rows.size == 0:
            break
        owners, cands = [], []
        for r in rows:
            idx = np.flatnonzero(free[r])
            for move in stencil(idx.size):
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
                done[r] = bool(np.all(step[r] <= floor[r] * (1 + STEP_RTOL)))
    converged = np.all(step <= floor * (1 + STEP_RTOL), axis=1)
    return z, j, converged


# --- profile over the first coordinate --------------------------------------------------


@dataclass(frozen=True)
class Optimum:
    """The best parameter set found: internal coordinates, objective, converged flag."""

    z: np.ndarray
    objective: float
    converged: bool


@dataclass
class Profile:
    """Points of a profile over the first coordinate x = z[0], in evaluation order.

    ``best_per_x``: of points at the same x only the best counts once sorted; otherwise
    every point does.
    """

    js: list[float]
    zs: list[np.ndarray]
    best_per_x: bool = False

    def add(self, js: Iterable[float], zs: Iterable[np.ndarray]) -> None:
        self.js.extend(js)
        self.zs.extend(zs)

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, objective, z) sorted by x (ties in evaluation order)."""
        xs = [float(z[0]) for z in self.zs]
        if self.best_per_x:
            best: dict[float, int] = {}
            for i, (x, j) in enumerate(zip(xs, self.js, strict=True)):
                if x not in best or j < self.js[best[x]]:
                    best[x] = i
            keep = [best[x] for x in sorted(best)]
        else:
            keep = np.argsort(xs, kind="stable")
        return np.asarray(xs)[keep], np.asarray(self.js)[keep], np.asarray(self.zs)[keep]


def profile_edge_pairs(j_sorted: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """(outermost accepted, its rejected neighbour) index pairs of a profile sorted by its
    coordinate, at the low and the high end; empty when every point is accepted."""
    acc = np.flatnonzero(j_sorted <= thr)
    pairs = []
    if acc.size and acc[0] > 0:
        pairs.append((int(acc[0]), int(acc[0]) - 1))
    if acc.size and acc[-1] < j_sorted.size - 1:
        pairs.append((int(acc[-1]), int(acc[-1]) + 1))
    return pairs


def bisect_edges(profile: Profile, thr: float, rounds: int, new_points: NewPoints) -> None:
    """Up to ``rounds`` times, add points (``new_points``) between the outermost accepted
    profile points and their rejected neighbours."""
    for _ in range(rounds):
        x, j, z = profile.sorted()
        pairs = profile_edge_pairs(j, thr)
        if not pairs:
            break
        profile.add(*new_points(pairs, x, z))


@dataclass(frozen=True)
class ProfileRefinement:
    """How a profile's edges are bisected and the optimum restarted."""

    delta: float  # acceptance rise (acceptance_threshold)
    edge_bisections: int
    new_points: NewPoints
    restart: Restart
    #: after the restart's bisection, a profile point that still beats the optimum replaces it
    adopt_later_improvement: bool


def refine_profile(
    problem: FitProblem, profile: Profile, best: Optimum, how: ProfileRefinement
) -> tuple[Optimum, float]:
    """Bisect the profile's edges at the acceptance level of ``best``; a profile point that
    beats it restarts the local search (once) and the edges are bisected again.

    Returns the optimum and its acceptance threshold.
    """
    thr = problem.threshold(best.objective, how.delta)
    bisect_edges(profile, thr, how.edge_bisections, how.new_points)
    k = int(np.argmin(profile.js))
    if profile.js[k] < best.objective:
        z, j, ok = how.restart(profile.zs[k], profile.js[k])
        if j <= profile.js[k]:
            best = Optimum(z, j, ok)
        else:
            best = Optimum(profile.zs[k], profile.js[k], False)
        profile.add([best.objective], [best.z])
        thr = problem.threshold(best.objective, how.delta)
        bisect_edges(profile, thr, how.edge_bisections, how.new_points)
        k = int(np.argmin(profile.js))
        if how.adopt_later_improvement and profile.js[k] < best.objective:
            # still beaten: report the better point, not as a converged optimum
            best = Optimum(profile.zs[k], float(profile.js[k]), False)
            thr = problem.threshold(best.objective, how.delta)
    return best, thr


def profile_crossing(x_a: float, j_a: float, x_r: float, j_r: float, thr: float) -> float:
    """Coordinate where a profile crosses ``thr`` between an accepted point a and a rejected
    neighbour r, by linear interpolation of the objective (a when r is not above a)."""
    if j_r <= j_a:
        return x_a
    frac = min(1.0, max(0.0, (thr - j_a) / (j_r - j_a)))
    return x_a + frac * (x_r - x_a)


@dataclass(frozen=True)
class ProfileSpan:
    """The accepted part of a profile sorted by its coordinate."""

    accepted: np.ndarray  # bool per profile point: J <= threshold
    lo_i: int  # first and last accepted point
    hi_i: int
    open_low: bool  # the accepted span reaches the lower / upper search bound
    open_high: bool
    multimodal: bool  # rejected points lie between accepted ones

    @property
    def n_accepted(self) -> int:
        return int(self.accepted.sum())


def profile_span(
    x_sorted: np.ndarray, j_sorted: np.ndarray, thr: float, lower: float, upper: float
) -> ProfileSpan:
    """Accepted span of a profile; the optimum is always accepted (its J sets ``thr``)."""
    accepted = j_sorted <= thr
    acc = np.flatnonzero(accepted)
    lo_i, hi_i = int(acc[0]), int(acc[-1])
    return ProfileSpan(
        accepted=accepted,
        lo_i=lo_i,
        hi_i=hi_i,
        open_low=lo_i == 0 and x_sorted[0] <= lower + BOUND_TOL,
        open_high=hi_i == x_sorted.size - 1 and x_sorted[-1] >= upper - BOUND_TOL,
        multimodal=acc.size != hi_i - lo_i + 1,
    )


def _interpolate(x: float, x_a: float, z_a: np.ndarray, x_b: float, z_b: np.ndarray) -> np.ndarray:
    """Profile optimum linearly interpolated in x between two profile points."""
    frac = 0.0 if x_b == x_a else (x - x_a) / (x_b - x_a)
    return z_a + frac * (z_b - z_a)


@dataclass(frozen=True)
class ProfileInterval:
    """Profile-likelihood interval [lo, hi] of the first coordinate."""

    x: np.ndarray  # profile points sorted by x, their objectives and z rows
    j: np.ndarray
    z: np.ndarray
    span: ProfileSpan
    lo: float
    hi: float
    #: z rows in the accepted region: accepted profile points, every accepted evaluated
    #: point and the interpolated interval edges (their ranges bound the other parameters)
    region: np.ndarray
    flags: list[str]


def profile_interval(
    problem: FitProblem, profile: Profile, thr: float, name: str
) -> ProfileInterval:
    """The accepted region {J <= thr}: its span on the profile, edges where the profile
    crosses ``thr``, widened to every evaluated point in the region. ``name`` prefixes the
    open-end flags (``{name}_interval_open_low``)."""
    x, j, z = profile.sorted()
    span = profile_span(x, j, thr, problem.lower[0], problem.upper[0])
    flags = ["profile_multimodal"] if span.multimodal else []
    lo, hi = float(x[span.lo_i]), float(x[span.hi_i])
    edges = []
    if span.lo_i > 0:
        i = span.lo_i
        lo = profile_crossing(x[i], j[i], x[i - 1], j[i - 1], thr)
        edges.append(_interpolate(lo, x[i - 1], z[i - 1], x[i], z[i]))
    if span.hi_i < x.size - 1:
        i = span.hi_i
        hi = profile_crossing(x[i], j[i], x[i + 1], j[i + 1], thr)
        edges.append(_interpolate(hi, x[i], z[i], x[i + 1], z[i + 1]))
    if span.open_low:
        flags.append(f"{name}_interval_open_low")
    if span.open_high:
        flags.append(f"{name}_interval_open_high")
    region = np.vstack([z[span.accepted], problem.accepted(thr)] + [e[None, :] for e in edges])
    lo = min(lo, float(region[:, 0].min()))
    hi = max(hi, float(region[:, 0].max()))
    return ProfileInterval(x, j, z, span, lo, hi, region, flags)


def profile_correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson correlation along accepted profile points; None with fewer than
    ``MIN_POINTS_FOR_CORRELATION`` points or no spread in either coordinate."""
    if x.size < MIN_POINTS_FOR_CORRELATION or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


# --- statuses and results ---------------------------------------------------------------


#: What each status beyond ``ok`` means (both fits; docs/mapping.md).
STATUS_RULES = {
    "never_fires": "the HH cell fires at no step amplitude and not at rest",
    "block_at_rest": "the HH cell fires at rest, then sits depolarised and silent (block)",
    "onset_only": "the HH cell fires only onset spikes at every amplitude; the model does not "
    "reproduce that (a LIF never can: under constant drive it fires periodically or not at all)",
    "spontaneous_only": "the HH cell fires at rest and at no positive step amplitude",
    "poor_fit": "objective per fitted point above goodness_of_fit.max_objective_per_point",
    "onset_only_reproduced": "an onset-only HH cell whose MTC fit also fires only onset spikes "
    "(at most the HH cell's most spikes per fitted sweep, some sweep firing, silent at rest)",
    "param_at_bound": "a fitted parameter lies on its search bound (listed in at_bound): the "
    "optimum may lie beyond it",
    "depolarisation_block": "block sweeps left out of the fit (a LIF or MTC cannot block)",
}


def status_order(unidentified: str) -> tuple[str, ...]:
    """Statuses in order of precedence (the first that applies is the fit's status);
    ``unidentified`` names the fit's flag for a profiled parameter the data leave loose."""
    return (
        "never_fires",
        "block_at_rest",
        "onset_only",
        "spontaneous_only",
        "poor_fit",
        "onset_only_reproduced",
        "param_at_bound",
        unidentified,
        "depolarisation_block",
        "ok",
    )


def usable_statuses(unidentified: str, use_poor_fits: bool = False) -> tuple[str, ...]:
    """Statuses whose fitted parameters downstream stages use (``poor_fit`` only when
    ``goodness_of_fit.use_poor_fits``)."""
    usable = ("ok", "depolarisation_block", unidentified, "param_at_bound", "onset_only_reproduced")
    return (*usable, "poor_fit") if use_poor_fits else usable


def at_bound(
    z: np.ndarray, lower: np.ndarray, upper: np.ndarray, names: Iterable[str]
) -> list[dict[str, Any]]:
    """The fitted coordinates lying on a search bound: parameter, side (low | high), value.

    A coordinate named ``ln_x`` is reported as ``x`` = exp(value) (its bound likewise).
    """
    found = []
    for name, value, lo, hi in zip(names, z, lower, upper, strict=True):
        tol = AT_BOUND_RTOL * float(hi - lo)
        side = "low" if value <= lo + tol else "high" if value >= hi - tol else None
        if side is None:
            continue
        bound = float(lo if side == "low" else hi)
        if name.startswith(LOG_PREFIX):
            name, bound = name[len(LOG_PREFIX) :], float(np.exp(bound))
        found.append({"parameter": name, "side": side, "bound": bound})
    return found


@dataclass(frozen=True)
class Judgement:
    """Goodness of fit and bounds of one fit: its extra status flags and record fields."""

    objective_per_point: float
    poor: bool
    at_bound: list[dict[str, Any]]

    @property
    def flags(self) -> list[str]:
        return (["poor_fit"] if self.poor else []) + (["param_at_bound"] if self.at_bound else [])


def judge(
    targets: FitTargets,
    objective: float,
    z: np.ndarray,
    problem: FitProblem,
    names: Iterable[str],
    cfg: GoodnessOfFitConfig,
) -> Judgement:
    """Objective per fitted point against ``cfg.max_objective_per_point``; coordinates on a
    bound of ``problem``."""
    per_point = targets.objective_per_point(objective)
    return Judgement(
        objective_per_point=per_point,
        poor=per_point > cfg.max_objective_per_point,
        at_bound=at_bound(z, problem.lower, problem.upper, names),
    )


def fit_status(
    targets: FitTargets, flags: Iterable[str], converged: bool, order: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """(status, all flags sorted): the fit's ``flags``, the data's own flags
    (``data_status_flags``) and ``not_converged``; the status is the first of ``order``
    among them."""
    found = set(flags) | data_status_flags(targets)
    if "onset_only_reproduced" in found:
        found.discard("onset_only")
    if not converged:
        found.add("not_converged")
    status = next((s for s in order if s in found), "ok")
    return status, tuple(sorted(found))


@dataclass(frozen=True, kw_only=True)
class FitReport:
    """What every fit reports beside its parameters (the LIF and MTC results extend it)."""

    condition: str
    status: str
    status_flags: tuple[str, ...]
    objective: float
    converged: bool
    n_evaluations: int
    intervals: dict[str, Any]
    tradeoff: dict[str, Any]
    residuals: dict[str, Any]
    fit_data: dict[str, Any]
    settings: dict[str, Any]
    judgement: Judgement

    def report_dict(self, method: Mapping[str, str]) -> dict[str, Any]:
        """The shared part of the fit's JSON (``method`` describes how it was fitted)."""
        return {
            "condition": self.condition,
            "status": self.status,
            "status_flags": list(self.status_flags),
            "objective": self.objective,
            "objective_per_point": self.judgement.objective_per_point,
            "at_bound": self.judgement.at_bound,
            "status_rules": {f: STATUS_RULES[f] for f in self.status_flags if f in STATUS_RULES},
            "converged": self.converged,
            "n_evaluations": self.n_evaluations,
            "method": dict(method),
            "intervals": self.intervals,
            "tradeoff": self.tradeoff,
            "residuals": self.residuals,
            "fit_data": self.fit_data,
            "settings": self.settings,
        }
