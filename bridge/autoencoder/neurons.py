"""Fused spike trains of snntorch's ``Leaky`` and ``Synaptic`` neurons (all steps at once).

One autograd node per layer replaces T steps of snntorch's modules. The update equations are
snntorch's (1.0) with reset by subtraction applied one step late (``reset_delay``) and the reset
detached from the graph, as ``SpikingNeuron.mem_reset`` does:

    syn_t = alpha * syn_{t-1} + I_t + bias                (Synaptic only)
    U_t   = beta * U_{t-1} + (syn_t or I_t + bias) - threshold * S_{t-1}
    S_t   = 1 if U_t > threshold else 0

with zero initial state. The backward pass uses snntorch's arctan surrogate,
dS/dU = (a/2) / (1 + (pi/2 * a * (U - threshold))^2), and the exact recurrences
dL/dU_t = dL/dS_t * dS/dU_t + beta * dL/dU_{t+1} and dL/dsyn_t = dL/dU_t + alpha * dL/dsyn_{t+1}.

The kernels are plain tensor code on (steps, neurons) views. With ``compiled=True`` they go
through ``torch.compile`` (one fused loop per kernel instead of several memory passes per step);
the compiled code is cached on disk by PyTorch, so only the first process pays the compile time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import torch


def _forward_kernel(
    current: torch.Tensor,
    num_steps: int,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    bias: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and membrane, both (num_steps, N), from currents (num_steps or 1, N)."""
    static = current.shape[0] == 1
    spikes = []
    membranes = []
    mem = syn = spk = None
    for t in range(num_steps):
        drive = current[0 if static else t] + bias
        if alpha is not None:
            syn = drive if syn is None else alpha * syn + drive
            drive = syn
        mem = drive if mem is None else beta * mem + drive - threshold * spk
        spk = (mem > threshold).to(current.dtype)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes), torch.stack(membranes)


def _backward_kernel(
    grad_spikes: torch.Tensor,
    membrane: torch.Tensor,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    surrogate_alpha: float,
    static: bool,
) -> torch.Tensor:
    """Gradient with respect to the currents, (num_steps or 1, N)."""
    k = math.pi / 2 * surrogate_alpha
    shifted = membrane - threshold
    direct = grad_spikes * (surrogate_alpha / 2) / (1 + k * k * shifted * shifted)
    steps = direct.shape[0]
    grad_mem: list[torch.Tensor] = [direct[steps - 1]] * steps
    for t in range(steps - 2, -1, -1):
        grad_mem[t] = direct[t] + beta * grad_mem[t + 1]
    grads = grad_mem
    if alpha is not None:
        grad_syn = list(grad_mem)
        for t in range(steps - 2, -1, -1):
            grad_syn[t] = grad_mem[t] + alpha * grad_syn[t + 1]
        grads = grad_syn
    if static:
        total = grads[0]
        for g in grads[1:]:
            total = total + g
        return total.unsqueeze(0)
    return torch.stack(grads)


@cache
def _kernels(compiled: bool) -> tuple[Callable, Callable]:
    if not compiled:
        return _forward_kernel, _backward_kernel
    return (
        torch.compile(_forward_kernel, dynamic=True),
        torch.compile(_backward_kernel, dynamic=True),
    )


class SpikeTrain(torch.autograd.Function):
    """All steps of one Leaky (``alpha=None``) or Synaptic layer as one autograd node."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        current: torch.Tensor,
        num_steps: int,
        beta: torch.Tensor,
        alpha: torch.Tensor | None,
        threshold: torch.Tensor,
        bias: torch.Tensor,
        surrogate_alpha: float,
        compiled: bool,
    ) -> torch.Tensor:
        forward_kernel, _ = _kernels(compiled)
        flat = current.reshape(current.shape[0], -1)
        spikes, membrane = forward_kernel(flat, num_steps, beta, alpha, threshold, bias)
        ctx.save_for_backward(membrane, beta, alpha, threshold)
        ctx.constants = (surrogate_alpha, compiled, current.shape[0] == 1, current.shape)
        return spikes.view(num_steps, *current.shape[1:])

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_spikes: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        membrane, beta, alpha, threshold = ctx.saved_tensors
        surrogate_alpha, compiled, static, shape = ctx.constants
        _, backward_kernel = _kernels(compiled)
        grad = backward_kernel(
            grad_spikes.reshape(membrane.shape),
            membrane,
            beta,
            alpha,
            threshold,
            surrogate_alpha,
            static,
        )
        return grad.view(shape), None, None, None, None, None, None, None


def spike_train(
    current: torch.Tensor,
    num_steps: int,
    *,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    bias: float,
    surrogate_alpha: float,
    compiled: bool = False,
) -> torch.Tensor:
    """Spikes (num_steps, ...) of a layer driven by ``current`` (num_steps or 1, ...).

    A leading size of 1 means the same current at every step (a static input). ``beta``,
    ``alpha`` (None for Leaky) and ``threshold`` are the snntorch neuron's buffers.
    """
    bias_t = threshold.new_tensor(bias)
    return SpikeTrain.apply(
        current,
        num_steps,
        beta.clamp(0, 1),
        None if alpha is None else alpha.clamp(0, 1),
        threshold,
        bias_t,
        surrogate_alpha,
        compiled,
    )
