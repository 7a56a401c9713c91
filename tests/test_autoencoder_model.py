"""The spiking autoencoder: Table 1 shapes, layer names, frozen neuron parameters, and the fused
engine computing exactly what stepping snntorch's own Leaky/Synaptic modules computes."""

import copy

import pytest
import snntorch as snn
import torch
from snntorch import surrogate

from bridge.autoencoder.model import (
    IMAGE_SIZE_PX,
    LAYER_NAMES,
    READOUT_LAYER,
    SPIKING_LAYERS,
    SYNAPTIC_LAYERS,
    ModelConfig,
    NeuronParams,
    SpikingAutoencoder,
)
from bridge.neurons.fused import KERNELS, spike_train

BATCH = 6
EXPECTED_SHAPES = {
    "EC_Lk1": (32, 16, 16),
    "EC_Syn1": (64, 8, 8),
    "EC_Syn2": (128, 4, 4),
    "EC_Lk2": (32,),
    "LS_Lk": (2048,),
    "DC_Lk1": (128, 4, 4),
    "DC_Syn1": (64, 8, 8),
    "DC_Syn2": (32, 16, 16),
}


def images(seed: int = 0, batch: int = BATCH) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 1, IMAGE_SIZE_PX, IMAGE_SIZE_PX, generator=gen)


def test_layer_names_shapes_and_bottleneck() -> None:
    torch.manual_seed(0)
    model = SpikingAutoencoder(ModelConfig())
    assert tuple(model.neuron.keys()) == LAYER_NAMES
    assert model.synapse["EC_Lk2"].out_features == model.config.latent_dim == 32
    assert model.config.latent_dim < IMAGE_SIZE_PX**2
    out = model(images())
    assert out.reconstruction.shape == (BATCH, 1, IMAGE_SIZE_PX, IMAGE_SIZE_PX)
    assert tuple(out.spikes) == SPIKING_LAYERS
    for name, shape in EXPECTED_SHAPES.items():
        assert len(out.spikes[name]) == 5
        spikes = out.stacked(name)
        assert spikes.shape == (BATCH, 5, *shape), name
        assert set(spikes.unique().tolist()) <= {0.0, 1.0}, name
    for name in LAYER_NAMES:
        expected = snn.Synaptic if name in SYNAPTIC_LAYERS else snn.Leaky
        assert type(model.neuron[name]) is expected, name


def test_latent_dim_must_compress() -> None:
    with pytest.raises(ValueError, match="latent_dim"):
        ModelConfig(latent_dim=1024)


def test_neuron_params_are_set_and_frozen() -> None:
    params = NeuronParams(beta=0.5, alpha=0.25, beta_syn=1e-4, bias=0.1)
    model = SpikingAutoencoder(ModelConfig(), params)
    for name, neuron in model.neuron.items():
        if name in SYNAPTIC_LAYERS:
            assert float(neuron.alpha) == 0.25 and float(neuron.beta) == pytest.approx(1e-4)
        else:
            assert float(neuron.beta) == 0.5
    trainable = {n for n, _ in model.named_parameters()}
    assert not any(n.startswith("neuron.") for n in trainable)
    with pytest.raises(ValueError, match="beta_syn"):
        NeuronParams(beta_syn=1.5)


def _loss(out, target: torch.Tensor) -> torch.Tensor:
    # Reconstruction error plus every layer's rate, so every spike train carries a gradient.
    rates = sum(sum(s.mean() for s in steps) for steps in out.spikes.values())
    return torch.nn.functional.mse_loss(out.reconstruction, target) + 0.1 * rates


