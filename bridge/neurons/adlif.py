"""Adaptive LIF (AdLIF) neuron of Bittar & Garner (2022), the regressor's reference baseline.

Choice: Bittar & Garner's AdLIF ("A surrogate gradient spiking baseline for speech command
recognition", Front. Neurosci. 2022; the SparCH code), not SE-AdLIF (Baronig et al. 2025).
Reasons: its update and its parameter constraints are fully specified in the project's
sources (``/work/shared/MODELS.md`` section 5), it is the AdLIF most SNN baselines use, and
its per-step clamping is what the issue asks for. SE-AdLIF's symplectic-Euler form (w
updated from the new u, scaled by (1 - beta) q) is more stable at large adaptation; switching
would change only :func:`adlif_step`'s ``w`` line and the constraints.

Per step (u: membrane, w: adaptation current, s: spike; threshold units)::

    w[t] = beta * w[t-1] + a * u[t-1] + b * s[t-1]
    u[t] = alpha * (u[t-1] - s[t-1]) + (1 - alpha) * (I[t] - w[t])
    s[t] = H(u[t] - 1)

with I[t] = x[t] + bias. The published constraints are applied to the effective values
at every step (the raw parameters may leave the range during training; only their
clamped values are used, as in SparCH): alpha in [e^-1/5, e^-1/25] (membrane tau 5-25
steps), beta in [e^-1/30, e^-1/120] (adaptation tau 30-120 steps), a in [-1, 1],
b in [0, 2]. The spike's surrogate gradient is SparCH's boxcar: dS/du = 1 for
|u - 1| < 0.5, else 0 (the reset is not detached, as in SparCH). The initial state is
zero (SparCH draws it at random; zero keeps runs deterministic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from bridge.neurons.base import LayerOutput, check_time_major_input, stack_recorded

ADLIF_THRESHOLD = 1.0
ADLIF_ALPHA_BOUNDS = (math.exp(-1.0 / 5.0), math.exp(-1.0 / 25.0))
ADLIF_BETA_BOUNDS = (math.exp(-1.0 / 30.0), math.exp(-1.0 / 120.0))
ADLIF_A_BOUNDS = (-1.0, 1.0)
ADLIF_B_BOUNDS = (0.0, 2.0)
#: Half-width of the boxcar surrogate window around the threshold (SparCH: 0.5).
ADLIF_BOXCAR_HALF_WIDTH = 0.5


class BoxcarSpike(torch.autograd.Function):
    """Heaviside forward (x > 0); backward passes the gradient where |x| < half-width."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad_output * (x.abs() < ADLIF_BOXCAR_HALF_WIDTH).to(grad_output.dtype)


def _clamp(value: float | torch.Tensor, bounds: tuple[float, float]) -> float | torch.Tensor:
    if isinstance(value, torch.Tensor):
        return torch.clamp(value, *bounds)
    return min(max(float(value), bounds[0]), bounds[1])


@dataclass(frozen=True)
class AdLIFParams:
    """Raw AdLIF parameters (floats or tensors broadcastable against the state); the step
    clamps them to the published ranges before use."""

    alpha: float | torch.Tensor
    beta: float | torch.Tensor
    a: float | torch.Tensor
    b: float | torch.Tensor
    bias: float | torch.Tensor = 0.0
    threshold: float = ADLIF_THRESHOLD

    def constrained(self) -> AdLIFParams:
        """The parameters clamped to the published ranges (what a step actually uses)."""
        return AdLIFParams(
            alpha=_clamp(self.alpha, ADLIF_ALPHA_BOUNDS),
            beta=_clamp(self.beta, ADLIF_BETA_BOUNDS),
            a=_clamp(self.a, ADLIF_A_BOUNDS),
            b=_clamp(self.b, ADLIF_B_BOUNDS),
            bias=self.bias,
            threshold=self.threshold,
        )


class AdLIFState(NamedTuple):
    """Membrane u, adaptation w and the last spike s (threshold units)."""

    u: torch.Tensor
    w: torch.Tensor
    s: torch.Tensor


def adlif_step(
    input_current: torch.Tensor, state: AdLIFState, params: AdLIFParams
) -> tuple[torch.Tensor, AdLIFState]:
    """One Bittar & Garner AdLIF step with the constraints applied; returns (spike, state)."""
    p = params.constrained()
    u_prev, w_prev, s_prev = state
    w = p.beta * w_prev + p.a * u_prev + p.b * s_prev
    u = p.alpha * (u_prev - s_prev) + (1.0 - p.alpha) * (input_current + p.bias - w)
    s = BoxcarSpike.apply(u - p.threshold)
    return s, AdLIFState(u, w, s)


class AdLIFLayer(nn.Module):
    """A layer of ``n_neurons`` AdLIF neurons: ``[T, B, N]`` -> spikes ``[T, B, N]``.

    alpha, beta, a, b are per-neuron ``nn.Parameter`` (buffers when ``trainable`` is
    False), initialised uniformly in their ranges from ``generator`` (or the global torch
    RNG), as SparCH does. ``bias`` is a fixed input offset buffer.
    """

    def __init__(
        self,
        n_neurons: int,
        trainable: bool = True,
        bias: float | torch.Tensor = 0.0,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if n_neurons < 1:
            raise ValueError(f"AdLIFLayer: n_neurons must be >= 1; got {n_neurons}")
        self.n_neurons = n_neurons
        dtype = dtype or torch.get_default_dtype()
        bounds = {
            "alpha": ADLIF_ALPHA_BOUNDS,
            "beta": ADLIF_BETA_BOUNDS,
            "a": ADLIF_A_BOUNDS,
            "b": ADLIF_B_BOUNDS,
        }
        for name, (low, high) in bounds.items():
            value = torch.empty(n_neurons, dtype=dtype).uniform_(low, high, generator=generator)
            if trainable:
                setattr(self, name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        bias_t = torch.as_tensor(bias, dtype=dtype).detach()
        self.register_buffer("bias", torch.broadcast_to(bias_t, (n_neurons,)).clone())

    def current_params(self) -> AdLIFParams:
        return AdLIFParams(alpha=self.alpha, beta=self.beta, a=self.a, b=self.b, bias=self.bias)

    def initial_state(self, batch_size: int) -> AdLIFState:
        zeros = torch.zeros(
            batch_size, self.n_neurons, dtype=self.bias.dtype, device=self.bias.device
        )
        return AdLIFState(zeros, zeros.clone(), zeros.clone())

    @torch.no_grad()
    def clamp_parameters_(self) -> None:
        """Project the stored raw parameters into their ranges (e.g. before reporting them)."""
        p = self.current_params().constrained()
        for name in ("alpha", "beta", "a", "b"):
            getattr(self, name).copy_(getattr(p, name))

    def forward(
        self, x: torch.Tensor, state: AdLIFState | None = None, record: bool = False
    ) -> LayerOutput:
        check_time_major_input(x, self.n_neurons, "AdLIFLayer")
        params = self.current_params()
        if state is None:
            state = self.initial_state(x.shape[1])
        trajectories = {name: [getattr(state, name)] for name in ("u", "w")} if record else None
        spikes = []
        for x_t in x:
            spk, state = adlif_step(x_t, state, params)
            spikes.append(spk)
            if trajectories is not None:
                trajectories["u"].append(state.u)
                trajectories["w"].append(state.w)
        recorded = stack_recorded(trajectories) if trajectories is not None else None
        return LayerOutput(torch.stack(spikes), state, recorded)

    def extra_repr(self) -> str:
        return f"n_neurons={self.n_neurons}"
