"""Fit a discrete LIF (snntorch semantics, ``lif_model``) to one condition's f-I data.

Parameters: beta (reported with tau = -dt/ln beta in ms), the bias b (threshold units per
step) and the input gain w (per nA; fitted on the reference condition, then held fixed).
The optimiser works in (ln tau, [ln w], c), c a drive coordinate pinned by its own data at a
fixed tau (see ``_Problem``): the LIF's rheobase in nA for a cell silent at rest, the log of
its resting interspike interval for a cell firing at rest. b and w themselves trade off along
a narrow ridge.

Method (recorded in every result as ``method``): the objective is evaluated on the exact
discrete spike counts (piecewise constant in the parameters; no smooth surrogate, so the
fitted LIF is the one the networks run); latencies are read continuously by interpolating the
threshold crossing inside its step. It is minimised without derivatives:

1. a vectorised grid over tau (the profile grid) x w x c (a linear grid plus the values the
   data point at), refined per tau by zoomed grids over w and c -> the profile J(tau);
2. scipy.optimize.minimize(method="Nelder-Mead", bounds) from the ``n_starts`` best profile
   points (deterministic starts), in coordinates scaled to the data resolution; a profile
   point that beats the result restarts it once;
3. intervals: the accepted region {J <= J_min + delta * max(1, J_min / (N - p))} (the
   profile-likelihood rule, residual variance estimated from the fit and floored at the
   objective's own scale). The tau edges come from the profile over tau, bisected and
   interpolated; every evaluated point inside the region widens the ranges of tau, w, b and
   the rheobase. A tau ratio hi/lo above ``max_tau_ratio`` sets ``beta_unidentified``.

Status (the first of ``STATUS_ORDER`` that applies; all of them in ``status_flags``):
``never_fires`` (no spike in any fitted sweep, silent at rest), ``spontaneous_only`` (fires at
rest, no fitted sweep with positive current fires), ``beta_unidentified``,
``depolarisation_block`` (block sweeps left out, fit otherwise fine), ``ok``. Downstream use
follows ``DOWNSTREAM_RULE``; every result has all fields, finite or null, never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from bridge.mapping.analytic import AnalyticBeta, MembraneBeta, beta_analytic, beta_membrane
from bridge.mapping.lif_model import (
    THRESHOLD,
    beta_from_tau,
    simulate_steps,
    spontaneous_count,
    tau_from_beta,
)
from bridge.mapping.settings import LifFitSettings, MappingSettings, mapping_settings
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

#: Statuses in order of precedence (the first that applies is ``status``).
STATUS_ORDER = (
    "never_fires",
    "spontaneous_only",
    "beta_unidentified",
    "depolarisation_block",
    "ok",
)
#: Statuses whose (beta_fit, bias_fit, w) downstream stages use.
USABLE_STATUSES = ("ok", "depolarisation_block", "beta_unidentified")
DOWNSTREAM_RULE = (
    "use beta_fit, bias_fit (with w_per_nA), beta_syn and alpha_syn when use_downstream is "
    "true, i.e. status in {ok, depolarisation_block, beta_unidentified}; with "
    "beta_unidentified the (beta, bias) pair reproduces the f-I curve but beta alone is not "
    "comparable across conditions; with never_fires or spontaneous_only skip the condition's "
    "LIF mapping (the data do not constrain the input response)"
)
METHOD = {
    "objective": "sum of weight * (residual / scale)^2 over rates, latencies, spontaneous rate",
    "rates": "exact discrete spike counts of the LIF (piecewise constant in the parameters)",
    "latency": "threshold crossing interpolated linearly inside its step (continuous)",
    "optimiser": "derivative-free: vectorised grid + zoomed profile grids, then "
    "scipy.optimize.minimize(method='Nelder-Mead', bounds) from the best profile points",
    "coordinates": "ln tau_ms, ln w_per_nA (when free), and rheobase_nA for a cell silent at "
    "rest or ln of the resting interspike interval (steps, continuous-time limit) for a cell "
    "firing at rest",
    "interval": "profile of the objective over tau (other parameters re-minimised); "
    "accepted where J <= J_min + delta * max(1, J_min / (N - p))",
}
SYNAPSE_ALPHA_REASON = (
    "a current-clamped single cell has no synapse to constrain the synaptic current decay"
)
#: Profile points needed for a correlation between parameters along the trade-off.
#: Chunk of (parameter sets x amplitudes) simulated at once (bounds memory to ~100 MB).
SIM_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class LifFitResult:
    """Everything the mapping JSON needs for the LIF part of one condition."""

    condition: str
    dt_ms: float
    status: str
    status_flags: tuple[str, ...]
    use_downstream: bool
    beta_analytic: AnalyticBeta
    beta_membrane: MembraneBeta
    beta_fit: float
    tau_fit_ms: float
    bias_fit: float
    w_per_nA: float
    w_source: str
    rheobase_fit_nA: float
    alpha_syn: float
    objective: float
    converged: bool
    n_evaluations: int
    intervals: dict[str, Any]
    tradeoff: dict[str, Any]
    residuals: dict[str, Any]
    fit_data: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (floats finite or None; key order irrelevant, writers sort)."""
        return {
            "condition": self.condition,
            "dt_ms": self.dt_ms,
            "lif_model": "snntorch Leaky: U <- beta*U + w*I + b - S_prev*theta, "
            "S = U > theta, theta = 1, reset by subtraction one step late",
            "threshold": THRESHOLD,
            "status": self.status,
            "status_flags": list(self.status_flags),
            "use_downstream": self.use_downstream,
            "downstream_rule": DOWNSTREAM_RULE,
            "beta_analytic": self.beta_analytic.beta,
            "beta_analytic_label": self.beta_analytic.to_dict(),
            "beta_membrane": self.beta_membrane.beta,
            "beta_membrane_detail": self.beta_membrane.to_dict(),
            "beta_fit": self.beta_fit,
            "tau_fit_ms": self.tau_fit_ms,
            "bias_fit": self.bias_fit,
            "bias_unit": "threshold units per step (added to w*I at every step)",
            "w_per_nA": self.w_per_nA,
            "w_source": self.w_source,
            "rheobase_fit_nA": self.rheobase_fit_nA,
            "alpha_syn": self.alpha_syn,
            "alpha_source": "fixed",
            "alpha_reason": SYNAPSE_ALPHA_REASON,
            "beta_syn": self.beta_fit,
            "beta_syn_source": "beta_fit",
            "objective": self.objective,
            "converged": self.converged,
            "n_evaluations": self.n_evaluations,
            "method": dict(METHOD),
            "intervals": self.intervals,
            "tradeoff": self.tradeoff,
            "residuals": self.residuals,
            "fit_data": self.fit_data,
            "settings": self.settings,
        }


