"""Spiking regressor: input projection -> one spiking hidden layer -> linear readout.

The three neuron types share the architecture and width: ``Linear(n_inputs, n_hidden)``
turns the analog input into one current per hidden neuron at every step, the hidden layer
(MTC, LIF or AdLIF from :mod:`bridge.neurons`) runs over time, and ``Linear(n_hidden,
n_outputs)`` reads the layer's output at the same step. The synaptic parameters are
identical in number; the neuron parameters differ and are reported by
:func:`parameter_counts`: SE-AdLIF trains 4 per neuron in every run; LIF 1 (beta) and MTC one per
field of ``mtc_trainable`` (8 in the config's trained arm: the four gains and four offsets)
in the trained arms (condition ``reference``, as the MTC paper ran them), 0 in the
per-condition mapped arms, which freeze the mapped values.

``projection_bias=False`` drops the projection's per-neuron bias, so that a neuron's
operating point is the one its own parameters set (a mapped ``i_bias``/``bias_fit``) and
cannot be trained away by a learned input offset.

Initialisation: PyTorch's default for both linear maps, except that the MTC's projection is
divided by the neuron's ``input_scale`` (the mapping's nA -> model-current gain, about 22 for
the mapped conditions), which the MTC applies to its input: every model then starts with
currents of the same spread in its own units (threshold units for LIF/AdLIF, model current
for MTC), instead of an MTC driven twenty times past its firing band.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from bridge.neurons.adlif import AdLIFLayer
from bridge.neurons.base import LayerOutput
from bridge.neurons.lif import LIF_DEFAULT_BETA, LIFLayer
from bridge.neurons.mtc import MTC_PRESETS, MTCLayer, MTCParams
from bridge.neurons.registry import MODEL_NAMES


@dataclass(frozen=True)
class RegressorSpec:
    """Architecture and neuron settings (units as in each neuron module)."""

    neuron: str
    n_hidden: int
    n_inputs: int = 1
    n_outputs: int = 1
    mtc_params: MTCParams = field(default_factory=lambda: MTC_PRESETS["tonic"])
    mtc_trainable: tuple[str, ...] = ()
    mtc_substeps: int = 1
    lif_beta: float | torch.Tensor = LIF_DEFAULT_BETA
    lif_bias: float | torch.Tensor = 0.0
    lif_train_beta: bool = False
    adlif_trainable: bool = True
    projection_bias: bool = True

    def __post_init__(self) -> None:
        if self.neuron not in MODEL_NAMES:
            raise ValueError(f"RegressorSpec.neuron {self.neuron!r} is not one of {MODEL_NAMES}")
        if min(self.n_hidden, self.n_inputs, self.n_outputs) < 1:
            raise ValueError("RegressorSpec: n_hidden, n_inputs and n_outputs must be >= 1")


class SpikingRegressor(nn.Module):
    """``forward(x [T, B, n_inputs]) -> (y [T, B, n_outputs], hidden LayerOutput)``."""

    def __init__(self, spec: RegressorSpec, seed: int, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.spec = spec
        # A private RNG stream: the same seed gives the same initial weights without
        # touching the caller's global torch RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.projection = nn.Linear(
                spec.n_inputs, spec.n_hidden, bias=spec.projection_bias, dtype=dtype
            )
            self.readout = nn.Linear(spec.n_hidden, spec.n_outputs, dtype=dtype)
            generator = torch.Generator().manual_seed(seed)
            self.hidden = _build_hidden(spec, generator, dtype)
            if spec.neuron == "mtc":
                # The MTC multiplies its input by input_scale (the mapping's nA -> model
                # current gain); divide it out of the initial projection so that every model
                # starts with currents of the same spread in its own units.
                with torch.no_grad():
                    scale = torch.as_tensor(self.hidden.input_scale).reshape(-1, 1)
                    self.projection.weight.div_(scale)
                    if self.projection.bias is not None:
                        self.projection.bias.div_(scale.reshape(-1))

    def forward(
        self, x: torch.Tensor, state: tuple | None = None, record: bool = False
    ) -> tuple[torch.Tensor, LayerOutput]:
        if x.dim() != 3 or x.shape[2] != self.spec.n_inputs:
            raise ValueError(
                f"SpikingRegressor: input must be [T, B, {self.spec.n_inputs}]; "
                f"got {tuple(x.shape)}"
            )
        hidden = self.hidden(self.projection(x), state, record=record)
        return self.readout(hidden.output), hidden

    @torch.no_grad()
    def predict_closed_loop(self, warmup: torch.Tensor, n_steps: int) -> torch.Tensor:
        """Teacher-force ``warmup [T_w, B, 1]``, then feed back predictions for ``n_steps``.

        Returns the ``n_steps`` free-running predictions ``[n_steps, B, 1]``; the first is
        the one-step-ahead prediction after the last warm-up sample.
        """
        if self.spec.n_inputs != 1 or self.spec.n_outputs != 1:
            raise ValueError("predict_closed_loop needs n_inputs == n_outputs == 1")
        y, hidden = self(warmup)
        state = hidden.final_state
        prediction = y[-1:]
        predictions = [prediction]
        for _ in range(n_steps - 1):
            prediction, hidden = self(prediction, state)
            state = hidden.final_state
            predictions.append(prediction)
        return torch.cat(predictions)

    @torch.no_grad()
    def constrain_parameters_(self) -> None:
        """Project constrained neuron parameters back into range (after an optimiser step)."""
        clamp = getattr(self.hidden, "clamp_parameters_", None)
        if clamp is not None:
            clamp()


def _build_hidden(
    spec: RegressorSpec, generator: torch.Generator, dtype: torch.dtype | None
) -> nn.Module:
    if spec.neuron == "mtc":
        return MTCLayer(
            spec.n_hidden,
            spec.mtc_params,
            trainable=spec.mtc_trainable,
            substeps=spec.mtc_substeps,
            dtype=dtype,
        )
    if spec.neuron == "lif":
        return LIFLayer(
            spec.n_hidden,
            beta=spec.lif_beta,
            bias=spec.lif_bias,
            train_beta=spec.lif_train_beta,
            dtype=dtype,
        )
    return AdLIFLayer(
        spec.n_hidden, trainable=spec.adlif_trainable, generator=generator, dtype=dtype
    )


def parameter_counts(model: SpikingRegressor) -> dict[str, int]:
    """Trainable parameters: ``synaptic`` (projection + readout), ``neuron``, ``total``."""
    synaptic = sum(
        p.numel()
        for module in (model.projection, model.readout)
        for p in module.parameters()
        if p.requires_grad
    )
    neuron = sum(p.numel() for p in model.hidden.parameters() if p.requires_grad)
    return {"synaptic": synaptic, "neuron": neuron, "total": synaptic + neuron}
