"""The search machinery both mapping fits share (bridge.mapping.search), on objectives whose
answers are known in closed form: a parabola's profile interval, the profile's edge
bisection and restart rule, the pattern search, and the status precedence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bridge.config import MappingConfig, load_config
from bridge.mapping import search
from bridge.mapping.objective import StepWindow, fit_targets
from bridge.mapping.synthetic_tables import lif_fi_table

#: J(x, y) = CURVATURE * (x - X0)^2 + (y - x)^2: the profile over x is CURVATURE * (x - X0)^2
CURVATURE, X0 = 4.0, 1.0
DELTA = 3.84
#: residuals the closed-form objective stands for (N in the acceptance threshold)
N_POINTS = 12


class Parabola(search.FitProblem):
    """Two coordinates on [-5, 5]; the objective in closed form, logged like a fit's."""

    def __init__(self) -> None:
        super().__init__(targets=None)  # no HH data: the objective is closed-form
        self.lower = np.array([-5.0, -5.0])
        self.upper = np.array([5.0, 5.0])

    def evaluate(self, z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(np.asarray(z, dtype=float))
        values = CURVATURE * (z[:, 0] - X0) ** 2 + (z[:, 1] - z[:, 0]) ** 2
        self.n_evaluations += z.shape[0]
        self._log_z.append(z.copy())
        self._log_j.append(values)
        return values

    def threshold(self, j_min: float, delta: float) -> float:
        return search.acceptance_threshold(j_min, N_POINTS, self.n_params, delta)


def profile_on(problem: Parabola, xs: np.ndarray) -> search.Profile:
    """The exact profile (y re-minimised: y = x) at the given x, evaluated and logged."""
    zs = np.column_stack([xs, xs])
    return search.Profile(list(problem.evaluate(zs)), list(zs))


def test_profile_interval_of_a_parabola() -> None:
    problem = Parabola()
    profile = profile_on(problem, np.linspace(-5.0, 5.0, 21))
    iv = search.profile_interval(problem, profile, DELTA, "x")
    # edges: J interpolated linearly between the last accepted grid point (J 1, 0.5 from X0)
    # and the first rejected one (J 4, 1.0 from X0)
    reach = 0.5 + 0.5 * (DELTA - 1.0) / (4.0 - 1.0)
    assert iv.lo == pytest.approx(X0 - reach) and iv.hi == pytest.approx(X0 + reach)
    assert reach == pytest.approx(math.sqrt(DELTA / CURVATURE), abs=0.01)
    assert not iv.span.open_low and not iv.span.open_high and iv.flags == []
    # the region holds every accepted evaluated point and the two interpolated edges
    assert iv.region.shape[0] == 2 * iv.span.n_accepted + 2
    assert np.all(problem.evaluate(iv.region[:-2]) <= DELTA)


def test_open_and_multimodal_profiles_are_flagged() -> None:
    problem = Parabola()
    profile = profile_on(problem, np.linspace(-5.0, 5.0, 21))
    iv = search.profile_interval(problem, profile, 1e3, "x")
    assert iv.span.open_low and iv.span.open_high
    assert iv.flags == ["x_interval_open_low", "x_interval_open_high"]
    assert (iv.lo, iv.hi) == (-5.0, 5.0)
    # a rejected point between accepted ones (a second minimum)
    profile.add([1e4], [np.array([X0 + 0.25, 50.0])])
    iv = search.profile_interval(problem, profile, DELTA, "x")
    assert "profile_multimodal" in iv.flags


def test_profile_keeps_the_best_point_per_coordinate_only_when_asked() -> None:
    zs = [np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([1.0, 2.0])]
    x, j, z = search.Profile([5.0, 1.0, 3.0], zs, best_per_x=True).sorted()
    assert x.tolist() == [0.0, 1.0] and j.tolist() == [1.0, 3.0]
    assert z[1].tolist() == [1.0, 2.0]
    x, j, _ = search.Profile([5.0, 1.0, 3.0], zs).sorted()
    assert x.tolist() == [0.0, 1.0, 1.0] and j.tolist() == [1.0, 5.0, 3.0]  # stable order


def exact_points(
    problem: Parabola, pairs: list[tuple[int, int]], x: np.ndarray, _z: np.ndarray
) -> tuple[list[float], list[np.ndarray]]:
    mids = np.array([0.5 * (x[a] + x[r]) for a, r in pairs])
    zs = np.column_stack([mids, mids])
    return list(problem.evaluate(zs)), list(zs)


def test_edge_bisection_narrows_the_interval_to_the_exact_edges() -> None:
    coarse, fine = Parabola(), Parabola()
    grid = np.linspace(-5.0, 5.0, 11)
    thr = DELTA
    iv0 = search.profile_interval(coarse, profile_on(coarse, grid), thr, "x")
    profile = profile_on(fine, grid)
    search.bisect_edges(profile, thr, 8, lambda p, x, z: exact_points(fine, p, x, z))
    iv = search.profile_interval(fine, profile, thr, "x")
    half_width = math.sqrt(DELTA / CURVATURE)
    exact = (X0 - half_width, X0 + half_width)
    assert abs(iv.lo - exact[0]) < 0.01 and abs(iv.hi - exact[1]) < 0.01
    assert abs(iv.lo - exact[0]) < abs(iv0.lo - exact[0])
    assert len(profile.js) == grid.size + 16  # one point per edge per round


@pytest.mark.parametrize("restart_finds_it", [True, False])
def test_a_profile_point_that_beats_the_optimum_restarts_the_search(
    restart_finds_it: bool,
) -> None:
    problem = Parabola()
    profile = profile_on(problem, np.linspace(-5.0, 5.0, 21))  # holds the minimum, x = X0
    stale = search.Optimum(np.array([3.0, 3.0]), 16.0, True)
    restarts = []

    def restart(z0: np.ndarray, j0: float) -> tuple[np.ndarray, float, bool]:
        restarts.append((z0[0], j0))
        found = np.array([X0, X0]) if restart_finds_it else np.array([X0 + 0.3, X0])
        return found, float(problem.evaluate(found)[0]), True

    how = search.ProfileRefinement(
        delta=DELTA,
        edge_bisections=2,
        new_points=lambda p, x, z: exact_points(problem, p, x, z),
        restart=restart,
        adopt_later_improvement=False,
    )
    best, thr = search.refine_profile(problem, profile, stale, how)
    assert restarts == [(X0, 0.0)]  # once, from the best profile point
    # a restart that ends worse than its start keeps the start, as not converged
    assert best.objective == 0.0 and best.converged is restart_finds_it
    assert best.z.tolist() == [X0, X0]
    assert thr == search.acceptance_threshold(0.0, N_POINTS, 2, DELTA) == DELTA


def test_pattern_search_reaches_the_minimum_at_its_resolution() -> None:
    problem = Parabola()
    z0 = np.array([[-4.0, 4.0], [4.5, -4.5]])
    j0 = problem.evaluate(z0)
    step_min = np.array([1e-3, 1e-3])
    z, j, ok = search.pattern_search(problem, z0, j0, np.full((2, 2), 0.5), step_min, 200)
    assert ok.all()
    np.testing.assert_allclose(z, [[X0, X0], [X0, X0]], atol=5e-3)
    assert np.all(j < 1e-3) and np.all(j <= j0)


def test_acceptance_threshold_floors_the_variance_at_one() -> None:
    assert search.acceptance_threshold(0.0, 10, 2, DELTA) == DELTA
    assert search.acceptance_threshold(80.0, 10, 2, DELTA) == 80.0 + DELTA * 10.0


def test_status_precedence(repo_root) -> None:
    objective = MappingConfig.from_config(
        load_config([repo_root / "config" / "config.yaml"])["mapping"], "mapping"
    ).objective
    window = StepWindow(50.0, 400.0, 400.0)
    amps = np.arange(0.0, 10.001, 1.0)
    order = search.status_order("x_unidentified")
    # a LIF with a negative bias: silent at rest and on the whole grid; the top sweep blocks
    fi, summary = lif_fi_table(0.9, 1.0, -0.5, amps, window, 1.0)
    fi.loc[fi.index[-1], "block"] = True
    silent = fit_targets(fi, summary, objective, window)
    status, flags = search.fit_status(silent, ["x_unidentified"], False, order)
    assert status == "never_fires"
    assert flags == ("depolarisation_block", "never_fires", "not_converged", "x_unidentified")
    fi, summary = lif_fi_table(0.9, 30.0, 0.0, amps, window, 1.0)  # fires from ~3.5 uA/cm2
    fi.loc[fi.index[-1], "block"] = True
    fires = fit_targets(fi, summary, objective, window)
    assert search.fit_status(fires, ["x_unidentified"], True, order)[0] == "x_unidentified"
    assert search.fit_status(fires, [], True, order)[0] == "depolarisation_block"
    assert "x_unidentified" in search.usable_statuses("x_unidentified")
