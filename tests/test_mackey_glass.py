"""Mackey-Glass generator: solves the delay equation, attractor range, splits, reproducibility."""

import numpy as np
import pytest

from bridge.regressor.mackey_glass import (
    MackeyGlassParams,
    integrate_mackey_glass,
    mackey_glass_series,
    mackey_glass_splits,
)


def test_grid_solution_satisfies_the_delay_equation() -> None:
    p = MackeyGlassParams()
    x, dxdt = integrate_mackey_glass(p, 600.0)
    h, lag = p.step, p.steps_per_tau
    # Central differences of the solution against the right-hand side with x(t - 17):
    # measured 1.6e-5; a delay off by one grid step (16.9) leaves 2.4e-3.
    k = np.arange(lag + 1, len(x) - 1)
    central = (x[k + 1] - x[k - 1]) / (2 * h)
    delayed = x[k - lag]
    rhs = 0.2 * delayed / (1 + delayed**10) - 0.1 * x[k]
    assert np.max(np.abs(central - rhs)) < 1e-4
    assert np.max(np.abs(dxdt[k] - rhs)) < 1e-12
    assert x[0] == p.constant_past


def test_rk4_converges_at_fourth_order() -> None:
    samples = np.arange(0, 501, 10)
    values = []
    for steps_per_tau in (85, 170, 340):
        p = MackeyGlassParams(steps_per_tau=steps_per_tau)
        x, _ = integrate_mackey_glass(p, 500.0)
        values.append(x[np.round(samples / p.step).astype(int)])
    coarse = np.max(np.abs(values[0] - values[2]))
    fine = np.max(np.abs(values[1] - values[2]))
    assert fine < 1e-7
    assert coarse / fine > 10.0  # 16 for exact fourth order (measured about 17)


def test_series_stays_on_the_known_attractor() -> None:
    _, x = mackey_glass_series()
    assert x.shape == (1501,)
    assert 0.2 < x.min() < 0.5 and 1.2 < x.max() < 1.4


def test_series_is_reproducible_and_offset_shifts_it() -> None:
    t1, x1 = mackey_glass_series()
    t2, x2 = mackey_glass_series(MackeyGlassParams())
    assert np.array_equal(x1, x2) and np.array_equal(t1, t2)
    assert x1.tobytes() == x2.tobytes()
    t3, x3 = mackey_glass_series(MackeyGlassParams(start_offset_points=3))
    assert np.allclose(x3[:100], x1[3:103], atol=1e-12)
    assert np.allclose(t3[:100], t1[3:103], atol=1e-9)


def test_splits_follow_neurobench_convention() -> None:
    p = MackeyGlassParams()
    s = mackey_glass_splits(p)
    assert p.sample_interval == pytest.approx(197.0 / 75.0)
    assert len(s.train_input) == len(s.train_target) == 750
    assert len(s.test_input) == len(s.test_target) == 750
    assert np.array_equal(s.train_target[:-1], s.train_input[1:])
    assert np.array_equal(s.test_target[:-1], s.test_input[1:])
    assert s.test_input[0] == s.train_target[-1]
    assert np.allclose(np.diff(s.train_time), p.sample_interval)
    assert s.train_time[0] == pytest.approx(5 * 197.0)
    assert s.test_time[0] == pytest.approx(s.train_time[0] + 750 * p.sample_interval)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tau": 0.0}, "tau must be > 0"),
        ({"steps_per_tau": 2}, "steps_per_tau >= 4"),
        ({"start_offset_points": -1}, "start_offset_points must be >= 0"),
        ({"test_lyapunov_times": 0.0}, "test span must be > 0"),
    ],
)
def test_bad_parameters_are_rejected(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MackeyGlassParams(**changes)
