"""The autoencoder's fast paths against the reference: compiled neuron kernel, bfloat16.

The compiled kernel computes the fused engine's equations in another operation order, so it
must agree with the eager kernel to float rounding (spikes identical, gradients allclose and
cosine >= 0.99 per tensor). bfloat16 changes results by design (convolutions round their
weights to 8 mantissa bits, which moves threshold crossings); what it must keep exact is the
neuron state in float32 and spikes that are exactly 0 or 1. Its training-level equivalence (loss
curves and test MSE over seeds) is measured by ``bench/bench_autoencoder.py --quality``.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from bridge.autoencoder.layers import SPIKING_LAYERS
from bridge.autoencoder.model import ModelConfig, NeuronParams, SpikingAutoencoder
from bridge.neurons.fused import KERNELS, spike_train, spike_train_forward

#: 1 + 2**-9 is a float32 number but rounds to 1.0 in bfloat16 (7 stored mantissa bits).
BELOW_BF16_ULP = 2.0**-9


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
def test_bf16_currents_keep_a_float32_membrane(kernel: str, synaptic: bool) -> None:
    # Leaky with beta 1: U = 1.0 (not above threshold), then 1 + 2**-9 (above). A bfloat16
    # membrane would round the second value to 1.0 and miss the spike. Synaptic with alpha 0
    # and beta 1 integrates the same way.
    currents = [torch.tensor([1.0]), torch.tensor([BELOW_BF16_ULP])]
    currents = [c.to(torch.bfloat16) for c in currents]
    spikes = spike_train(
        currents,
        2,
        beta=1.0,
        alpha=0.0 if synaptic else None,
        threshold=1.0,
        bias=0.0,
        surrogate_alpha=2.0,
        spike_dtype=torch.bfloat16,
        kernel=kernel,
    )
    assert [float(s) for s in spikes] == [0.0, 1.0]
    assert all(s.dtype == torch.bfloat16 for s in spikes)
    _, membranes = spike_train_forward(currents, 2, 1.0, None, 1.0, 0.0, torch.bfloat16)
    assert all(m.dtype == torch.float32 for m in membranes)


@pytest.mark.parametrize("static", [False, True], ids=["per_step", "static"])
@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
def test_compiled_kernel_equals_eager_in_float64(static: bool, synaptic: bool) -> None:
    gen = torch.Generator().manual_seed(4)
    shape = (4, 3, 5)
    n_currents = 1 if static else 5
    currents = [
        torch.randn(shape, generator=gen, dtype=torch.float64) + 0.7 for _ in range(n_currents)
    ]
    weights = [torch.randn(shape, generator=gen, dtype=torch.float64) for _ in range(5)]
    results = {}
    for kernel in KERNELS:
        inputs = [c.clone().requires_grad_(True) for c in currents]
        spikes = spike_train(
            inputs,
            5,
            beta=0.8,
            alpha=0.7 if synaptic else None,
            threshold=1.0,
            bias=0.1,
            surrogate_alpha=2.0,
            kernel=kernel,
        )
        sum((w * s).sum() for w, s in zip(weights, spikes, strict=True)).backward()
        results[kernel] = (torch.stack(spikes), [i.grad for i in inputs])
    (s_e, g_e), (s_c, g_c) = results["eager"], results["compiled"]
    assert 0 < float(s_e.detach().mean()) < 1
    assert torch.equal(s_e, s_c)
    for a, b in zip(g_e, g_c, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(F.cosine_similarity(a.flatten().double(), b.flatten().double(), dim=0))


def test_compiled_kernel_model_gradients_match_eager() -> None:
    """Whole network, float32: same reconstruction, spikes and gradients (cosine >= 0.99 per
    parameter tensor that has a gradient; conv biases before BatchNorm have a true gradient of
    0, only rounding noise, and are excluded by size)."""
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    params = NeuronParams(beta=0.85, alpha=0.8, beta_syn=0.8, bias=0.05)
    outs, grads = {}, {}
    for kernel in KERNELS:
        torch.manual_seed(6)
        model = SpikingAutoencoder(ModelConfig(neuron_kernel=kernel), params)
        out = model(x)
        F.mse_loss(out.reconstruction, x).backward()
        outs[kernel] = out
        grads[kernel] = {n: p.grad for n, p in model.named_parameters() if p.grad is not None}
    torch.testing.assert_close(
        outs["compiled"].reconstruction, outs["eager"].reconstruction, rtol=1e-5, atol=1e-5
    )
    for name in SPIKING_LAYERS:
        assert torch.equal(outs["compiled"].stacked(name), outs["eager"].stacked(name)), name
    scale = max(float(g.abs().max()) for g in grads["eager"].values())
    checked = 0
    for name, g in grads["eager"].items():
        if float(g.abs().max()) < 1e-4 * scale:
            continue
        checked += 1
        assert _cosine(g, grads["compiled"][name]) >= 0.99, name
        torch.testing.assert_close(grads["compiled"][name], g, rtol=1e-3, atol=1e-4 * scale)
    assert checked >= 15


def test_bf16_model_spikes_are_exact_and_first_layer_agrees() -> None:
    x = torch.rand(32, 1, 32, 32, generator=torch.Generator().manual_seed(7))
    outs = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(8)
        outs[precision] = SpikingAutoencoder(ModelConfig(precision=precision))(x)
    bf16 = outs["bf16"]
    assert bf16.reconstruction.dtype == torch.float32
    for name in SPIKING_LAYERS:
        spikes = bf16.stacked(name)
        assert spikes.dtype == torch.bfloat16
        assert torch.equal(spikes, spikes.clamp(0, 1).round()), name
    # The first layer sees the image through one bfloat16 convolution: only neurons within
    # bfloat16 rounding of the threshold may flip (measured ~0.6 %; deeper layers compound).
    flips = (bf16.stacked("EC_Lk1").float() != outs["fp32"].stacked("EC_Lk1")).float().mean()
    assert float(flips) < 0.02


def test_precision_and_kernel_are_checked() -> None:
    with pytest.raises(ValueError, match="precision"):
        ModelConfig(precision="fp16")
    with pytest.raises(ValueError, match="neuron_kernel"):
        ModelConfig(neuron_kernel="triton")
    with pytest.raises(ValueError, match="needs engine 'fused'"):
        ModelConfig(engine="snntorch", precision="bf16")
