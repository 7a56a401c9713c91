"""The regressor's neuron models, named once: the rules, the regressor and the compare stage read
this table instead of lists of their own.

Plain data without torch (the compare stage runs in ``envs/analysis.yaml``); the layer class is
named by import path and imported only by :func:`layer_class`. The order of :data:`NEURON_MODELS`
is the order of every table and figure (condition models first, then the reference).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NeuronModel:
    """One neuron model of the regressor.

    ``per_condition``: trained once per condition and seed with the neuron parameters the
    mapping stage fitted to that condition (frozen); otherwise the per-seed reference, trained
    with its own parameters and no mapping (results under ``regressor/reference/``).
    ``layer``: ``"module:Class"`` of its layer in :mod:`bridge.neurons`. ``label`` and
    ``marker`` (a matplotlib marker) are how tables and figures show it.
    """

    name: str
    label: str
    layer: str
    per_condition: bool
    marker: str
    description: str


NEURON_MODELS: dict[str, NeuronModel] = {
    model.name: model
    for model in (
        NeuronModel(
            name="mtc",
            label="MTC",
            layer="bridge.neurons.mtc:MTCLayer",
            per_condition=True,
            marker="o",
            description="multi-timescale conductance neuron, gains mapped per condition",
        ),
        NeuronModel(
            name="lif",
            label="LIF",
            layer="bridge.neurons.lif:LIFLayer",
            per_condition=True,
            marker="s",
            description="snntorch Leaky, beta and bias mapped per condition",
        ),
        NeuronModel(
            name="adlif",
            label="AdLIF",
            layer="bridge.neurons.adlif:AdLIFLayer",
            per_condition=False,
            marker="^",
            description="SE-AdLIF (Baronig et al.), the reference with trained neuron parameters",
        ),
    )
}
#: Every model's name, in table order.
MODEL_NAMES: tuple[str, ...] = tuple(NEURON_MODELS)
#: Models trained per condition from its mapping.
CONDITION_MODELS: tuple[str, ...] = tuple(m.name for m in NEURON_MODELS.values() if m.per_condition)
#: The reference model (trained once per seed, no mapping).
(REFERENCE_MODEL,) = (m.name for m in NEURON_MODELS.values() if not m.per_condition)


def neuron_model(name: str) -> NeuronModel:
    """The registry entry of ``name``; ``ValueError`` naming the known models otherwise."""
    if name not in NEURON_MODELS:
        raise ValueError(f"unknown neuron model {name!r}; known: {MODEL_NAMES}")
    return NEURON_MODELS[name]


def layer_class(name: str) -> Any:
    """The layer class of model ``name`` (imports its module, hence torch)."""
    module, _, attribute = neuron_model(name).layer.partition(":")
    return getattr(importlib.import_module(module), attribute)
