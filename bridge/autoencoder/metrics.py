"""Autoencoder metrics of the paper: layer firing rate (Eq. 11), MSEd (Eq. 9), MSEl (Eq. 10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from bridge.autoencoder.model import READOUT_LAYER, SPIKING_LAYERS


def firing_rate(spikes: torch.Tensor | np.ndarray) -> float:
    """Eq. 11: mean spike probability over neurons, positions, steps (and the batch).

    ``spikes`` holds 0/1 values of one layer in any layout, e.g. (steps, batch, C, H, W).
    """
    values = torch.as_tensor(spikes)
    if values.numel() == 0:
        raise ValueError("firing_rate of an empty spike tensor is undefined")
    return float(values.double().mean())


def layer_firing_rates(spikes: Mapping[str, torch.Tensor]) -> dict[str, float]:
    """Eq. 11 for every layer of a spike record."""
    return {name: firing_rate(layer) for name, layer in spikes.items()}


def network_firing_rate(spikes: Mapping[str, torch.Tensor]) -> float:
    """Network-wide rate: all spikes over all neuron-steps of all spiking layers."""
    total = sum(float(layer.double().sum()) for layer in spikes.values())
    count = sum(layer.numel() for layer in spikes.values())
    if count == 0:
        raise ValueError("network_firing_rate of an empty spike record is undefined")
    return total / count


def msed(mse_per_iteration: Sequence[float], step: float = 1.0) -> float:
    """Eq. 9: trapezoidal area under the MSE-vs-iteration curve, ``step`` iterations apart.

    The paper does not state its step; the project uses one iteration, so values are not
    comparable with the paper's absolute MSEd. A single point has zero area.
    """
    values = np.asarray(mse_per_iteration, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError("msed needs a non-empty 1-D sequence of MSE values")
    if not np.all(np.isfinite(values)):
        raise ValueError("msed of a curve with non-finite values is undefined")
    return float(np.trapezoid(values, dx=step))


def msed_per_iteration(mse_per_iteration: Sequence[float]) -> float | None:
    """MSEd divided by the number of one-iteration steps (the curve's mean height).

    Comparable across runs of different lengths; None for a single point (no step).
    """
    n_steps = len(mse_per_iteration) - 1
    return msed(mse_per_iteration) / n_steps if n_steps > 0 else None


def feature_maps(
    spike_counts: Mapping[str, np.ndarray], reconstruction: np.ndarray, num_steps: int
) -> dict[str, np.ndarray]:
    """Per-layer feature maps of one batch: spike rate over steps per neuron; the readout's
    feature map is the reconstruction (its membrane at the last step)."""
    maps = {
        name: np.asarray(spike_counts[name], dtype=np.float64) / num_steps
        for name in SPIKING_LAYERS
    }
    maps[READOUT_LAYER] = np.asarray(reconstruction, dtype=np.float64)
    return maps


def mse_l(
    features_a: Mapping[str, np.ndarray], features_b: Mapping[str, np.ndarray]
) -> dict[str, float]:
    """Eq. 10 per layer: mean squared difference of two runs' feature maps of the same batch.

    Only meaningful between runs of the same seed (separately trained networks order their
    channels arbitrarily); report it beside a null comparison.
    """
    if set(features_a) != set(features_b):
        raise ValueError(
            f"mse_l: layers differ: {sorted(set(features_a) ^ set(features_b))} in only one run"
        )
    result = {}
    for name in features_a:
        a = np.asarray(features_a[name], dtype=np.float64)
        b = np.asarray(features_b[name], dtype=np.float64)
        if a.shape != b.shape:
            raise ValueError(f"mse_l: layer {name}: shapes {a.shape} and {b.shape} differ")
        result[name] = float(np.mean((a - b) ** 2))
    return result
