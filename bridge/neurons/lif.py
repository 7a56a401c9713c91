"""Leaky integrate-and-fire neuron with snntorch's exact discrete semantics.

snntorch ``Leaky`` (threshold 1, ``surrogate.atan(alpha=2.0)``, reset by subtraction,
``reset_delay=True``) computes, per step::

    R[t] = H(U[t-1] - theta)                 (detached: the previous step's spike)
    U[t] = clip(beta, 0, 1) * U[t-1] + I[t] - R[t] * theta
    S[t] = H(U[t] - theta)                   (strict: U == theta does not spike)

so a spike's reset is subtracted one step later. Here ``I[t] = x[t] + bias``: the bias is
a fixed input offset (the mapping stage's ``bias_fit``). Units: U and I in threshold units
(theta = 1), one step = ``dt_ms`` of the mapping config.

Three entry points share those semantics: :func:`lif_step` (pure functional, autograd with
snntorch's arctan surrogate), :class:`LIFLayer` (runs a real ``snntorch.Leaky`` over time),
and :func:`lif_simulate` (numpy, no autograd, for fitting; tests check it equals
``snntorch.Leaky`` spike for spike).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import snntorch as snn
import torch
from snntorch import surrogate
from torch import nn

from bridge.neurons.base import LayerOutput, check_time_major_input, stack_recorded

#: Firing threshold (snntorch default and the autoencoder paper's value).
LIF_THRESHOLD = 1.0
#: Slope of snntorch's arctan surrogate: backward (alpha/2) / (1 + (pi/2 alpha U)^2).
LIF_SURROGATE_ALPHA = 2.0
#: Default membrane decay when none is mapped.
LIF_DEFAULT_BETA = 0.9


@dataclass(frozen=True)
class LIFParams:
    """Decay ``beta`` (per step, clipped to [0, 1] as snntorch does), ``bias`` and ``threshold``
    in threshold units; floats or tensors broadcastable against the state."""

    beta: float | torch.Tensor = LIF_DEFAULT_BETA
    bias: float | torch.Tensor = 0.0
    threshold: float | torch.Tensor = LIF_THRESHOLD


class LIFState(NamedTuple):
    """Membrane potential U (threshold units)."""

    mem: torch.Tensor


_ATAN = surrogate.atan(alpha=LIF_SURROGATE_ALPHA)


def lif_step(
    input_current: torch.Tensor, state: LIFState, params: LIFParams
) -> tuple[torch.Tensor, LIFState]:
    """One snntorch ``Leaky`` step (reset by subtraction, delayed); returns (spike, state)."""
    mem_prev = state.mem
    reset = _ATAN(mem_prev - params.threshold).detach().to(mem_prev.dtype)
    beta = torch.as_tensor(params.beta, dtype=mem_prev.dtype, device=mem_prev.device)
    mem = beta.clamp(0, 1) * mem_prev + (input_current + params.bias) - reset * params.threshold
    spk = _ATAN(mem - params.threshold).to(mem.dtype)
    return spk, LIFState(mem)


class LIFLayer(nn.Module):
    """A layer of ``n_neurons`` snntorch ``Leaky`` neurons: ``[T, B, N]`` -> spikes ``[T, B, N]``.

    ``beta`` (float or ``[N]``) is trainable when ``train_beta`` (snntorch's ``learn_beta``),
    frozen otherwise; ``bias`` (float or ``[N]``) is a fixed buffer added to the input.
    The initial membrane is zero unless a state is passed. Build float64 layers with
    ``dtype`` (``.double()`` would round the values through float32 first).
    """

    def __init__(
        self,
        n_neurons: int,
        beta: float | torch.Tensor = LIF_DEFAULT_BETA,
        bias: float | torch.Tensor = 0.0,
        train_beta: bool = False,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if n_neurons < 1:
            raise ValueError(f"LIFLayer: n_neurons must be >= 1; got {n_neurons}")
        dtype = dtype or torch.get_default_dtype()
        beta_t = torch.as_tensor(beta, dtype=dtype).detach()
        if beta_t.numel() not in (1, n_neurons):
            raise ValueError(f"LIFLayer: beta has {beta_t.numel()} values for {n_neurons} neurons")
        if bool(((beta_t < 0) | (beta_t > 1)).any()):
            raise ValueError(f"LIFLayer: beta must lie in [0, 1]; got {beta_t.tolist()}")
        self.n_neurons = n_neurons
        self.leaky = snn.Leaky(
            beta=torch.broadcast_to(beta_t, (n_neurons,)).clone(),
            threshold=LIF_THRESHOLD,
            spike_grad=surrogate.atan(alpha=LIF_SURROGATE_ALPHA),
            learn_beta=train_beta,
            reset_mechanism="subtract",
        )
        bias_t = torch.as_tensor(bias, dtype=dtype).detach()
        self.register_buffer("bias", torch.broadcast_to(bias_t, (n_neurons,)).clone())

    @property
    def beta(self) -> torch.Tensor:
        return self.leaky.beta

    def current_params(self) -> LIFParams:
        return LIFParams(beta=self.leaky.beta, bias=self.bias, threshold=self.leaky.threshold)

    def initial_state(self, batch_size: int) -> LIFState:
        return LIFState(
            torch.zeros(batch_size, self.n_neurons, dtype=self.bias.dtype, device=self.bias.device)
        )

    def forward(
        self, x: torch.Tensor, state: LIFState | None = None, record: bool = False
    ) -> LayerOutput:
        check_time_major_input(x, self.n_neurons, "LIFLayer")
        mem = (state or self.initial_state(x.shape[1])).mem
        trajectory = [mem] if record else None
        spikes = []
        for x_t in x:
            spk, mem = self.leaky(x_t + self.bias, mem)
            spikes.append(spk.to(mem.dtype))
            if trajectory is not None:
                trajectory.append(mem)
        # Leaky keeps the last membrane (and its autograd graph) as an attribute; drop it so
        # the graph lives only as long as the caller's tensors.
        self.leaky.reset_mem()
        recorded = stack_recorded({"mem": trajectory}) if trajectory is not None else None
        return LayerOutput(torch.stack(spikes), LIFState(mem), recorded)

    def extra_repr(self) -> str:
        return f"n_neurons={self.n_neurons}, train_beta={isinstance(self.leaky.beta, nn.Parameter)}"


def lif_simulate(
    drive: np.ndarray,
    beta: float | np.ndarray,
    bias: float | np.ndarray = 0.0,
    threshold: float = LIF_THRESHOLD,
    mem0: float | np.ndarray = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate LIF neurons with snntorch ``Leaky`` semantics in numpy (float64, no autograd).

    ``drive`` is ``[T, n]`` (or ``[T]``) input in threshold units (already multiplied by any
    input gain); ``beta``, ``bias`` and ``mem0`` are scalars or ``[n]`` (so one call can
    sweep a grid of betas). Returns ``(spikes [T, n] bool, mem [T, n])`` where ``mem[t]`` is
    U after step t. The arithmetic follows snntorch's operation order, so it is bitwise
    equal to ``snntorch.Leaky`` run in float64.
    """
    drive = np.asarray(drive, dtype=np.float64)
    if drive.ndim == 1:
        drive = drive[:, None]
    if drive.ndim != 2:
        raise ValueError(f"lif_simulate: drive must be [T, n] or [T]; got shape {drive.shape}")
    n = drive.shape[1]
    beta_c = np.clip(np.broadcast_to(np.asarray(beta, dtype=np.float64), (n,)), 0.0, 1.0)
    bias_a = np.broadcast_to(np.asarray(bias, dtype=np.float64), (n,))
    mem = np.array(np.broadcast_to(np.asarray(mem0, dtype=np.float64), (n,)))
    reset = (mem > threshold).astype(np.float64)
    spikes = np.zeros(drive.shape, dtype=bool)
    mems = np.zeros(drive.shape, dtype=np.float64)
    for t in range(drive.shape[0]):
        mem = (beta_c * mem + (drive[t] + bias_a)) - reset * threshold
        spk = mem > threshold
        spikes[t] = spk
        mems[t] = mem
        reset = spk.astype(np.float64)
    return spikes, mems
