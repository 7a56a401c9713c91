"""The LIF mapping: a float64 numpy LIF under the HH protocols, and its fit to one condition.

The neuron is the LIF whose update ``bridge.neurons.lif`` writes down (snntorch ``Leaky``,
threshold 1, reset by subtraction one step late), driven by ``x = w * I + b``: I the HH step
in nA, w the input gain per nA, b the bias in threshold units per step; one update per
``dt_ms``. It is simulated here in float64, vectorised over parameter sets (rows) and step
amplitudes (columns), as the fit evaluates millions of neurons.

The fit (``fit_lif_condition``; ``fit_reference`` also fits w) reports beta with
tau = -dt/ln(beta) in ms; docs/mapping.md explains the method, the interval and the statuses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from bridge.config.mapping import LifFitConfig, MappingConfig
from bridge.mapping import search
from bridge.mapping.analytic import AnalyticBeta, MembraneBeta, beta_analytic, beta_membrane
from bridge.mapping.objective import (
    MS_PER_S,
    FitTargets,
    StepWindow,
    fit_targets_for_model,
    reference_name,
    settings_record,
)

#: snntorch's default firing threshold; the bridge maps every condition onto it. The update
#: subtracts the boolean spike itself, which is exact only for a threshold of 1.
THRESHOLD = 1.0

# --- the neuron -------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResponse:
    """LIF response to current steps: one row per parameter set, one column per amplitude.

    ``first_latency_ms`` is the first threshold crossing after step onset, placed inside its
    step by linear interpolation of U between the two updates (a continuous reading of the
    discrete crossing; NaN where the neuron does not fire in the window).
    """

    spike_count: np.ndarray
    first_latency_ms: np.ndarray


def _as_column(values: np.ndarray | float, n_sets: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=float), (n_sets,)).reshape(n_sets, 1)


def beta_from_tau(tau_ms: np.ndarray | float, dt_ms: float) -> np.ndarray:
    """beta = exp(-dt/tau)."""
    return np.exp(-dt_ms / np.asarray(tau_ms, dtype=float))


def tau_from_beta(beta: np.ndarray | float, dt_ms: float) -> np.ndarray:
    """tau = -dt / ln(beta), in ms (beta in (0, 1))."""
    return -dt_ms / np.log(np.asarray(beta, dtype=float))


def rest_run(
    beta: np.ndarray, bias: np.ndarray, n_steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run from U = 0 with no input for ``n_steps``; return (U, last spike, spike count)."""
    beta = np.asarray(beta, dtype=float)
    bias = np.asarray(bias, dtype=float)
    u = np.zeros(beta.shape)
    spike = np.zeros(beta.shape, dtype=bool)
    count = np.zeros(beta.shape, dtype=np.int64)
    for _ in range(n_steps):
        u *= beta
        u += bias
        np.subtract(u, spike, out=u)  # reset of the previous step's spike (THRESHOLD = 1)
        np.greater(u, THRESHOLD, out=spike)
        count += spike
    return u, spike, count


