"""Discrete leaky integrate-and-fire neuron with snntorch ``Leaky`` semantics, in numpy.

One update per time step of ``dt_ms`` (snntorch 1.0, ``reset_mechanism="subtract"``,
``reset_delay=True``)::

    reset[t] = S[t-1]                       # spike of the previous step
    U[t]     = beta * U[t-1] + x[t] - reset[t] * THRESHOLD
    S[t]     = U[t] > THRESHOLD             # strict, as snntorch's Heaviside forward

with the drive ``x = w * I + b`` (I in nA, w per nA, b in threshold units per step).
Vectorised over parameter sets (rows) and step amplitudes (columns); float64 throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: snntorch's default firing threshold; the bridge maps every condition onto it. The update
#: subtracts the boolean spike itself, which is exact only for a threshold of 1.
THRESHOLD = 1.0


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
