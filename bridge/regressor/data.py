"""Mackey-Glass data for the regressor: the raw splits, z-scoring, and training windows.

The networks see the series z-scored with the training inputs' mean and standard
deviation (equation units); every metric is computed on the raw series after undoing it.

Evaluation sequences (sample indices i of the series x[0..n_train + n_test]):

- one step ahead: the network runs teacher-forced over x[0 .. n_train + n_test - 1] from
  its initial state; its outputs at the test inputs x[n_train + k] predict
  ``test_target[k] = x[n_train + k + 1]``.
- closed loop (NeuroBench's autoregressive mode): the network is teacher-forced over
  x[0 .. n_train] (the training inputs and the first test input, which is the last
  training target, so no test target is ever seen); its last output predicts
  ``test_target[0]``, and from then on each prediction is its next input. The first
  closed-loop prediction therefore equals the first one-step prediction, and both modes
  are scored on the same ``test_target``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bridge.regressor.mackey_glass import MackeyGlassParams, MackeyGlassSplits, mackey_glass_splits


@dataclass(frozen=True)
class Standardiser:
    """``z = (x - mean) / std`` with the training inputs' statistics (equation units)."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values: np.ndarray) -> Standardiser:
        std = float(np.std(values))
        if not std > 0.0:
            raise ValueError("Standardiser: the training inputs are constant")
        return cls(mean=float(np.mean(values)), std=std)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


@dataclass(frozen=True)
class RegressorData:
    """Raw splits plus the z-scored sequences the networks consume."""

    params: MackeyGlassParams
    splits: MackeyGlassSplits
    scaler: Standardiser

    @property
    def n_train(self) -> int:
        return len(self.splits.train_input)

    @property
    def n_test(self) -> int:
        return len(self.splits.test_input)

    def one_step_inputs(self) -> np.ndarray:
        """z-scored x[0 .. n_train + n_test - 1] (train then test inputs)."""
        return self.scaler.forward(
            np.concatenate([self.splits.train_input, self.splits.test_input])
        )

    def closed_loop_warmup(self) -> np.ndarray:
        """z-scored x[0 .. n_train]: the training inputs and the first test input."""
        return self.scaler.forward(
            np.concatenate([self.splits.train_input, self.splits.test_input[:1]])
        )


def load_regressor_data(params: MackeyGlassParams) -> RegressorData:
    """Generate the series (``mackey_glass``) and fit the standardiser on the train inputs."""
    splits = mackey_glass_splits(params)
    return RegressorData(params=params, splits=splits, scaler=Standardiser.fit(splits.train_input))


def window_starts(n_samples: int, window_steps: int, stride: int) -> np.ndarray:
    """Start indices of the windows of ``window_steps`` samples every ``stride`` samples.

    The last window ends exactly at the end of the span when the stride does not reach it,
    so every training sample is covered.
    """
    if window_steps > n_samples:
        raise ValueError(f"window_starts: window of {window_steps} > span of {n_samples}")
    starts = list(range(0, n_samples - window_steps + 1, stride))
    if starts[-1] != n_samples - window_steps:
        starts.append(n_samples - window_steps)
    return np.asarray(starts, dtype=np.int64)


def training_windows(
    data: RegressorData, window_steps: int, stride: int, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    """z-scored one-step-ahead windows ``(inputs, targets)``, each ``[window_steps, W, 1]``."""
    x = data.scaler.forward(data.splits.train_input)
    y = data.scaler.forward(data.splits.train_target)
    starts = window_starts(len(x), window_steps, stride)
    index = starts[None, :] + np.arange(window_steps)[:, None]
    inputs = torch.as_tensor(x[index], dtype=dtype).unsqueeze(-1)
    targets = torch.as_tensor(y[index], dtype=dtype).unsqueeze(-1)
    return inputs, targets