@dataclass(frozen=True)
class ReferenceGain:
    """Input gain fitted on the reference condition, with the fit it came from."""

    condition: str
    w_per_nA: float
    status: str
    result: LifFitResult


class _Problem:
    """Objective over internal coordinates z = (ln tau, [ln w], c), vectorised over rows.

    The drive coordinate c is chosen so that, at a fixed tau, it is pinned by its own data:

    * cell silent at rest: c = the LIF's rheobase in nA, I_rh = (THRESHOLD (1 - beta) - b) / w
      (pinned by where the HH count turns non-zero);
    * cell firing at rest: c = ln of the resting interspike interval, in steps, that the
      resting drive gives in the continuous-time limit, b = THRESHOLD (1 - beta) / (1 -
      beta^exp(c)) (pinned by the spontaneous rate; the LIF then fires at rest too).
    """

    def __init__(
        self, targets: FitTargets, settings: MappingSettings, w_fixed: float | None
    ) -> None:
        self.targets = targets
        self.dt_ms = settings.dt_ms
        self.lif: LifFitSettings = settings.lif
        self.w_fixed = w_fixed
        self.n_delay, self.n_step, self.n_spont = targets.window.n_steps(settings.dt_ms)
        self.amps = targets.fit_amp_nA
        self.n_evaluations = 0
        self._log_z: list[np.ndarray] = []
        self._log_j: list[np.ndarray] = []
        self.rest_coordinate = targets.spontaneous and targets.spontaneous_rate_hz > 0
        amp_all = targets.amp_nA
        if self.rest_coordinate:
            self.c_bounds = (0.0, math.log(self.n_spont))
            n_spont_hh = targets.spontaneous_rate_hz * targets.window.spontaneous_ms / MS_PER_S
            #: one spike more or less in the spontaneous run changes ln ISI by 1/count
            self.c_scale = 1.0 / max(1.0, n_spont_hh)
        else:
            margin = self.lif.rheobase_margin * float(amp_all[-1] - amp_all[0])
            self.c_bounds = (float(amp_all[0] - margin), float(amp_all[-1] + margin))
            #: data resolution of the rheobase: the median amplitude spacing, in nA
            self.c_scale = float(np.median(np.diff(amp_all)))
        lo = [math.log(self.lif.tau_bounds_ms[0])]
        hi = [math.log(self.lif.tau_bounds_ms[1])]
        if w_fixed is None:
            lo.append(math.log(self.lif.w_bounds_per_nA[0]))
            hi.append(math.log(self.lif.w_bounds_per_nA[1]))
        lo.append(self.c_bounds[0])
        hi.append(self.c_bounds[1])
        self.lower = np.array(lo)
        self.upper = np.array(hi)
        self.scale = np.ones(self.lower.size)
        self.scale[-1] = self.c_scale

    @property
    def coordinate_name(self) -> str:
        return "ln_rest_isi_steps" if self.rest_coordinate else "rheobase_nA"

    def c_candidates(self, n_linear: int) -> np.ndarray:
        """Linear grid over the c bounds plus the values the data point at."""
        grid = list(np.linspace(*self.c_bounds, n_linear))
        t = self.targets
        if self.rest_coordinate:
            grid.append(math.log(MS_PER_S / (t.spontaneous_rate_hz * self.dt_ms)))
        else:
            amps = t.fit_amp_nA
            fires = t.spike_count[t.in_fit] > 0
            for i in range(amps.size - 1):
                if fires[i] != fires[i + 1]:
                    grid.append(0.5 * (amps[i] + amps[i + 1]))
        return np.unique(np.clip(np.array(grid), *self.c_bounds))

    @property
    def n_params(self) -> int:
        return int(self.lower.size)

    def params(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(beta, w_per_nA, bias) for rows of z."""
        z = np.atleast_2d(z)
        beta = beta_from_tau(np.exp(z[:, 0]), self.dt_ms)
        w = np.full(z.shape[0], self.w_fixed) if self.w_fixed is not None else np.exp(z[:, 1])
        if self.rest_coordinate:
            bias = THRESHOLD * (1.0 - beta) / -np.expm1(np.exp(z[:, -1]) * np.log(beta))
        else:
            bias = THRESHOLD * (1.0 - beta) - w * z[:, -1]
        return beta, w, bias

    def rheobase_nA(self, z: np.ndarray) -> np.ndarray:
        """The LIF's rheobase (I_rh = (THRESHOLD (1 - beta) - b) / w) for rows of z."""
        beta, w, bias = self.params(z)
        return (THRESHOLD * (1.0 - beta) - bias) / w

    def response(
        self, z: np.ndarray, amps_nA: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rate_hz [rows, amps], latency_ms [rows, amps], spontaneous rate_hz [rows])."""
        beta, w, bias = self.params(z)
        n_rows = beta.size
        chunk = max(1, SIM_CHUNK_ELEMENTS // max(1, amps_nA.size))
        rates = np.empty((n_rows, amps_nA.size))
        lats = np.empty((n_rows, amps_nA.size))
        for start in range(0, n_rows, chunk):
            sl = slice(start, start + chunk)
            resp = simulate_steps(
                beta[sl], w[sl], bias[sl], amps_nA, self.n_delay, self.n_step, self.dt_ms
            )
            rates[sl] = self.targets.rate_hz_from_counts(resp.spike_count)
            lats[sl] = resp.first_latency_ms
        spont = spontaneous_count(beta, bias, self.n_spont) * MS_PER_S
        spont = spont / self.targets.window.spontaneous_ms
        return rates, lats, spont

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """Objective for rows of z; every evaluated point is logged for the intervals."""
        z = np.atleast_2d(z)
        self.n_evaluations += z.shape[0]
        rates, lats, spont = self.response(z, self.amps)
        values = self.targets.objective_value(rates, lats, spont)
        self._log_z.append(z.copy())
        self._log_j.append(values.copy())
        return values

    def accepted(self, threshold: float) -> np.ndarray:
        """All evaluated points with objective <= threshold (rows of z)."""
        z = np.vstack(self._log_z)
        return z[np.concatenate(self._log_j) <= threshold]


def _inner_grid(problem: _Problem) -> np.ndarray:
    """Coarse grid over the coordinates other than ln tau: rows of ([ln w], c)."""
    c_cand = problem.c_candidates(problem.lif.start_grid_points)
    if problem.w_fixed is not None:
        return c_cand.reshape(-1, 1)
    ln_w = np.linspace(problem.lower[1], problem.upper[1], problem.lif.start_grid_points)
    lw, rh = np.meshgrid(ln_w, c_cand, indexing="ij")
    return np.column_stack([lw.ravel(), rh.ravel()])


def _zoom(
    problem: _Problem,
    ln_tau: np.ndarray,
    best_inner: np.ndarray,
    best_val: np.ndarray,
    half: np.ndarray,
    rounds: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Zoomed grids over the inner coordinates around ``best_inner`` (one row per tau)."""
    n_tau = ln_tau.size
    n_pts = problem.lif.profile_inner_points
    lo_in, hi_in = problem.lower[1:], problem.upper[1:]
    n_in = lo_in.size
    offsets_1d = np.linspace(-1.0, 1.0, n_pts)
    mesh = np.meshgrid(*([offsets_1d] * n_in), indexing="ij")
    offsets = np.column_stack([m.ravel() for m in mesh])
    best_inner = best_inner.copy()
    best_val = best_val.copy()
    half = np.broadcast_to(half, (n_tau, n_in)).copy()
    for _ in range(rounds):
        cand = best_inner[:, None, :] + offsets[None, :, :] * half[:, None, :]
        cand = np.clip(cand, lo_in, hi_in)
        z = np.column_stack([np.repeat(ln_tau, offsets.shape[0]), cand.reshape(-1, n_in)])
        values = problem.evaluate(z).reshape(n_tau, offsets.shape[0])
        idx = np.argmin(values, axis=1)
        better = values[np.arange(n_tau), idx] < best_val
        best_inner[better] = cand[better, idx[better]]
        best_val = np.where(better, values[np.arange(n_tau), idx], best_val)
        half = half * 2.0 / (n_pts - 1)
    return best_val, np.column_stack([ln_tau, best_inner])


def _profile_at(
    problem: _Problem, ln_tau: np.ndarray, inner_grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise over the inner coordinates at each ln tau: coarse grid, then zoomed grids.

    Returns (objective [n_tau], best z [n_tau, n_params]).
    """
    n_tau = ln_tau.size
    n_in = inner_grid.shape[0]
    z = np.column_stack([np.repeat(ln_tau, n_in), np.tile(inner_grid, (n_tau, 1))])
    values = problem.evaluate(z).reshape(n_tau, n_in)
    best_idx = np.argmin(values, axis=1)
    best_val = values[np.arange(n_tau), best_idx]
    # initial half-width: the coarse spacing of each inner coordinate
    half = [
        max(float(np.max(np.diff(np.unique(inner_grid[:, k])), initial=0.0)), problem.scale[k + 1])
        for k in range(inner_grid.shape[1])
    ]
    return _zoom(
        problem,
        ln_tau,
        inner_grid[best_idx],
        best_val,
        np.array(half),
        problem.lif.profile_zoom_rounds,
    )


def _nelder_mead(problem: _Problem, z0: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Bounded Nelder-Mead in coordinates scaled to the data resolution."""
    lif = problem.lif
    scale = problem.scale
    lo, hi = problem.lower / scale, problem.upper / scale
    x0 = np.clip(z0 / scale, lo, hi)
    step = np.empty(x0.size)
    tau_grid_step = (hi[0] - lo[0]) / max(1, lif.profile_points - 1)
    step[0] = 0.5 * tau_grid_step
    if problem.w_fixed is None:
        step[1] = 0.5 * (hi[1] - lo[1]) / max(1, lif.start_grid_points - 1)
    step[-1] = 1.0  # one amplitude spacing
    simplex = np.vstack([x0] + [x0 + np.eye(x0.size)[i] * step[i] for i in range(x0.size)])
    # a vertex pushed past a bound goes the other way so the simplex stays non-degenerate
    for i in range(1, simplex.shape[0]):
        j = i - 1
        if simplex[i, j] > hi[j]:
            simplex[i, j] = x0[j] - step[j]
    simplex = np.clip(simplex, lo, hi)

    def fun(x: np.ndarray) -> float:
        return float(problem.evaluate((x * scale)[None, :])[0])

    res = minimize(
        fun,
        x0,
        method="Nelder-Mead",
        bounds=list(zip(lo, hi, strict=True)),
        options={
            "maxiter": lif.nm_max_iter,
            "xatol": lif.nm_xatol,
            "fatol": lif.nm_fatol,
            "initial_simplex": simplex,
        },
    )
    return np.clip(res.x, lo, hi) * scale, float(res.fun), bool(res.success)


def _interp_z(
    ln_tau: float, ln_a: float, z_a: np.ndarray, ln_b: float, z_b: np.ndarray
) -> np.ndarray:
    """Profile optimum linearly interpolated in ln tau between two profile points."""
    frac = 0.0 if ln_b == ln_a else (ln_tau - ln_a) / (ln_b - ln_a)
    return z_a + frac * (z_b - z_a)


def _settings_record(settings: MappingSettings) -> dict[str, Any]:
    record = settings.to_dict()
    return {k: record[k] for k in ("dt_ms", "reference_condition", "objective", "lif")}


def fit_lif_condition(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    mapping_cfg: Mapping[str, Any],
    w_fixed: float | None,
    *,
    window: StepWindow,
    w_source: str | None = None,
) -> LifFitResult:
    """Fit beta and the bias (and w when ``w_fixed`` is None) to one condition's HH f-I data.

    ``fi`` is the HH stage's fi_curve.csv, ``summary`` its summary.json, ``mapping_cfg`` the
    config's ``mapping`` section, ``window`` the HH protocol timing
    (``step_window_from_config``). ``w_source`` is recorded as where a fixed w came from.
    """
    settings = mapping_settings(mapping_cfg)
    targets = fit_targets(fi, summary, settings.objective, window)
    if targets.amp_nA.size < 2:
        raise ValueError(f"fi_curve.csv of {targets.condition!r}: needs at least 2 amplitudes")
    if w_fixed is not None and not (math.isfinite(w_fixed) and w_fixed > 0):
        raise ValueError(f"w_fixed = {w_fixed!r}: expected a finite gain > 0 per nA")
    gnabar = summary["params"].get("gnabar") if isinstance(summary["params"], Mapping) else None
    if gnabar is None:
        raise ValueError("summary.json: key 'params.gnabar' is missing")
    analytic = beta_analytic(float(gnabar))
    membrane = beta_membrane(
        summary["tau_m_ms"], settings.dt_ms, summary.get("tau_m_reason") or None
    )
    problem = _Problem(targets, settings, w_fixed)
    lif = settings.lif

    # 1. profile grid over tau with the inner coordinates minimised on zoomed grids
    ln_tau_grid = np.linspace(problem.lower[0], problem.upper[0], lif.profile_points)
    inner = _inner_grid(problem)
    prof_j, prof_z = _profile_at(problem, ln_tau_grid, inner)

    # 2. Nelder-Mead from the best profile points (stable order: ties keep grid order)
    order = np.argsort(prof_j, kind="stable")[: lif.n_starts]
    best_z, best_j, best_ok = prof_z[order[0]], float(prof_j[order[0]]), False
    for idx in order:
        z, j, ok = _nelder_mead(problem, prof_z[idx])
        if j < best_j or (j == best_j and not best_ok):
            best_z, best_j, best_ok = z, j, ok
    converged = best_ok

    # 3. profile interval with edge bisection; a profile point better than the optimum
    #    restarts Nelder-Mead from it (once)
    ln_taus = list(ln_tau_grid) + [float(best_z[0])]
    js = list(prof_j) + [best_j]
    zs = list(prof_z) + [best_z]
    for attempt in range(2):
        thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, lif.profile_delta)
        ln_taus, js, zs = _refine_edges(problem, ln_taus, js, zs, thr)
        k = int(np.argmin(js))
        if js[k] < best_j and attempt == 0:
            z, j, ok = _nelder_mead(problem, zs[k])
            if j <= js[k]:
                best_z, best_j, converged = z, j, ok
            else:
                best_z, best_j, converged = zs[k], js[k], False
            ln_taus.append(float(best_z[0]))
            js.append(best_j)
            zs.append(best_z)
            continue
        break
    thr = acceptance_threshold(best_j, targets.n_points, problem.n_params, lif.profile_delta)
    intervals, tradeoff, flags = _intervals(problem, ln_taus, js, zs, thr)

    beta_b, w_b, bias_b = (float(v[0]) for v in problem.params(best_z[None, :]))
    tau_b = float(tau_from_beta(beta_b, settings.dt_ms))
    residuals = _residual_table(problem, best_z)
    status, flags = _status(targets, intervals, flags, converged, lif.max_tau_ratio)
    if w_fixed is None:
        source = "fitted on this condition"
    else:
        source = w_source or "fixed (given)"
    fit_data = {
        "n_amplitudes": int(targets.amp_nA.size),
        "n_rate_points": int(targets.in_fit.sum()),
        "n_latency_points": int(targets.latency_in_fit.sum()),
        "n_excluded_block": targets.n_excluded_block,
        "excluded_rule": "sweeps flagged block and every amplitude at or above the first "
        "block (or summary block_onset_uA_cm2) are left out: a LIF cannot block",
        "latency_rule": "latencies enter where the HH sweep has >= latency_min_spikes spikes "
        "and the cell is silent at rest; a LIF sweep without a spike is censored at the "
        "window length",
        "spontaneous": targets.spontaneous,
        "spontaneous_rate_hh_hz": targets.spontaneous_rate_hz,
        "n_points": targets.n_points,
        "n_params": problem.n_params,
        "window": {
            "delay_ms": targets.window.delay_ms,
            "duration_ms": targets.window.duration_ms,
            "spontaneous_ms": targets.window.spontaneous_ms,
        },
        "drive_coordinate": problem.coordinate_name,
        "drive_coordinate_bounds": list(problem.c_bounds),
    }
    return LifFitResult(
        condition=targets.condition,
        dt_ms=settings.dt_ms,
        status=status,
        status_flags=flags,
        use_downstream=status in USABLE_STATUSES,
        beta_analytic=analytic,
        beta_membrane=membrane,
        beta_fit=beta_b,
        tau_fit_ms=tau_b,
        bias_fit=bias_b,
        w_per_nA=w_b,
        w_source=source,
        rheobase_fit_nA=float(problem.rheobase_nA(best_z[None, :])[0]),
        alpha_syn=settings.alpha_syn,
        objective=best_j,
        converged=converged,
        n_evaluations=problem.n_evaluations,
        intervals=intervals,
        tradeoff=tradeoff,
        residuals=residuals,
        fit_data=fit_data,
        settings=_settings_record(settings),
    )


def _refine_edges(
    problem: _Problem,
    ln_taus: list[float],
    js: list[float],
    zs: list[np.ndarray],
    thr: float,
) -> tuple[list[float], list[float], list[np.ndarray]]:
    """Bisect between the outermost accepted profile points and their rejected neighbours.

    The inner search at a new tau zooms from the mean of the two neighbours' inner optima,
    over a box as wide as their difference.
    """
    for _ in range(problem.lif.profile_edge_bisections):
        order = np.argsort(ln_taus, kind="stable")
        lt = np.asarray(ln_taus)[order]
        jv = np.asarray(js)[order]
        zv = np.asarray(zs)[order]
        pairs = profile_edge_pairs(jv, thr)
        if not pairs:
            break
        mids = np.array([0.5 * (lt[a] + lt[r]) for a, r in pairs])
        centre = np.array([0.5 * (zv[a, 1:] + zv[r, 1:]) for a, r in pairs])
        half = np.array([np.abs(zv[a, 1:] - zv[r, 1:]) for a, r in pairs])
        half = np.maximum(half, problem.scale[1:] * problem.lif.nm_xatol)
        start = problem.evaluate(np.column_stack([mids, centre]))
        new_j, new_z = _zoom(problem, mids, centre, start, half, problem.lif.profile_zoom_rounds)
        ln_taus = ln_taus + mids.tolist()
        js = js + [float(v) for v in new_j]
        zs = zs + list(new_z)
    return ln_taus, js, zs


def _intervals(
    problem: _Problem,
    ln_taus: list[float],
    js: list[float],
    zs: list[np.ndarray],
    thr: float,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    order = np.argsort(ln_taus, kind="stable")
    lt = np.asarray(ln_taus)[order]
    jv = np.asarray(js)[order]
    zv = np.asarray(zs)[order]
    span = profile_span(lt, jv, thr, problem.lower[0], problem.upper[0])
    acc_mask, lo_i, hi_i = span.accepted, span.lo_i, span.hi_i
    lo_open, hi_open = span.open_low, span.open_high
    flags: list[str] = ["profile_multimodal"] if span.multimodal else []
    edges = []  # inner optima interpolated to the interval edges (for the parameter ranges)
    if lo_open or lo_i == 0:
        ln_lo = lt[0]
    else:
        ln_lo = profile_crossing(lt[lo_i], jv[lo_i], lt[lo_i - 1], jv[lo_i - 1], thr)
        edges.append(_interp_z(ln_lo, lt[lo_i - 1], zv[lo_i - 1], lt[lo_i], zv[lo_i]))
    if hi_open or hi_i == lt.size - 1:
        ln_hi = lt[-1]
    else:
        ln_hi = profile_crossing(lt[hi_i], jv[hi_i], lt[hi_i + 1], jv[hi_i + 1], thr)
        edges.append(_interp_z(ln_hi, lt[hi_i], zv[hi_i], lt[hi_i + 1], zv[hi_i + 1]))
    if lo_open:
        flags.append("tau_interval_open_low")
    if hi_open:
        flags.append("tau_interval_open_high")
    # Every evaluated point under the threshold lies in the joint acceptance region, whose
    # projection on each parameter is that parameter's profile interval: use them all.
    range_z = np.vstack([zv[acc_mask], problem.accepted(thr)] + [e[None, :] for e in edges])
    ln_lo = min(ln_lo, float(range_z[:, 0].min()))
    ln_hi = max(ln_hi, float(range_z[:, 0].max()))
    dt = problem.dt_ms
    tau_lo, tau_hi = math.exp(ln_lo), math.exp(ln_hi)
    beta, w, bias = problem.params(zv)
    rh = problem.rheobase_nA(zv)
    ok = acc_mask
    _, w_r, bias_r = problem.params(range_z)
    rh_r = problem.rheobase_nA(range_z)
    intervals: dict[str, Any] = {
        "tau_ms": [tau_lo, tau_hi],
        "tau_ratio": tau_hi / tau_lo,
        "beta": [float(beta_from_tau(tau_lo, dt)), float(beta_from_tau(tau_hi, dt))],
        "bias": [float(bias_r.min()), float(bias_r.max())],
        "rheobase_nA": [float(rh_r.min()), float(rh_r.max())],
        "w_per_nA": [float(w_r.min()), float(w_r.max())],
        "open_low": bool(lo_open),
        "open_high": bool(hi_open),
        "objective_threshold": float(thr),
        "n_accepted_evaluations": int(range_z.shape[0]),
        "rule": "accepted region {J <= J_min + delta * max(1, J_min / (N - p))}; tau edges "
        "from the profile over tau (other parameters re-minimised, edges bisected and "
        "interpolated), each range widened to every evaluated point in the region",
    }
    tradeoff: dict[str, Any] = {
        "profile": {
            "tau_ms": np.exp(lt).tolist(),
            "beta": beta.tolist(),
            "bias": bias.tolist(),
            "w_per_nA": w.tolist(),
            "rheobase_nA": rh.tolist(),
            "objective": jv.tolist(),
            "accepted": acc_mask.tolist(),
        },
        "n_accepted": span.n_accepted,
        "corr_beta_bias": profile_correlation(beta[ok], bias[ok]),
        "corr_beta_w": profile_correlation(beta[ok], w[ok]) if problem.w_fixed is None else None,
        "corr_note": f"Pearson correlation along accepted profile points (null with fewer "
        f"than {MIN_POINTS_FOR_CORRELATION} points or no spread; corr_beta_w null when w "
        "is fixed)",
    }
    return intervals, tradeoff, flags


def _residual_table(problem: _Problem, z: np.ndarray) -> dict[str, Any]:
    rates, lats, spont = problem.response(z[None, :], problem.targets.amp_nA)
    return residual_table(problem.targets, "lif", rates[0], lats[0], float(spont[0]))


def _status(
    targets: FitTargets,
    intervals: Mapping[str, Any],
    flags: list[str],
    converged: bool,
    max_tau_ratio: float,
) -> tuple[str, tuple[str, ...]]:
    found = set(flags) | data_status_flags(targets)
    if not converged:
        found.add("not_converged")
    if intervals["tau_ratio"] > max_tau_ratio:
        found.add("beta_unidentified")
    status = next((s for s in STATUS_ORDER if s in found), "ok")
    return status, tuple(sorted(found))


def fit_reference(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    mapping_cfg: Mapping[str, Any],
    *,
    window: StepWindow,
) -> ReferenceGain:
    """Fit beta, bias and the input gain w on the reference condition.

    The caller passes ``ReferenceGain.w_per_nA`` as ``w_fixed`` to every condition (and
    ``w_source=f"reference:{condition} ({status})"`` so each JSON says where w came from).
    Raises ValueError when ``summary`` is not the configured reference condition.
    """
    settings = mapping_settings(mapping_cfg)
    name = str(summary.get("condition"))
    if name != settings.reference_condition:
        raise ValueError(
            f"summary.json is for condition {name!r}, but mapping.reference_condition is "
            f"{settings.reference_condition!r}"
        )
    result = fit_lif_condition(fi, summary, mapping_cfg, None, window=window)
    return ReferenceGain(
        condition=name, w_per_nA=result.w_per_nA, status=result.status, result=result
    )
