"""Paper metrics on hand-made inputs: firing rate (Eq. 11), MSEd (Eq. 9), MSEl (Eq. 10)."""

import numpy as np
import pytest
import torch

from bridge.autoencoder.metrics import (
    feature_maps,
    firing_rate,
    layer_firing_rates,
    mse_l,
    msed,
    msed_per_iteration,
    network_firing_rate,
)
from bridge.autoencoder.model import READOUT_LAYER, SPIKING_LAYERS


def test_firing_rate_counts_every_neuron_position_and_step() -> None:
    # 2 steps x 1 image x 2 channels x 2 x 2 = 16 slots, 5 spikes.
    spikes = torch.zeros(2, 1, 2, 2, 2)
    spikes[0, 0, 0, 0, 0] = 1
    spikes[0, 0, 1, 1, 1] = 1
    spikes[1, 0, 0, 0, 1] = 1
    spikes[1, 0, 0, 1, 0] = 1
    spikes[1, 0, 1, 0, 0] = 1
    assert firing_rate(spikes) == 5 / 16
    assert firing_rate(list(spikes.unbind(0))) == 5 / 16  # one tensor per step, as the model
    assert firing_rate(torch.ones(3, 4)) == 1.0
    assert firing_rate(np.zeros((5, 7))) == 0.0
    with pytest.raises(ValueError, match="empty"):
        firing_rate(torch.zeros(0))


def test_network_rate_weights_layers_by_size() -> None:
    record = {"small": torch.ones(1, 2), "large": torch.zeros(1, 6)}
    assert layer_firing_rates(record) == {"small": 1.0, "large": 0.0}
    # 2 spikes in 8 neuron-steps, not the mean of the two layer rates (0.5).
    assert network_firing_rate(record) == 0.25


def test_msed_on_known_curves() -> None:
    # Linear MSE j = 0..4: area of a triangle 4 * 4 / 2 = 8 (exact for the trapezoid rule).
    assert msed([0, 1, 2, 3, 4]) == 8.0
    # Constant 0.1 over 11 points (10 one-iteration steps): area 1.0, mean height 0.1.
    assert msed([0.1] * 11) == pytest.approx(1.0)
    assert msed_per_iteration([0.1] * 11) == pytest.approx(0.1)
    # Trapezoids, not rectangles: [1, 3] has area 2 (left sum 1, right sum 3).
    assert msed([1.0, 3.0]) == 2.0
    assert msed([1.0, 3.0], step=2.0) == 4.0
    assert msed([0.5]) == 0.0 and msed_per_iteration([0.5]) is None
    with pytest.raises(ValueError, match="non-finite"):
        msed([0.1, float("nan")])


def test_mse_l_per_layer() -> None:
    a = {"L1": np.array([[0.0, 1.0], [1.0, 0.0]]), "L2": np.ones(3)}
    b = {"L1": np.array([[0.0, 0.0], [1.0, 1.0]]), "L2": np.ones(3)}
    assert mse_l(a, b) == {"L1": 0.5, "L2": 0.0}
    assert mse_l(a, a) == {"L1": 0.0, "L2": 0.0}
    with pytest.raises(ValueError, match="layers differ"):
        mse_l(a, {"L1": a["L1"]})
    with pytest.raises(ValueError, match="L2: shapes"):
        mse_l(a, {"L1": a["L1"], "L2": np.ones(4)})


def test_feature_maps_are_rates_and_reconstruction() -> None:
    counts = {name: np.full((2, 3), 5, dtype=np.uint8) for name in SPIKING_LAYERS}
    counts["EC_Lk1"] = np.array([[0, 1, 2], [3, 4, 5]], dtype=np.uint8)
    recon = np.full((2, 1, 4, 4), 0.25, dtype=np.float32)
    maps = feature_maps(counts, recon, num_steps=5)
    assert set(maps) == {*SPIKING_LAYERS, READOUT_LAYER}
    np.testing.assert_allclose(maps["EC_Lk1"], [[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]])
    assert maps["DC_Syn2"].max() == 1.0
    np.testing.assert_array_equal(maps[READOUT_LAYER], recon)
