"""Mackey-Glass series for the regressor, sampled and split as NeuroBench does.

Equation (time in the equation's own units)::

    dx/dt = beta * x(t - tau) / (1 + x(t - tau)^n) - gamma * x(t),   tau = 17, n = 10

History: x(t) = ``constant_past`` for t <= 0 (NeuroBench's value for tau = 17).

Method: classical fixed-step RK4 on the grid t_k = k h with h = tau / ``steps_per_tau``
(0.1 by default), so the delayed argument of the k1 and k4 stages falls on the grid. The
k2/k3 stages need x at a half step; it is the cubic Hermite interpolant of the two
neighbouring grid values and their derivatives (error O(h^4), so the scheme stays fourth
order; the derivative jump of x at t = 0 is a grid point and the interpolant never spans
it). Samples between grid points use the same Hermite interpolant. All arithmetic is
float64 in plain Python, so the same parameters give the same bytes on every machine.
The system is chaotic: two step sizes agree closely for some hundred time units and then
drift apart (test_mackey_glass.py measures it); the series is the trajectory of this
method and step, as NeuroBench's is of its jitcdde solver.

Sampling (NeuroBench): 75 points per Lyapunov time of 197 units (every 197/75 = 2.627
units; NeuroBench's linspace gives 2.628, we use the nominal spacing). Before sample 0 a
transient of ``transient_lyapunov_times`` is integrated and discarded (NeuroBench discards
none but starts after jitcdde's initial-discontinuity steps), then ``start_offset_points``
more samples (NeuroBench's ``start_offset``, to draw different windows). Train spans
10 Lyapunov times (750 points), test the next 10 (750 points); each input x[i] has the
one-step-ahead target x[i + 1], so 1501 samples are generated.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: NeuroBench's Mackey-Glass defaults (neurobench/datasets/mackey_glass.py).
MG_TAU = 17.0
MG_BETA = 0.2
MG_GAMMA = 0.1
MG_EXPONENT = 10.0
MG_CONSTANT_PAST = 0.7206597
MG_LYAPUNOV_TIME = 197.0
MG_POINTS_PER_LYAPUNOV_TIME = 75
MG_TRAIN_LYAPUNOV_TIMES = 10.0
MG_TEST_LYAPUNOV_TIMES = 10.0
#: Our choice: 5 Lyapunov times (985 units, about 58 tau) lets the constant history settle
#: onto the attractor.
MG_TRANSIENT_LYAPUNOV_TIMES = 5.0
#: RK4 steps per delay: h = 17 / 170 = 0.1 time units.
MG_STEPS_PER_TAU = 170


@dataclass(frozen=True)
class MackeyGlassParams:
    """Equation, integration and sampling parameters (time in equation units)."""

    tau: float = MG_TAU
    beta: float = MG_BETA
    gamma: float = MG_GAMMA
    exponent: float = MG_EXPONENT
    constant_past: float = MG_CONSTANT_PAST
    lyapunov_time: float = MG_LYAPUNOV_TIME
    points_per_lyapunov_time: int = MG_POINTS_PER_LYAPUNOV_TIME
    train_lyapunov_times: float = MG_TRAIN_LYAPUNOV_TIMES
    test_lyapunov_times: float = MG_TEST_LYAPUNOV_TIMES
    transient_lyapunov_times: float = MG_TRANSIENT_LYAPUNOV_TIMES
    start_offset_points: int = 0
    steps_per_tau: int = MG_STEPS_PER_TAU

    def __post_init__(self) -> None:
        for name in ("tau", "beta", "gamma", "exponent", "lyapunov_time", "train_lyapunov_times"):
            if not getattr(self, name) > 0:
                raise ValueError(f"MackeyGlassParams.{name} must be > 0; got {getattr(self, name)}")
        if self.test_lyapunov_times <= 0 or self.transient_lyapunov_times < 0:
            raise ValueError("MackeyGlassParams: test span must be > 0 and transient >= 0")
        if self.points_per_lyapunov_time < 1 or self.steps_per_tau < 4:
            raise ValueError("MackeyGlassParams: points_per_lyapunov_time >= 1, steps_per_tau >= 4")
        if self.start_offset_points < 0:
            raise ValueError("MackeyGlassParams.start_offset_points must be >= 0")

    @property
    def step(self) -> float:
        """RK4 step h (time units)."""
        return self.tau / self.steps_per_tau

    @property
    def sample_interval(self) -> float:
        """Time between samples: one Lyapunov time / points per Lyapunov time."""
        return self.lyapunov_time / self.points_per_lyapunov_time

    @property
    def n_train(self) -> int:
        return round(self.train_lyapunov_times * self.points_per_lyapunov_time)

    @property
    def n_test(self) -> int:
        return round(self.test_lyapunov_times * self.points_per_lyapunov_time)

    @property
    def t_first_sample(self) -> float:
        return (
            self.transient_lyapunov_times * self.lyapunov_time
            + self.start_offset_points * self.sample_interval
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class MackeyGlassSplits:
    """One-step-ahead train/test data: ``*_input[i]`` is x at sample i, ``*_target[i]`` at i + 1.

    ``*_time`` gives the input samples' times (equation units, from t = 0 of the history).
    """

    train_input: np.ndarray
    train_target: np.ndarray
    test_input: np.ndarray
    test_target: np.ndarray
    train_time: np.ndarray
    test_time: np.ndarray
    sample_interval: float


def _rate(x: float, x_delayed: float, p: MackeyGlassParams) -> float:
    return p.beta * x_delayed / (1.0 + x_delayed**p.exponent) - p.gamma * x


def integrate_mackey_glass(p: MackeyGlassParams, t_end: float) -> tuple[np.ndarray, np.ndarray]:
    """RK4 solution on the grid ``k h`` for 0 <= t <= t_end: ``(x, dxdt)`` per grid point."""
    h = p.step
    lag = p.steps_per_tau
    n_steps = math.ceil(t_end / h) + 1
    x0 = p.constant_past
    xs = [x0]
    ds = [_rate(x0, x0, p)]

    def grid_value(j: int) -> float:
        return x0 if j < 0 else xs[j]

    def half_step_value(j: int) -> float:
        # x at t_j + h/2; the interval [t_j, t_j+1] lies in the constant history when j < 0.
        if j < 0:
            return x0
        return 0.5 * (xs[j] + xs[j + 1]) + h / 8.0 * (ds[j] - ds[j + 1])

    for k in range(n_steps):
        x = xs[k]
        delayed_now = grid_value(k - lag)
        delayed_half = half_step_value(k - lag)
        delayed_next = grid_value(k + 1 - lag)
        k1 = _rate(x, delayed_now, p)
        k2 = _rate(x + 0.5 * h * k1, delayed_half, p)
        k3 = _rate(x + 0.5 * h * k2, delayed_half, p)
        k4 = _rate(x + h * k3, delayed_next, p)
        x_next = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        xs.append(x_next)
        ds.append(_rate(x_next, delayed_next, p))
    return np.asarray(xs), np.asarray(ds)


def _hermite(x: np.ndarray, d: np.ndarray, h: float, times: np.ndarray) -> np.ndarray:
    index = np.minimum(np.floor(times / h).astype(np.int64), len(x) - 2)
    theta = times / h - index
    h00 = (1 + 2 * theta) * (1 - theta) ** 2
    h10 = theta * (1 - theta) ** 2
    h01 = theta**2 * (3 - 2 * theta)
    h11 = theta**2 * (theta - 1)
    return h00 * x[index] + h10 * h * d[index] + h01 * x[index + 1] + h11 * h * d[index + 1]


def mackey_glass_series(p: MackeyGlassParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_train + n_test + 1`` samples ``(time, x)`` after the transient (time units)."""
    p = p or MackeyGlassParams()
    n_samples = p.n_train + p.n_test + 1
    times = p.t_first_sample + p.sample_interval * np.arange(n_samples, dtype=np.float64)
    x_grid, d_grid = integrate_mackey_glass(p, float(times[-1]) + p.step)
    return times, _hermite(x_grid, d_grid, p.step, times)


def mackey_glass_splits(p: MackeyGlassParams | None = None) -> MackeyGlassSplits:
    """Train (first ``n_train`` samples) and test (next ``n_test``) one-step-ahead pairs."""
    p = p or MackeyGlassParams()
    times, x = mackey_glass_series(p)
    n_train = p.n_train
    n_total = n_train + p.n_test
    return MackeyGlassSplits(
        train_input=x[:n_train],
        train_target=x[1 : n_train + 1],
        test_input=x[n_train:n_total],
        test_target=x[n_train + 1 : n_total + 1],
        train_time=times[:n_train],
        test_time=times[n_train:n_total],
        sample_interval=p.sample_interval,
    )
