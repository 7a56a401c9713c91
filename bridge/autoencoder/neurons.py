"""Fused spike trains of snntorch's ``Leaky`` and ``Synaptic`` neurons (all steps at once).

One autograd node per layer replaces T steps of snntorch's modules. Tensors are batch-major,
(batch, steps, neurons...), so that a layer's spikes of all steps feed one convolution. The
update equations are snntorch's (1.0) with reset by subtraction applied one step late
(``reset_delay``) and the reset detached from the graph, as ``SpikingNeuron.mem_reset`` does:

    syn_t = alpha * syn_{t-1} + I_t + bias                (Synaptic only)
    U_t   = beta * U_{t-1} + (syn_t or I_t + bias) - threshold * S_{t-1}
    S_t   = 1 if U_t > threshold else 0

with zero initial state. The backward pass uses snntorch's arctan surrogate,
dS/dU = (a/2) / (1 + (pi/2 * a * (U - threshold))^2), and the exact recurrences
dL/dU_t = dL/dS_t * dS/dU_t + beta * dL/dU_{t+1} and dL/dsyn_t = dL/dU_t + alpha * dL/dsyn_{t+1}.

The kernels are plain tensor code on (batch, steps, neurons) views. With ``compiled=True`` they go
through ``torch.compile`` (one fused loop per kernel instead of several memory passes per step);
the compiled code is cached on disk by PyTorch, so only the first process pays the compile time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import torch


def _forward_eager(
    current: torch.Tensor,
    num_steps: int,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    bias: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and membrane, both (batch, num_steps, N), from currents (batch, num_steps or 1, N).

    Writes into preallocated outputs (no per-step allocations): three memory passes per step.
    """
    static = current.shape[1] == 1
    b, thr, bias_v = float(beta), float(threshold), float(bias)
    a = None if alpha is None else float(alpha)
    shape = (current.shape[0], num_steps, *current.shape[2:])
    spikes = current.new_empty(shape)
    membrane = current.new_empty(shape)
    syn = None
    for t in range(num_steps):
        drive = current[:, 0 if static else t]
        if a is not None:
            syn = drive.clone() if syn is None else torch.add(drive, syn, alpha=a)
            if bias_v:
                syn.add_(bias_v)
            drive = syn
        mem = membrane[:, t]
        if t == 0:
            mem.copy_(drive)
        else:
            torch.add(drive, membrane[:, t - 1], alpha=b, out=mem)
            mem.sub_(spikes[:, t - 1], alpha=thr)
        if bias_v and a is None:
            mem.add_(bias_v)
        torch.gt(mem, thr, out=spikes[:, t])
    return spikes, membrane


def _backward_eager(
    grad_spikes: torch.Tensor,
    membrane: torch.Tensor,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    surrogate_alpha: float,
    static: bool,
) -> torch.Tensor:
    """Gradient with respect to the currents, (batch, num_steps or 1, N), computed in place."""
    k = math.pi / 2 * surrogate_alpha
    # g * (a/2) / (1 + k^2 d^2) = g / (2/a + (2/a) k^2 d^2), d = U - threshold
    grad = membrane - float(threshold)
    torch.addcmul(
        grad.new_tensor(2 / surrogate_alpha),
        grad,
        grad,
        value=2 / surrogate_alpha * k * k,
        out=grad,
    )
    torch.div(grad_spikes, grad, out=grad)
    steps = grad.shape[1]
    for t in range(steps - 2, -1, -1):
        grad[:, t].add_(grad[:, t + 1], alpha=float(beta))
    if alpha is not None:
        for t in range(steps - 2, -1, -1):
            grad[:, t].add_(grad[:, t + 1], alpha=float(alpha))
    return grad.sum(1, keepdim=True) if static else grad


def _forward_compilable(
    current: torch.Tensor,
    num_steps: int,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    bias: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same as :func:`_forward_eager`, written functionally for ``torch.compile``."""
    static = current.shape[1] == 1
    spikes = []
    membranes = []
    mem = syn = spk = None
    for t in range(num_steps):
        drive = current[:, 0 if static else t] + bias
        if alpha is not None:
            syn = drive if syn is None else alpha * syn + drive
            drive = syn
        mem = drive if mem is None else beta * mem + drive - threshold * spk
        spk = (mem > threshold).to(current.dtype)
        spikes.append(spk)
        membranes.append(mem)
    return torch.stack(spikes, dim=1), torch.stack(membranes, dim=1)


def _backward_compilable(
    grad_spikes: torch.Tensor,
    membrane: torch.Tensor,
    beta: torch.Tensor,
    alpha: torch.Tensor | None,
    threshold: torch.Tensor,
    surrogate_alpha: float,
    static: bool,
) -> torch.Tensor:
    """Same as :func:`_backward_eager`, written functionally for ``torch.compile``."""
    k = math.pi / 2 * surrogate_alpha
    shifted = membrane - threshold
    direct = grad_spikes * (surrogate_alpha / 2) / (1 + k * k * shifted * shifted)
    steps = direct.shape[1]
    grads: list[torch.Tensor] = [direct[:, steps - 1]] * steps
    for t in range(steps - 2, -1, -1):
        grads[t] = direct[:, t] + beta * grads[t + 1]
    if alpha is not None:
        for t in range(steps - 2, -1, -1):
            grads[t] = grads[t] + alpha * grads[t + 1]
    if static:
        total = grads[0]
        for g in grads[1:]:
            total = total + g
        return total.unsqueeze(1)
    return torch.stack(grads, dim=1)


@cache
def _kernels(compiled: bool) -> tuple[Callable, Callable]:
    if not compiled:
        return _forward_eager, _backward_eager
    return (
        torch.compile(_forward_compilable, dynamic=True),
        torch.compile(_backward_compilable, dynamic=True),
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
        flat = current.reshape(current.shape[0], current.shape[1], -1)
        spikes, membrane = forward_kernel(flat, num_steps, beta, alpha, threshold, bias)
        ctx.save_for_backward(membrane, beta, alpha, threshold)
        ctx.constants = (surrogate_alpha, compiled, current.shape[1] == 1, current.shape)
        return spikes.view(current.shape[0], num_steps, *current.shape[2:])

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
    """Spikes (batch, num_steps, ...) of a layer driven by ``current`` (batch, num_steps or 1, ...).

    A step size of 1 means the same current at every step (a static input). ``beta``,
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
