"""LIF: lif_simulate, lif_step and LIFLayer reproduce snntorch.Leaky exactly."""

import numpy as np
import pytest
import snntorch as snn
import torch
from snntorch import surrogate

from bridge.neurons.lif import LIFLayer, LIFParams, LIFState, lif_simulate, lif_step


def run_snntorch_leaky(drive: np.ndarray, beta: np.ndarray, bias: np.ndarray):
    """Reference: a plain snntorch.Leaky in float64 fed drive + bias step by step."""
    leaky = snn.Leaky(
        beta=torch.tensor(beta, dtype=torch.float64),
        threshold=1.0,
        spike_grad=surrogate.atan(alpha=2.0),
        reset_mechanism="subtract",
    )
    x = torch.tensor(drive + bias, dtype=torch.float64)
    mem = torch.zeros(drive.shape[1], dtype=torch.float64)
    spikes, mems = [], []
    for x_t in x:
        spk, mem = leaky(x_t, mem)
        spikes.append(spk.numpy().astype(bool))
        mems.append(mem.numpy().copy())
    return np.array(spikes), np.array(mems)


def test_hand_computed_delayed_reset() -> None:
    # beta 0.5: U1 = 1.2 spikes; its reset lands at step 2: U2 = 0.6 - 1 = -0.4.
    spikes, mem = lif_simulate(np.array([1.2, 0.0, 0.0, 0.9]), beta=0.5)
    assert spikes[:, 0].tolist() == [True, False, False, False]
    assert np.allclose(mem[:, 0], [1.2, -0.4, -0.2, 0.8], atol=1e-15)
    # U == threshold does not spike (strict >).
    spikes, _ = lif_simulate(np.array([1.0, 0.0]), beta=1.0)
    assert not spikes.any()


def test_lif_simulate_equals_snntorch_leaky_spike_for_spike() -> None:
    rng = np.random.default_rng(7)
    drive = rng.uniform(-0.2, 0.9, size=(400, 6))
    beta = np.array([0.0, 0.3, 0.8, 0.9, 0.95, 1.0])
    bias = np.array([0.0, 0.1, -0.05, 0.2, 0.0, -0.3])
    ref_spikes, ref_mem = run_snntorch_leaky(drive, beta, bias)
    spikes, mem = lif_simulate(drive, beta=beta, bias=bias)
    assert ref_spikes.sum() > 100, "the comparison needs many spikes"
    assert np.array_equal(spikes, ref_spikes)
    assert np.array_equal(mem, ref_mem)


def test_layer_and_step_equal_lif_simulate() -> None:
    rng = np.random.default_rng(3)
    drive = rng.uniform(-0.1, 0.8, size=(200, 2, 4))
    beta = np.array([0.5, 0.8, 0.9, 0.99])
    bias = np.array([0.0, 0.05, 0.1, -0.1])
    layer = LIFLayer(4, beta=torch.tensor(beta), bias=torch.tensor(bias), dtype=torch.float64)
    x = torch.tensor(drive)
    result = layer(x, record=True)
    state = LIFState(torch.zeros(2, 4, dtype=torch.float64))
    params = LIFParams(beta=torch.tensor(beta), bias=torch.tensor(bias))
    for b in range(2):
        spikes, mem = lif_simulate(drive[:, b], beta=beta, bias=bias)
        assert np.array_equal(result.output[:, b].numpy().astype(bool), spikes)
        assert np.array_equal(result.recorded["mem"][1:, b].numpy(), mem)
    for t in range(200):
        spk, state = lif_step(x[t], state, params)
        assert torch.equal(spk, result.output[t])
    assert torch.equal(state.mem, result.final_state.mem)
    assert result.output.sum() > 50


def test_lif_simulate_sweeps_a_beta_grid_in_one_call() -> None:
    drive = np.full((300, 1), 0.15)
    betas = np.array([0.5, 0.8, 0.9, 0.95])
    spikes, _ = lif_simulate(np.repeat(drive, 4, axis=1), beta=betas)
    counts = spikes.sum(axis=0)
    # Steady U = 0.15 / (1 - beta): below threshold for 0.5 and 0.8, above for 0.9 and 0.95.
    assert counts[0] == counts[1] == 0
    assert 0 < counts[2] < counts[3]


def test_beta_trainable_or_frozen() -> None:
    frozen = LIFLayer(3, beta=0.9)
    assert list(frozen.parameters()) == []
    trained = LIFLayer(3, beta=0.9, train_beta=True)
    assert [name for name, _ in trained.named_parameters()] == ["leaky.beta"]
    x = torch.rand(30, 2, 3) * 0.6
    trained(x).output.sum().backward()
    assert trained.beta.grad is not None and torch.all(trained.beta.grad != 0)
    # The bias is a fixed input offset: with zero input, bias 0.3 and beta 0.9 fire.
    biased = LIFLayer(3, beta=0.9, bias=0.3)
    assert biased(torch.zeros(20, 1, 3)).output.sum() > 0
    assert LIFLayer(3, beta=0.9)(torch.zeros(20, 1, 3)).output.sum() == 0


@pytest.mark.parametrize(("beta", "message"), [(1.5, "beta must lie in"), ([0.9, 0.8], "2 values")])
def test_bad_beta_is_rejected(beta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LIFLayer(3, beta=torch.tensor(beta))
