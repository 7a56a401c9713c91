"""snntorch's own ``Leaky`` and ``Synaptic`` modules, stepped one time step at a time.

The autoencoder's reference engine (``engine: snntorch``): the update equations, spike rule and
surrogate are those of :mod:`bridge.neurons.lif` (Leaky) and :mod:`bridge.neurons.fused`
(Synaptic), computed by snntorch itself. :func:`snntorch_neuron` builds a neuron with the
bridge's settings (reset by subtraction, applied one step late; arctan surrogate) and
:func:`snntorch_step` advances it by one step from a state tuple (``None``: zero state).

The constant ``bias`` enters the membrane of both neurons (why: :mod:`bridge.neurons.fused`).
snntorch's ``Synaptic`` has no membrane input of its own, so its state carries the bias inside
the synaptic current: with ``syn`` started at ``bias`` (its steady state) and the input
``x_t + (1 - alpha) * bias``, snntorch's ``syn_t = alpha * syn_{t-1} + input`` equals
``syn'_t + bias`` at every step, where ``syn'_t`` is the bias-free current; its membrane update
``U_t = beta * U_{t-1} + syn_t`` is then exactly the membrane form. The state's ``syn`` entry is
that shifted current.
"""

from __future__ import annotations

from collections.abc import Callable

import snntorch as snn
import torch

#: Initial decay of every neuron; the autoencoder overwrites it with the scenario's values.
INITIAL_DECAY = 0.9

#: A surrogate gradient function (``snntorch.surrogate.atan(alpha)``).
SpikeGrad = Callable[[torch.Tensor], torch.Tensor]
#: A neuron's state: ``(mem,)`` for Leaky, ``(syn, mem)`` for Synaptic; None before the first step.
NeuronState = tuple[torch.Tensor, ...] | None


def snntorch_neuron(
    synaptic: bool, threshold: float, spike_grad: SpikeGrad | None = None
) -> snn.Leaky | snn.Synaptic:
    """A Leaky (or Synaptic) neuron with reset by subtraction and snntorch's ``reset_delay``.

    ``spike_grad`` is the surrogate (snntorch's arctan with its default slope when None). The
    decays start at :data:`INITIAL_DECAY` and are buffers (never trained).
    """
    if synaptic:
        return snn.Synaptic(
            alpha=INITIAL_DECAY, beta=INITIAL_DECAY, threshold=threshold, spike_grad=spike_grad
        )
    return snn.Leaky(beta=INITIAL_DECAY, threshold=threshold, spike_grad=spike_grad)


def snntorch_step(
    neuron: snn.Leaky | snn.Synaptic, current: torch.Tensor, state: NeuronState, bias: float
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """One step: ``(spikes, new state)`` from the input ``current`` plus a constant ``bias``.

    The state's last entry is always the membrane potential; a Synaptic state's ``syn`` holds
    the synaptic current plus ``bias`` (module docstring).
    """
    if isinstance(neuron, snn.Synaptic):
        if state is None:
            syn, mem = torch.full_like(current, bias), torch.zeros_like(current)
        else:
            syn, mem = state
        if bias:
            alpha = float(neuron.alpha.clamp(0, 1))
            current = current + (1.0 - alpha) * bias
        spikes, syn, mem = neuron(current, syn, mem)
        return spikes, (syn, mem)
    if bias:
        current = current + bias
    mem = state[0] if state is not None else torch.zeros_like(current)
    spikes, mem = neuron(current, mem)
    return spikes, (mem,)