def simulate_steps(
    beta: np.ndarray,
    w_per_nA: np.ndarray | float,
    bias: np.ndarray,
    amps_nA: np.ndarray,
    n_delay: int,
    n_step: int,
    dt_ms: float,
) -> StepResponse:
    """Step protocol: ``n_delay`` steps at I = 0 from U = 0, then ``n_step`` steps at each amp.

    ``beta``, ``w_per_nA`` and ``bias`` are per parameter set (broadcast to one shape);
    ``amps_nA`` is the amplitude grid. Spikes are counted in the step window only.
    """
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    n_sets = beta.size
    beta_c = beta.reshape(n_sets, 1)
    w_c = _as_column(w_per_nA, n_sets)
    b_c = _as_column(bias, n_sets)
    amps = np.asarray(amps_nA, dtype=float).reshape(1, -1)
    u0, s0, _ = rest_run(beta, b_c[:, 0], n_delay)
    shape = (n_sets, amps.shape[1])
    u = np.repeat(u0.reshape(n_sets, 1), shape[1], axis=1)
    spike = np.repeat(s0.reshape(n_sets, 1), shape[1], axis=1)
    drive = w_c * amps + b_c
    count = np.zeros(shape, dtype=np.int64)
    latency = np.full(shape, np.nan)
    pending = np.ones(shape, dtype=bool)
    u_prev = np.empty(shape)
    any_pending = True
    for k in range(1, n_step + 1):
        if any_pending:
            np.copyto(u_prev, u)
        u *= beta_c
        u += drive
        np.subtract(u, spike, out=u)  # reset of the previous step's spike (THRESHOLD = 1)
        np.greater(u, THRESHOLD, out=spike)
        count += spike
        if any_pending:
            new = spike & pending
            if new.any():
                before = u_prev[new]
                rise = u[new] - before
                # U(prev) can already exceed threshold (spike in the last rest step): frac 0.
                frac = np.clip((THRESHOLD - before) / np.where(rise > 0, rise, 1.0), 0.0, 1.0)
                latency[new] = (k - 1 + frac) * dt_ms
                pending &= ~new
                any_pending = bool(pending.any())
    return StepResponse(spike_count=count, first_latency_ms=latency)


def spontaneous_count(beta: np.ndarray, bias: np.ndarray, n_steps: int) -> np.ndarray:
    """Spikes in ``n_steps`` with no input, from U = 0 (the spontaneous run)."""
    return rest_run(np.atleast_1d(beta), np.atleast_1d(bias), n_steps)[2]


# --- the fit ----------------------------------------------------------------------------

STATUS_ORDER = search.status_order("beta_unidentified")
USABLE_STATUSES = search.usable_statuses("beta_unidentified")
DOWNSTREAM_RULE = (
    "use beta_fit, bias_fit (with w_per_nA), beta_syn and alpha_syn when use_downstream is "
    "true, i.e. status in {ok, depolarisation_block, beta_unidentified, param_at_bound} (and "
    "poor_fit when goodness_of_fit.use_poor_fits); with beta_unidentified the (beta, bias) "
    "pair reproduces the f-I curve but beta alone is not comparable across conditions; with "
    "param_at_bound see at_bound; with never_fires, block_at_rest, onset_only (a LIF cannot "
    "fire once and stop) or spontaneous_only skip the condition's LIF mapping (the data do "
    "not describe a LIF's input response), with poor_fit by default too (status_rules)"
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
#: Chunk of (parameter sets x amplitudes) simulated at once (bounds memory to ~100 MB).
SIM_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True, kw_only=True)
class LifFitResult(search.FitReport):
    """Everything the mapping JSON needs for the LIF part of one condition."""

    dt_ms: float
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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (floats finite or None; key order irrelevant, writers sort)."""
        return {
            **self.report_dict(METHOD),
            "dt_ms": self.dt_ms,
            "lif_model": "snntorch Leaky: U <- beta*U + w*I + b - S_prev*theta, "
            "S = U > theta, theta = 1, reset by subtraction one step late",
            "threshold": THRESHOLD,
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
        }


@dataclass(frozen=True)
class ReferenceGain:
    """Input gain fitted on the reference condition, with the fit it came from."""

    condition: str
    w_per_nA: float
    status: str
    result: LifFitResult


class LifProblem(search.FitProblem):
    """Objective over z = (ln tau, [ln w], c), c a drive coordinate pinned by its own data.

    * cell silent at rest: c = the LIF's rheobase in nA, I_rh = (THRESHOLD (1 - beta) - b) / w
      (pinned by where the HH count turns non-zero);
    * cell firing at rest: c = ln of the resting interspike interval, in steps, that the
      resting drive gives in the continuous-time limit, b = THRESHOLD (1 - beta) / (1 -
      beta^exp(c)) (pinned by the spontaneous rate; the LIF then fires at rest too).
    """

    model = "lif"

    def __init__(self, targets: FitTargets, cfg: MappingConfig, w_fixed: float | None) -> None:
        super().__init__(targets)
        self.dt_ms = cfg.dt_ms
        self.lif: LifFitConfig = cfg.lif
        self.w_fixed = w_fixed
        self.n_delay, self.n_step, self.n_spont = targets.window.n_steps(cfg.dt_ms)
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
        #: Nelder-Mead works in z / scale: the drive coordinate in units of its data resolution
        self.scale = np.ones(self.lower.size)
        self.scale[-1] = self.c_scale
        nm = self.lif.nelder_mead
        self.nm = search.NelderMeadSettings(self.scale, nm.max_iter, nm.xatol, nm.fatol)

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


def _inner_grid(problem: LifProblem) -> np.ndarray:
    """Coarse grid over the coordinates other than ln tau: rows of ([ln w], c)."""
    c_cand = problem.c_candidates(problem.lif.start_grid_points)
    if problem.w_fixed is not None:
        return c_cand.reshape(-1, 1)
    ln_w = np.linspace(problem.lower[1], problem.upper[1], problem.lif.start_grid_points)
    lw, rh = np.meshgrid(ln_w, c_cand, indexing="ij")
    return np.column_stack([lw.ravel(), rh.ravel()])


def _zoom(
    problem: LifProblem,
    ln_tau: np.ndarray,
    best_inner: np.ndarray,
    best_val: np.ndarray,
    half: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Zoomed grids over the inner coordinates around ``best_inner`` (one row per tau)."""
    prof = problem.lif.profile
    return search.zoom_grid(
        problem, ln_tau, best_inner, best_val, half, prof.zoom_rounds, prof.inner_points
    )


