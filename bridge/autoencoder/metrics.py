"""Autoencoder metrics of the paper: layer firing rate (Eq. 11), MSEd (Eq. 9), MSEl (Eq. 10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from bridge.autoencoder.model import READOUT_LAYER, SPIKING_LAYERS

SpikeRecord = torch.Tensor | np.ndarray | Sequence[torch.Tensor]


def _count(spikes: SpikeRecord) -> tuple[float, int]:
    """Spikes and neuron-step slots of one layer (one tensor, or one tensor per step)."""
    parts = [spikes] if isinstance(spikes, (torch.Tensor, np.ndarray)) else list(spikes)
    values = [torch.as_tensor(p) for p in parts]
    return sum(float(v.double().sum()) for v in values), sum(v.numel() for v in values)


def firing_rate(spikes: SpikeRecord) -> float:
    """Eq. 11: mean spike probability over neurons, positions, steps (and the batch).

    ``spikes`` holds 0/1 values of one layer: one tensor in any layout, e.g.
    (batch, steps, C, H, W), or one tensor per step as the model returns them.
    """
    total, slots = _count(spikes)
    if slots == 0:
        raise ValueError("firing_rate of an empty spike tensor is undefined")
    return total / slots


def layer_firing_rates(spikes: Mapping[str, SpikeRecord]) -> dict[str, float]:
    """Eq. 11 for every layer of a spike record."""
    return {name: firing_rate(layer) for name, layer in spikes.items()}


def network_firing_rate(spikes: Mapping[str, SpikeRecord]) -> float:
    """Network-wide rate: all spikes over all neuron-steps of all spiking layers."""
    counts = [_count(layer) for layer in spikes.values()]
    slots = sum(n for _, n in counts)
    if slots == 0:
        raise ValueError("network_firing_rate of an empty spike record is undefined")
    return sum(c for c, _ in counts) / slots


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


def load_feature_maps(path: str | Path) -> dict[str, np.ndarray]:
    """Feature maps of a run from its ``features.npz`` (written by the training)."""
    with np.load(path) as data:
        counts = {name: data[f"{name}_spike_count"] for name in SPIKING_LAYERS}
        return feature_maps(counts, data[f"{READOUT_LAYER}_reconstruction"], int(data["num_steps"]))


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
