"""Fused spike trains of snntorch's ``Leaky`` and ``Synaptic`` neurons (all steps in one node).

The autoencoder's training kernel (``engine: fused``). One autograd node per layer replaces T
steps of snntorch's modules. Inputs and outputs are per-step tensors (a tuple of T tensors of
shape (batch, ...)), so each step's convolution reads its spikes and writes its currents with no
stacking or slicing copies.

Leaky: the update equations, spike rule and arctan surrogate of :mod:`bridge.neurons.lif` with
``I_t = x_t + bias``. Synaptic (snntorch ``Synaptic``) puts a decaying synaptic current between
the input and the same membrane; the bias enters the membrane, beside the synaptic current::

    syn_t = alpha * syn_{t-1} + x_t
    U_t   = beta * U_{t-1} + syn_t + bias - threshold * S_{t-1}

Both start from zero state. Why the membrane: ``bias`` is the mapping stage's ``bias_fit``, the
constant drive of a LIF fitted with no synaptic filter (the HH cell's resting drive, not a
synaptic input). Entering the membrane, it gives a Synaptic neuron at zero input exactly the
mapped LIF's membrane (``beta_syn`` is the mapping's ``beta_fit``): silent when the LIF's
resting drive ``bias / (1 - beta)`` is below threshold, the LIF's spikes when above. Fed into
the synaptic current instead, ``alpha`` would integrate it to ``bias / (1 - alpha)`` (with the
control's mapping and alpha 0.9 a silent LIF becomes a neuron firing from step 3). Scaling it by
``1 - alpha`` would match that steady state but not the transient from rest (the current would
ramp up over ~1/(1 - alpha) steps, delaying the first spike), and the transient is the
autoencoder's regime (5 steps from rest); the scaled form is the same as the membrane form only
when the synaptic current starts at its steady state (the identity :mod:`bridge.neurons.stepped`
uses to run it on snntorch's module).

The backward pass is hand-written (the bias is a constant: it adds no term): the surrogate
dS/dU at every step and the exact recurrences dL/dU_t = dL/dS_t * dS/dU_t + beta * dL/dU_{t+1} and
dL/dsyn_t = dL/dU_t + alpha * dL/dsyn_{t+1} (the reset is detached, as in snntorch).
Compared with stepping the modules, the forward pass needs about 3 memory passes per step instead
of about 10, and there is no autograd graph inside a layer. It is a separate implementation
because of that speed: its operation order differs from snntorch's (fused adds), so membranes
agree with snntorch's to float rounding, not bit for bit (``tests/test_lif_implementations.py``).
"""

from __future__ import annotations

import math

import torch


def spike_train_forward(
    currents: tuple[torch.Tensor, ...] | list[torch.Tensor],
    num_steps: int,
    beta: float,
    alpha: float | None,
    threshold: float,
    bias: float,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-step spikes and membranes from per-step currents (one current: static input).

    The forward pass of :class:`SpikeTrain`, without autograd bookkeeping; ``beta`` and
    ``alpha`` (None: Leaky) already clipped to [0, 1].
    """
    static = len(currents) == 1
    spikes: list[torch.Tensor] = []
    membranes: list[torch.Tensor] = []
    syn = mem = None
    for t in range(num_steps):
        drive = currents[0 if static else t]
        if alpha is not None:
            # The bias goes to the membrane (module docstring), not into the synaptic current.
            syn = drive if syn is None else torch.add(drive, syn, alpha=alpha)
            drive = syn
        elif bias:
            drive = drive + bias
        if mem is None:
            mem = drive + bias if alpha is not None and bias else drive
        else:
            mem = torch.add(drive, mem, alpha=beta)
            if alpha is not None and bias:
                mem.add_(bias)
            mem.sub_(spikes[-1], alpha=threshold)
        spike = torch.empty_like(mem)
        torch.gt(mem, threshold, out=spike)
        spikes.append(spike)
        membranes.append(mem)
    return spikes, membranes


def _backward(
    grad_spikes: tuple[torch.Tensor | None, ...],
    membranes: tuple[torch.Tensor, ...],
    beta: float,
    alpha: float | None,
    threshold: float,
    surrogate_alpha: float,
    static: bool,
) -> list[torch.Tensor]:
    """Per-step gradients with respect to the currents (one, summed, for a static input)."""
    k = math.pi / 2 * surrogate_alpha
    steps = len(membranes)
    grads: list[torch.Tensor] = [membranes[0]] * steps
    grad_mem = grad_syn = None
    for t in range(steps - 1, -1, -1):
        if grad_spikes[t] is None:
            # No gradient reaches this step's spikes: only the recurrence carries one.
            direct = torch.zeros_like(membranes[t])
        else:
            # g * (a/2) / (1 + k^2 d^2) = g / (2/a + (2/a) k^2 d^2), d = U - threshold
            direct = membranes[t] - threshold
            torch.addcmul(
                direct.new_tensor(2 / surrogate_alpha),
                direct,
                direct,
                value=2 / surrogate_alpha * k * k,
                out=direct,
            )
            torch.div(grad_spikes[t], direct, out=direct)
        if grad_mem is not None:
            direct.add_(grad_mem, alpha=beta)
        grad_mem = direct
        if alpha is not None:
            grad_syn = grad_mem if grad_syn is None else torch.add(grad_mem, grad_syn, alpha=alpha)
            grads[t] = grad_syn
        else:
            grads[t] = grad_mem
    if static:
        total = grads[0].clone()
        for grad in grads[1:]:
            total.add_(grad)
        return [total]
    return grads


class SpikeTrain(torch.autograd.Function):
    """All steps of one Leaky (``alpha=None``) or Synaptic layer as one autograd node.

    ``apply(num_steps, beta, alpha, threshold, bias, surrogate_alpha, *currents)`` returns a
    tuple of ``num_steps`` spike tensors; the decay constants are plain floats (frozen).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        num_steps: int,
        beta: float,
        alpha: float | None,
        threshold: float,
        bias: float,
        surrogate_alpha: float,
        *currents: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        spikes, membranes = spike_train_forward(currents, num_steps, beta, alpha, threshold, bias)
        ctx.save_for_backward(*membranes)
        ctx.constants = (beta, alpha, threshold, surrogate_alpha, len(currents) == 1)
        return tuple(spikes)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, *grad_spikes: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, ...]:
        beta, alpha, threshold, surrogate_alpha, static = ctx.constants
        grads = _backward(
            grad_spikes, ctx.saved_tensors, beta, alpha, threshold, surrogate_alpha, static
        )
        return (None, None, None, None, None, None, *grads)


def spike_train(
    currents: tuple[torch.Tensor, ...] | list[torch.Tensor],
    num_steps: int,
    *,
    beta: torch.Tensor | float,
    alpha: torch.Tensor | float | None,
    threshold: torch.Tensor | float,
    bias: float,
    surrogate_alpha: float,
) -> tuple[torch.Tensor, ...]:
    """Spikes of a layer, one (batch, ...) tensor per step, from its per-step currents.

    A single current means the same current at every step (a static input). ``beta``,
    ``alpha`` (None for Leaky) and ``threshold`` are the snntorch neuron's buffers; the decays
    are clipped to [0, 1] as snntorch does.
    """
    if len(currents) not in (1, num_steps):
        raise ValueError(f"spike_train: {len(currents)} currents for {num_steps} steps")
    beta_v = min(max(float(beta), 0.0), 1.0)
    alpha_v = None if alpha is None else min(max(float(alpha), 0.0), 1.0)
    return SpikeTrain.apply(
        num_steps, beta_v, alpha_v, float(threshold), float(bias), surrogate_alpha, *currents
    )
