"""Spiking neuron models with one layer interface (see :mod:`bridge.neurons.base`).

Each module holds one model: a pure step function ``*_step(input_current, state, params)
-> (output, new_state)`` and an ``nn.Module`` layer that runs it over ``[T, B, N]`` input.
"""

from bridge.neurons.adlif import AdLIFLayer, AdLIFParams, AdLIFState, adlif_step
from bridge.neurons.base import LayerOutput
from bridge.neurons.lif import LIFLayer, LIFParams, LIFState, lif_simulate, lif_step
from bridge.neurons.mtc import (
    MTC_PRESETS,
    MTCFICurve,
    MTCLayer,
    MTCParams,
    MTCState,
    MTCStepResponse,
    mtc_fi_curve,
    mtc_rest_state,
    mtc_simulate,
    mtc_step,
    mtc_step_response,
)

__all__ = [
    "AdLIFLayer",
    "AdLIFParams",
    "AdLIFState",
    "LIFLayer",
    "LIFParams",
    "LIFState",
    "LayerOutput",
    "MTCFICurve",
    "MTCLayer",
    "MTCParams",
    "MTCState",
    "MTCStepResponse",
    "MTC_PRESETS",
    "adlif_step",
    "lif_simulate",
    "lif_step",
    "mtc_fi_curve",
    "mtc_rest_state",
    "mtc_simulate",
    "mtc_step",
    "mtc_step_response",
]