@pytest.mark.parametrize(
    ("params", "norm_stats"),
    [
        (NeuronParams(), "shared"),
        (NeuronParams(beta=1e-4), "shared"),
        (NeuronParams(beta_syn=1e-4), "per_step"),
        (NeuronParams(alpha=1e-4, beta_syn=1e-4, bias=0.3), "per_step"),
    ],
    ids=["benchmark", "lif_beta", "syn_beta-per_step", "syn_both_bias-per_step"],
)
@pytest.mark.parametrize("kernel", KERNELS)
def test_fused_engine_equals_snntorch_stepping(
    params: NeuronParams, norm_stats: str, kernel: str
) -> None:
    torch.manual_seed(1)
    config = ModelConfig(engine="fused", norm_stats=norm_stats, neuron_kernel=kernel)
    fused = SpikingAutoencoder(config, params)
    reference = copy.deepcopy(fused)
    reference.engine = "snntorch"
    x = images(1)
    out_f, out_r = fused(x), reference(x)
    torch.testing.assert_close(out_f.reconstruction, out_r.reconstruction, rtol=1e-5, atol=1e-5)
    for name in SPIKING_LAYERS:
        assert torch.equal(out_f.stacked(name), out_r.stacked(name)), name
    _loss(out_f, x).backward()
    _loss(out_r, x).backward()
    # Conv biases before BatchNorm have a true gradient of 0 (only rounding noise), hence an
    # absolute tolerance relative to the largest gradient of the network.
    scale = max(p.grad.abs().max().item() for p in reference.parameters())
    for (name, p_f), (_, p_r) in zip(
        fused.named_parameters(), reference.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p_f.grad, p_r.grad, rtol=1e-4, atol=1e-4 * scale, msg=name)
    # BatchNorm running statistics: one update of the static input's statistics equals five
    # per-step updates (compounded momentum when shared, copied rows when per step).
    for (name, b_f), (_, b_r) in zip(fused.named_buffers(), reference.named_buffers(), strict=True):
        if name.startswith("norm.") and b_f.is_floating_point():
            torch.testing.assert_close(b_f, b_r, rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.parametrize("kernel", KERNELS)
def test_spike_train_hand_computed_leaky_and_synaptic(kernel: str) -> None:
    def train(current: float, n_currents: int, **kw: float | None) -> list[float]:
        currents = [torch.full((1, 1), current)] * n_currents
        spikes = spike_train(currents, 4, threshold=1.0, surrogate_alpha=2.0, kernel=kernel, **kw)
        return [float(s) for s in spikes]

    # Leaky, beta 1: U = 0.5, 1.0 (not above threshold), 1.5 (spike), 1.5 + 0.5 - 1 = 1.0.
    assert train(0.5, 4, beta=1.0, alpha=None, bias=0.0) == [0.0, 0.0, 1.0, 0.0]
    # Synaptic, alpha = beta = 0.5, static input 0.75 given once:
    # syn = 0.75, 1.125, 1.3125, 1.40625; U = 0.75, 1.5 (spike), 1.0625 (spike), 0.9375.
    assert train(0.75, 1, beta=0.5, alpha=0.5, bias=0.0) == [0.0, 1.0, 1.0, 0.0]
    # The bias enters the membrane, not the synaptic current: input 0.25, bias 0.5:
    # syn = 0.25, 0.375, 0.4375, 0.46875; U = 0.75, 1.25 (spike), 0.5625, 1.25 (spike).
    # (Into the current it would give syn = 0.75, 1.125, ... and spikes [0, 1, 1, 0].)
    assert train(0.25, 1, beta=0.5, alpha=0.5, bias=0.5) == [0.0, 1.0, 0.0, 1.0]
    # Leaky: the bias is an input current (0.25 + 0.25 reproduces the 0.5 input above).
    assert train(0.25, 1, beta=1.0, alpha=None, bias=0.25) == [0.0, 0.0, 1.0, 0.0]


def test_readout_never_spikes_and_is_last_membrane() -> None:
    torch.manual_seed(2)
    model = SpikingAutoencoder(ModelConfig(engine="snntorch"))
    assert float(model.neuron[READOUT_LAYER].threshold) > 1e3
    x = images(2)
    out = model(x)
    # Rebuild the readout from the DC_Syn2 spikes: sum_t beta^(T-1-t) * deconv(s_t).
    deconv = model.synapse[READOUT_LAYER]
    expected = sum(0.9 ** (4 - t) * deconv(out.spikes["DC_Syn2"][t]) for t in range(5))
    torch.testing.assert_close(out.reconstruction, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
@pytest.mark.parametrize("static", [False, True], ids=["per_step", "static"])
@pytest.mark.parametrize("bias", [0.0, 0.2])
@pytest.mark.parametrize("kernel", KERNELS)
def test_spike_train_equals_snntorch_module(
    synaptic: bool, static: bool, bias: float, kernel: str
) -> None:
    gen = torch.Generator().manual_seed(3)
    currents = [torch.randn(6, 3, 7, generator=gen) + 0.6 for _ in range(1 if static else 5)]
    grad_out = [torch.randn(6, 3, 7, generator=gen) for _ in range(5)]
    beta, alpha = 0.9, 0.8
    fused_in = [c.clone().requires_grad_(True) for c in currents]
    fused = spike_train(
        fused_in,
        5,
        beta=torch.tensor(beta),
        alpha=torch.tensor(alpha) if synaptic else None,
        threshold=torch.tensor(1.0),
        bias=bias,
        surrogate_alpha=2.0,
        kernel=kernel,
    )
    torch.autograd.backward(fused, grad_out)
    ref_in = [c.clone().requires_grad_(True) for c in currents]
    spike_grad = surrogate.atan(alpha=2.0)
    if synaptic:
        neuron = snn.Synaptic(alpha=alpha, beta=beta, threshold=1.0, spike_grad=spike_grad)
    else:
        neuron = snn.Leaky(beta=beta, threshold=1.0, spike_grad=spike_grad)
    state = None
    reference = []
    leaky = snn.Leaky(beta=beta, threshold=1.0, spike_grad=spike_grad)
    for t in range(5):
        cur = ref_in[0 if static else t]
        if synaptic:
            # The bias enters the membrane: snntorch's synaptic current of the input alone
            # (Synaptic does not reset it), then a Leaky membrane driven by it plus the bias.
            syn, mem = state if state else (torch.zeros_like(cur), torch.zeros_like(cur))
            _, syn, _ = neuron(cur, syn, torch.zeros_like(cur))
            spk, mem = leaky(syn + bias, mem)
            state = (syn, mem)
        else:
            cur = cur + bias
            mem = state[0] if state else torch.zeros_like(cur)
            spk, mem = neuron(cur, mem)
            state = (mem,)
        reference.append(spk)
    torch.autograd.backward(reference, grad_out)
    assert 0 < torch.stack(fused).mean() < 1
    for t in range(5):
        assert torch.equal(fused[t], reference[t]), t
    for f_in, r_in in zip(fused_in, ref_in, strict=True):
        torch.testing.assert_close(f_in.grad, r_in.grad, rtol=1e-4, atol=1e-5)


def test_per_step_norm_keeps_each_steps_statistics() -> None:
    torch.manual_seed(4)
    model = SpikingAutoencoder(ModelConfig(norm_stats="per_step"))
    model(images(4, batch=16))
    static = model.norm["EC_Lk1"].running_mean
    assert static.shape == (5, 32)
    assert torch.equal(static[0], static[4]) and static.abs().sum() > 0
    # EC_Syn1 sees the growing spike trains of EC_Lk1: its statistics differ between steps.
    later = model.norm["EC_Syn1"].running_mean
    assert not torch.allclose(later[0], later[4])
    model.eval()
    with torch.no_grad():
        out = model(images(5))
    assert torch.isfinite(out.reconstruction).all()


def test_zero_readout_init_outputs_a_blank_image() -> None:
    torch.manual_seed(6)
    x = images(6)
    blank = SpikingAutoencoder(ModelConfig(readout_init="zero"))(x)
    assert torch.equal(blank.reconstruction, torch.zeros_like(x))
    assert sum(out.sum() for out in blank.spikes["EC_Lk1"]) > 0  # only the readout is zeroed
    torch.manual_seed(6)
    default = SpikingAutoencoder(ModelConfig())(x)
    assert default.reconstruction.abs().max() > 0.1
