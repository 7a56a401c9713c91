"""All neuron maths of the bridge, one module per neuron kind, plus the registry.

- :mod:`~bridge.neurons.lif`: the LIF update equations (written once, every LIF cites them) and
  the regressor's LIF layer (snntorch ``Leaky``);
- :mod:`~bridge.neurons.adlif`: SE-AdLIF, the regressor's reference;
- :mod:`~bridge.neurons.mtc`: the multi-timescale conductance neuron;
- :mod:`~bridge.neurons.fused`: the autoencoder's fused Leaky/Synaptic training kernel;
- :mod:`~bridge.neurons.stepped`: the autoencoder's reference engine (snntorch's modules, stepped);
- :mod:`~bridge.neurons.base`: what every regressor layer returns;
- :mod:`~bridge.neurons.registry`: the regressor's neuron models by name (no torch).

The regressor's neuron modules hold a pure step function ``*_step(input_current, state, params)
-> (output, new_state)`` (or snntorch's module) and a thin ``nn.Module`` layer that runs it over
``[T, B, N]`` input and returns a :class:`~bridge.neurons.base.LayerOutput`.

Adding a neuron model to the regressor: one file here (its parameters, step and layer, with the
equations in the module docstring) and one entry in :data:`bridge.neurons.registry.NEURON_MODELS`
(name, label, layer path, per condition or reference, figure marker). The rules, the regressor's
tables and figures, its paper values and the compare stage read the registry; the regressor
builds the layer from its settings in :mod:`bridge.regressor.model` (``RegressorSpec``) and, for
a per-condition model, reads its mapped parameters in :mod:`bridge.regressor.neuron_setup`.

This package imports nothing on import: the compare stage reads the registry without torch.
"""
