"""Leaky integrate-and-fire neuron: the update equations (written once) and the regressor's layer.

The LIF update
--------------
Every LIF in the bridge computes snntorch's ``Leaky`` with ``reset_mechanism="subtract"`` and
``reset_delay=True`` (snntorch's defaults); the other implementations cite this docstring. Per
time step, from ``U[0] = 0`` and ``S[0] = 0``::

    U[t+1] = clip(beta, 0, 1) * U[t] + I[t] - S[t] * theta     (reset applied one step late)
    S[t+1] = H(U[t+1] - theta)                                  (strict: U == theta does not spike)

``I[t]`` is the step's input current plus any constant bias (the mapping stage's ``bias_fit``);
U, I and the threshold ``theta`` are in threshold units (theta = 1), one step lasts ``dt_ms`` of
the mapping config. A spike's reset is subtracted in the *next* update, so the membrane returned
at a spiking step still exceeds theta. For training, H's derivative is replaced by snntorch's
arctan surrogate

    dS/dU = (alpha / 2) / (1 + (pi / 2 * alpha * (U - theta))^2),   alpha = 2,

and the reset term ``S[t] * theta`` is detached (no gradient flows through it).

Implementations (separate only where the arithmetic must differ;
``tests/test_lif_implementations.py`` checks each against ``snntorch.Leaky`` on the same inputs):

- :class:`LIFLayer` here: the regressor's hidden layer, a real ``snntorch.Leaky`` stepped over
  ``[T, B, N]`` input (the bias is a fixed input offset);
- :mod:`bridge.mapping.lif`: numpy float64, vectorised over parameter sets and step
  amplitudes, for the mapping fits (no autograd, millions of simulated neurons);
- :mod:`bridge.neurons.fused`: the autoencoder's fused kernel (a whole spike train in one autograd
  node, hand-written backward pass), also for snntorch's ``Synaptic``;
- :mod:`bridge.neurons.stepped`: the autoencoder's reference engine, snntorch's own modules.
"""

from __future__ import annotations

from typing import NamedTuple

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


class LIFState(NamedTuple):
    """Membrane potential U (threshold units)."""

    mem: torch.Tensor


class LIFLayer(nn.Module):
    """A layer of ``n_neurons`` snntorch ``Leaky`` neurons: ``[T, B, N]`` -> spikes ``[T, B, N]``.

    ``beta`` (float or ``[N]``) is trainable when ``train_beta`` (snntorch's ``learn_beta``;
    :meth:`clamp_parameters_` after each optimiser step keeps it in [0, 1]), frozen otherwise;
    ``bias`` (float or ``[N]``) is a fixed buffer added to the input. The initial membrane is
    zero unless a state is passed. Build float64 layers with ``dtype`` (``.double()`` would
    round the values through float32 first).
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

    @torch.no_grad()
    def clamp_parameters_(self) -> None:
        """Project a trained beta back into [0, 1] (after an optimiser step). The update clips
        beta anyway; storing the clipped value keeps a beta pushed past 1 trainable (a stored
        1.2 would sit where the clip's gradient is 0) and the reported value the one used."""
        if isinstance(self.leaky.beta, nn.Parameter):
            self.leaky.beta.clamp_(0.0, 1.0)

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
