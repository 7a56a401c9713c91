"""What every spiking layer in ``bridge.neurons`` returns, and its input check.

All three layers (MTC, LIF, AdLIF) take an input current ``[T, B, N]`` (time, batch,
neurons; in each model's own current units) and return a :class:`LayerOutput`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch


class LayerOutput(NamedTuple):
    """Result of running a layer over time.

    ``output`` is ``[T, B, N]``. ``final_state`` is the model's state NamedTuple after the
    last step. ``recorded`` is ``None`` unless recording was asked for; then it maps each
    state variable's name to a ``[T + 1, B, N]`` trajectory whose index 0 is the initial
    state and index ``t + 1`` the state after step ``t`` (the form
    :func:`bridge.regressor.activity.event_raster` takes).
    """

    output: torch.Tensor
    final_state: NamedTuple
    recorded: dict[str, torch.Tensor] | None


def check_time_major_input(x: torch.Tensor, n_neurons: int, layer: str) -> None:
    """Raise ``ValueError`` unless ``x`` is ``[T, B, n_neurons]`` with T >= 1."""
    if x.dim() != 3:
        raise ValueError(f"{layer}: input must be [T, B, N]; got shape {tuple(x.shape)}")
    if x.shape[0] < 1:
        raise ValueError(f"{layer}: input has no time steps (shape {tuple(x.shape)})")
    if x.shape[2] != n_neurons:
        raise ValueError(
            f"{layer}: input has {x.shape[2]} neurons in its last dimension; "
            f"the layer has {n_neurons}"
        )


def stack_recorded(trajectories: dict[str, list[torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack per-step state lists into ``[T + 1, B, N]`` tensors."""
    return {name: torch.stack(values) for name, values in trajectories.items()}
