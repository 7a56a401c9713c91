"""Zero input: every spiking layer of the built autoencoder does what the mapped LIF does.

A condition's mapping gives (beta, bias) and beta_syn = beta, alpha_syn 0.9. With every weight
and offset at zero each layer's only drive is the mapped bias, so each must reproduce a
``snntorch.Leaky`` (:class:`bridge.neurons.lif.LIFLayer`) with the same beta and bias: silent
when the resting drive bias / (1 - beta) is below threshold, the same spikes when above. The
bias used to enter a Synaptic layer's current, which alpha integrates: with the control's
mapping (beta 0.70, bias 0.29, resting drive 0.97) those layers then fired from step 3.
"""

from __future__ import annotations

import pytest
import torch

from bridge.autoencoder.layers import SPIKING_LAYERS, SYNAPTIC_LAYERS
from bridge.autoencoder.model import IMAGE_SIZE_PX, ModelConfig, NeuronParams, SpikingAutoencoder
from bridge.neurons.lif import LIFLayer

#: Long enough for a barely supra-threshold LIF (resting drive 1.04) to fire more than once.
N_STEPS = 26
#: The mapping stage's synaptic current decay.
ALPHA_SYN = 0.9
#: (beta, bias): the control's mapping (sub-threshold, resting drive 0.967), the
#: hyperexcitable one (just supra-threshold, 1.04) and a strongly driven cell (1.67).
MAPPINGS = {
    "sub_threshold": (0.70, 0.29),
    "barely_supra": (0.75, 0.26),
    "supra": (0.70, 0.50),
}


def lif_spikes(beta: float, bias: float, drive: torch.Tensor) -> torch.Tensor:
    """Spikes [T] of one mapped LIF (snntorch.Leaky through LIFLayer) for input ``drive [T]``."""
    layer = LIFLayer(1, beta=beta, bias=bias)
    return layer(drive.reshape(-1, 1, 1)).output.reshape(-1)


def silent_weights_model(beta: float, bias: float, engine: str) -> SpikingAutoencoder:
    model = SpikingAutoencoder(
        ModelConfig(num_steps=N_STEPS, engine=engine, offsets="frozen"),
        NeuronParams(beta=beta, alpha=ALPHA_SYN, beta_syn=beta, bias=bias),
    )
    with torch.no_grad():
        for module in model.synapse.values():
            module.weight.zero_()
            module.bias.zero_()
    return model.eval()


@pytest.mark.parametrize("engine", ["fused", "snntorch"])
@pytest.mark.parametrize("mapping", list(MAPPINGS), ids=list(MAPPINGS))
def test_zero_input_gives_the_mapped_lif_in_every_layer(engine: str, mapping: str) -> None:
    beta, bias = MAPPINGS[mapping]
    model = silent_weights_model(beta, bias, engine)
    with torch.no_grad():
        out = model(torch.zeros(1, 1, IMAGE_SIZE_PX, IMAGE_SIZE_PX))
    resting = lif_spikes(beta, bias, torch.zeros(N_STEPS))
    if bias / (1 - beta) < 1:
        assert resting.sum() == 0
    else:
        assert resting.sum() >= 2
    checked = set()
    for name in SPIKING_LAYERS:
        spikes = out.stacked(name).flatten(2)  # batch, steps, neurons
        # DC_Lk1 has no weights: its input is LS_Lk's spikes (zero when LS_Lk is silent).
        drive = out.stacked("LS_Lk")[0, :, 0] if name == "DC_Lk1" else torch.zeros(N_STEPS)
        expected = lif_spikes(beta, bias, drive)
        per_neuron = expected.view(1, N_STEPS, 1).expand_as(spikes)
        assert torch.equal(spikes, per_neuron), (name, spikes[0, :, 0], expected)
        assert int(spikes[0, :, 0].sum()) == int(expected.sum()), name
        checked.add(name)
    assert checked == set(SPIKING_LAYERS) and set(SYNAPTIC_LAYERS) <= checked


def test_control_mapping_synaptic_layer_is_silent_at_rest() -> None:
    """The case that exposed the old entry: a Synaptic layer, the control's (beta, bias)."""
    beta, bias = MAPPINGS["sub_threshold"]
    model = silent_weights_model(beta, bias, "fused")
    with torch.no_grad():
        out = model(torch.zeros(1, 1, IMAGE_SIZE_PX, IMAGE_SIZE_PX))
    for name in SYNAPTIC_LAYERS:
        assert out.stacked(name).sum() == 0, name
    # Integrated by alpha as a synaptic current, the same bias crosses threshold at step 3.
    syn = mem = 0.0
    first = None
    for step in range(N_STEPS):
        syn = ALPHA_SYN * syn + bias
        mem = beta * mem + syn
        if mem > 1.0:
            first = step + 1
            break
    assert first == 3
