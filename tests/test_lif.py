"""The regressor's LIFLayer: delayed reset by hand, per-neuron betas, trainable beta, bias.

Its agreement with snntorch.Leaky (and every other LIF's) is tests/test_lif_implementations.py.
"""

import numpy as np
import pytest
import torch

from bridge.neurons.lif import LIFLayer


def run_layer(drive: list[float] | np.ndarray, beta: float | list[float]) -> tuple:
    """Spikes and membranes ``[T, N]`` of a float64 LIFLayer fed ``drive [T]`` or ``[T, N]``."""
    x = torch.tensor(np.asarray(drive, dtype=np.float64))
    x = x.reshape(x.shape[0], 1, -1)
    layer = LIFLayer(x.shape[2], beta=torch.tensor(beta, dtype=torch.float64), dtype=torch.float64)
    out = layer(x, record=True)
    return out.output[:, 0].numpy().astype(bool), out.recorded["mem"][1:, 0].numpy()


def test_hand_computed_delayed_reset() -> None:
    # beta 0.5: U1 = 1.2 spikes; its reset lands at step 2: U2 = 0.6 - 1 = -0.4.
    spikes, mem = run_layer([1.2, 0.0, 0.0, 0.9], beta=0.5)
    assert spikes[:, 0].tolist() == [True, False, False, False]
    assert np.allclose(mem[:, 0], [1.2, -0.4, -0.2, 0.8], atol=1e-15)
    # U == threshold does not spike (strict >).
    spikes, _ = run_layer([1.0, 0.0], beta=1.0)
    assert not spikes.any()


def test_per_neuron_betas_in_one_layer() -> None:
    drive = np.full((300, 4), 0.15)
    spikes, _ = run_layer(drive, beta=[0.5, 0.8, 0.9, 0.95])
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