def _profile_at(problem: LifProblem, ln_tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise over the inner coordinates at each ln tau: coarse grid, then zoomed grids.

    Returns (objective [n_tau], best z [n_tau, n_params]).
    """
    inner_grid = _inner_grid(problem)
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
    return _zoom(problem, ln_tau, inner_grid[best_idx], best_val, np.array(half))


def _nelder_mead(problem: LifProblem, z0: np.ndarray) -> tuple[np.ndarray, float, bool]:
    """Bounded Nelder-Mead from z0; the simplex spans half a grid spacing per coordinate
    (one amplitude spacing for the drive coordinate)."""
    lo, hi = problem.lower / problem.scale, problem.upper / problem.scale
    step = np.empty(lo.size)
    tau_grid_step = (hi[0] - lo[0]) / max(1, problem.lif.profile.points - 1)
    step[0] = 0.5 * tau_grid_step
    if problem.w_fixed is None:
        step[1] = 0.5 * (hi[1] - lo[1]) / max(1, problem.lif.start_grid_points - 1)
    step[-1] = 1.0
    return search.nelder_mead(problem, z0, step, problem.nm)


def _edge_points(
    problem: LifProblem, pairs: list[tuple[int, int]], lt: np.ndarray, zv: np.ndarray
) -> tuple[list[float], list[np.ndarray]]:
    """Profile points halfway (in ln tau) between each edge pair: the inner search zooms
    from the mean of the two neighbours' inner optima over a box as wide as their
    difference."""
    mids = np.array([0.5 * (lt[a] + lt[r]) for a, r in pairs])
    centre = np.array([0.5 * (zv[a, 1:] + zv[r, 1:]) for a, r in pairs])
    half = np.array([np.abs(zv[a, 1:] - zv[r, 1:]) for a, r in pairs])
    half = np.maximum(half, problem.scale[1:] * problem.lif.nelder_mead.xatol)
    start = problem.evaluate(np.column_stack([mids, centre]))
    new_j, new_z = _zoom(problem, mids, centre, start, half)
    return [float(v) for v in new_j], list(new_z)


def _multistart(problem: LifProblem, prof_j: np.ndarray, prof_z: np.ndarray) -> search.Optimum:
    """Nelder-Mead from the ``n_starts`` best profile points (ties keep grid order)."""
    order = np.argsort(prof_j, kind="stable")[: problem.lif.n_starts]
    best_z, best_j, best_ok = prof_z[order[0]], float(prof_j[order[0]]), False
    for idx in order:
        z, j, ok = _nelder_mead(problem, prof_z[idx])
        if j < best_j or (j == best_j and not best_ok):
            best_z, best_j, best_ok = z, j, ok
    return search.Optimum(best_z, best_j, best_ok)


def fit_lif_condition(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    cfg: MappingConfig,
    w_fixed: float | None,
    *,
    window: StepWindow,
    w_source: str | None = None,
) -> LifFitResult:
    """Fit beta and the bias (and w when ``w_fixed`` is None) to one condition's HH f-I data.

    ``fi`` is the HH stage's fi_curve.csv, ``summary`` its summary.json, ``cfg`` the
    config's ``mapping`` section, ``window`` the HH protocol timing
    (``step_window_from_config``). ``w_source`` is recorded as where a fixed w came from.
    """
    targets = fit_targets_for_model(fi, summary, cfg.objective, window)
    if w_fixed is not None and not (math.isfinite(w_fixed) and w_fixed > 0):
        raise ValueError(f"w_fixed = {w_fixed!r}: expected a finite gain > 0 per nA")
    gnabar = summary["params"].get("gnabar") if isinstance(summary["params"], Mapping) else None
    if gnabar is None:
        raise ValueError("summary.json: key 'params.gnabar' is missing")
    analytic = beta_analytic(float(gnabar))
    membrane = beta_membrane(summary["tau_m_ms"], cfg.dt_ms, summary.get("tau_m_reason") or None)
    problem = LifProblem(targets, cfg, w_fixed)
    lif = cfg.lif
    ln_tau_grid = np.linspace(problem.lower[0], problem.upper[0], lif.profile.points)
    prof_j, prof_z = _profile_at(problem, ln_tau_grid)
    best = _multistart(problem, prof_j, prof_z)
    profile = search.Profile(list(prof_j) + [best.objective], list(prof_z) + [best.z])
    how = search.ProfileRefinement(
        delta=lif.profile.delta,
        edge_bisections=lif.profile.edge_bisections,
        new_points=partial(_edge_points, problem),
        restart=lambda z0, _j0: _nelder_mead(problem, z0),
        adopt_later_improvement=False,
    )
    best, thr = search.refine_profile(problem, profile, best, how)
    interval = search.profile_interval(problem, profile, thr, "tau")
    intervals, tradeoff = _intervals(problem, interval, thr)
    flags = list(interval.flags)
    if intervals["tau_ratio"] > lif.profile.max_tau_ratio:
        flags.append("beta_unidentified")
    names = ["ln_tau_ms", *(["ln_w_per_nA"] if w_fixed is None else []), problem.coordinate_name]
    judgement = search.judge(targets, best.objective, best.z, problem, names, cfg.goodness_of_fit)
    flags.extend(judgement.flags)
    status, flags = search.fit_status(targets, flags, best.converged, STATUS_ORDER)
    usable = search.usable_statuses("beta_unidentified", cfg.goodness_of_fit.use_poor_fits)
    beta_b, w_b, bias_b = (float(v[0]) for v in problem.params(best.z[None, :]))
    source = "fitted on this condition" if w_fixed is None else w_source or "fixed (given)"
    return LifFitResult(
        condition=targets.condition,
        dt_ms=cfg.dt_ms,
        status=status,
        status_flags=flags,
        use_downstream=status in usable,
        beta_analytic=analytic,
        beta_membrane=membrane,
        beta_fit=beta_b,
        tau_fit_ms=float(tau_from_beta(beta_b, cfg.dt_ms)),
        bias_fit=bias_b,
        w_per_nA=w_b,
        w_source=source,
        rheobase_fit_nA=float(problem.rheobase_nA(best.z[None, :])[0]),
        alpha_syn=cfg.alpha_syn,
        objective=best.objective,
        converged=best.converged,
        n_evaluations=problem.n_evaluations,
        intervals=intervals,
        tradeoff=tradeoff,
        residuals=problem.residuals(best.z),
        fit_data=_fit_data(problem),
        settings=settings_record(cfg, "lif"),
        judgement=judgement,
    )


def _fit_data(problem: LifProblem) -> dict[str, Any]:
    t = problem.targets
    return {
        **t.data_record(),
        "excluded_rule": "sweeps flagged block and every amplitude at or above the first "
        "block (or summary block_onset_uA_cm2) are left out: a LIF cannot block",
        "latency_rule": "latencies enter where the HH sweep has >= latency_min_spikes spikes "
        "and the cell is silent at rest; a LIF sweep without a spike is censored at the "
        "window length",
        "n_params": problem.n_params,
        "window": {
            "delay_ms": t.window.delay_ms,
            "duration_ms": t.window.duration_ms,
            "spontaneous_ms": t.window.spontaneous_ms,
        },
        "drive_coordinate": problem.coordinate_name,
        "drive_coordinate_bounds": list(problem.c_bounds),
    }


def _intervals(
    problem: LifProblem, iv: search.ProfileInterval, thr: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    """tau interval from the profile; bias, rheobase and w ranges over the accepted region."""
    dt = problem.dt_ms
    tau_lo, tau_hi = math.exp(iv.lo), math.exp(iv.hi)
    beta, w, bias = problem.params(iv.z)
    rh = problem.rheobase_nA(iv.z)
    ok = iv.span.accepted
    _, w_r, bias_r = problem.params(iv.region)
    rh_r = problem.rheobase_nA(iv.region)
    intervals: dict[str, Any] = {
        "tau_ms": [tau_lo, tau_hi],
        "tau_ratio": tau_hi / tau_lo,
        "beta": [float(beta_from_tau(tau_lo, dt)), float(beta_from_tau(tau_hi, dt))],
        "bias": [float(bias_r.min()), float(bias_r.max())],
        "rheobase_nA": [float(rh_r.min()), float(rh_r.max())],
        "w_per_nA": [float(w_r.min()), float(w_r.max())],
        "open_low": bool(iv.span.open_low),
        "open_high": bool(iv.span.open_high),
        "objective_threshold": float(thr),
        "n_accepted_evaluations": int(iv.region.shape[0]),
        "rule": "accepted region {J <= J_min + delta * max(1, J_min / (N - p))}; tau edges "
        "from the profile over tau (other parameters re-minimised, edges bisected and "
        "interpolated), each range widened to every evaluated point in the region",
    }
    tradeoff: dict[str, Any] = {
        "profile": {
            "tau_ms": np.exp(iv.x).tolist(),
            "beta": beta.tolist(),
            "bias": bias.tolist(),
            "w_per_nA": w.tolist(),
            "rheobase_nA": rh.tolist(),
            "objective": iv.j.tolist(),
            "accepted": ok.tolist(),
        },
        "n_accepted": iv.span.n_accepted,
        "corr_beta_bias": search.profile_correlation(beta[ok], bias[ok]),
        "corr_beta_w": search.profile_correlation(beta[ok], w[ok])
        if problem.w_fixed is None
        else None,
        "corr_note": f"Pearson correlation along accepted profile points (null with fewer "
        f"than {search.MIN_POINTS_FOR_CORRELATION} points or no spread; corr_beta_w null when "
        "w is fixed)",
    }
    return intervals, tradeoff


def fit_reference(
    fi: pd.DataFrame,
    summary: Mapping[str, Any],
    cfg: MappingConfig,
    *,
    window: StepWindow,
) -> ReferenceGain:
    """Fit beta, bias and the input gain w on the reference condition.

    The caller passes ``ReferenceGain.w_per_nA`` as ``w_fixed`` to every condition (and
    ``w_source=f"reference:{condition} ({status})"`` so each JSON says where w came from).
    Raises ValueError when ``summary`` is not the configured reference condition.
    """
    name = reference_name(summary, cfg.reference_condition)
    result = fit_lif_condition(fi, summary, cfg, None, window=window)
    return ReferenceGain(
        condition=name, w_per_nA=result.w_per_nA, status=result.status, result=result
    )
