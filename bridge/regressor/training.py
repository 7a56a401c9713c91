"""One-step-ahead training of a :class:`~bridge.regressor.model.SpikingRegressor` by BPTT.

Adam on the mean squared error (z-scored units) of the one-step predictions over windows of
the training span (:func:`bridge.regressor.data.training_windows`), the first
``washout_steps`` of each window unscored, gradients clipped to ``grad_clip_norm`` (global
L2 norm), and constrained neuron parameters projected back into range after every step
(SE-AdLIF's published ranges, a trained LIF beta into [0, 1], a trained MTC a_fast below
forward Euler's stability bound). Window order is shuffled every epoch by a generator
seeded with the run's seed, so a seed fixes the whole run. The loop stops early, flagged
``diverged``, if a loss is not finite; the curve then ends at the last finite epoch.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import torch

from bridge.config.regressor import TrainingConfig
from bridge.logs import ProgressLog
from bridge.regressor.model import SpikingRegressor

LOG = logging.getLogger(__name__)
#: Progress lines per training run in the log, besides the first and last epoch's and one
#: per ``bridge.logs.PROGRESS_INTERVAL_S`` (so a slow run is never silent for long).
LOG_LINES_PER_RUN = 20


@dataclass(frozen=True)
class TrainingResult:
    """Per-epoch mean training loss (z units; window-weighted over batches) and bookkeeping."""

    epoch_loss: list[float]
    diverged: bool
    n_windows: int
    batches_per_epoch: int
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "loss": "mean squared error of one-step predictions, z-scored units, washout excluded",
            "epoch_loss": self.epoch_loss,
            "epochs_run": len(self.epoch_loss),
            "final_loss": self.epoch_loss[-1] if self.epoch_loss else None,
            "diverged": self.diverged,
            "n_windows": self.n_windows,
            "batches_per_epoch": self.batches_per_epoch,
        }


def train_bptt(
    model: SpikingRegressor,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    settings: TrainingConfig,
    seed: int,
) -> TrainingResult:
    """Train ``model`` in place on windows ``inputs``/``targets`` ``[T, W, 1]`` (same device)."""
    if inputs.shape != targets.shape or inputs.dim() != 3:
        raise ValueError(
            f"train_bptt: inputs {tuple(inputs.shape)} and targets {tuple(targets.shape)} "
            "must both be [T, W, 1]"
        )
    washout = settings.washout_steps
    if washout >= inputs.shape[0]:
        raise ValueError(f"train_bptt: washout {washout} >= window length {inputs.shape[0]}")
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=settings.learning_rate)
    generator = torch.Generator().manual_seed(seed)
    n_windows = inputs.shape[1]
    batch = min(settings.batch_size, n_windows)
    n_batches = math.ceil(n_windows / batch)
    log_every = max(1, settings.epochs // LOG_LINES_PER_RUN)
    curve: list[float] = []
    diverged = False
    start = time.perf_counter()
    progress = ProgressLog(LOG, "training")
    progress.log(
        "%d windows of %d steps, %d batches x %d epochs",
        n_windows,
        inputs.shape[0],
        n_batches,
        settings.epochs,
    )
    model.train()
    for epoch in range(settings.epochs):
        order = torch.randperm(n_windows, generator=generator).to(inputs.device)
        total = 0.0
        for b in range(n_batches):
            index = order[b * batch : (b + 1) * batch]
            prediction, _ = model(inputs[:, index])
            loss = torch.mean((prediction[washout:] - targets[washout:, index]) ** 2)
            if not torch.isfinite(loss):
                diverged = True
                break
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(parameters, settings.grad_clip_norm)
            optimizer.step()
            model.constrain_parameters_()
            total += loss.item() * len(index)
        if diverged:
            LOG.warning("epoch %d: non-finite loss, training stopped", epoch + 1)
            break
        curve.append(total / n_windows)
        scheduled = (epoch + 1) % log_every == 0 or epoch in (0, settings.epochs - 1)
        if scheduled or progress.due():
            progress.log("epoch %d/%d loss %.5f", epoch + 1, settings.epochs, curve[-1])
    model.eval()
    return TrainingResult(
        epoch_loss=curve,
        diverged=diverged,
        n_windows=n_windows,
        batches_per_epoch=n_batches,
        seconds=time.perf_counter() - start,
    )
