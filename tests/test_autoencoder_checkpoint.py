"""A checkpoint written by the training code loads with ``torch.load(weights_only=True)`` (no
code runs from a file in the results folder) and a run resumes from it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from bridge.autoencoder.data import DataConfig
from bridge.autoencoder.model import ModelConfig, NeuronParams, SpikingAutoencoder
from bridge.autoencoder.train import CHECKPOINT_FILE, RunConfig, TrainConfig, train_run

TINY = RunConfig(
    scenario="tiny",
    sigma=0.1,
    seed=5,
    training=TrainConfig(epochs=2, batch_size=25, lr=2e-3),
    model=ModelConfig(),
    data=DataConfig(source="embedded", n_train_embedded=50, n_test_embedded=20),
    feature_batch_size=4,
    num_threads=1,
    progress_bar=False,
)


class Killed(Exception):
    """Stands in for the process dying right after an epoch's checkpoint."""


def die_after_first_epoch(epoch: int, model: torch.nn.Module) -> None:
    if epoch == 1:
        raise Killed


def test_checkpoint_loads_weights_only_and_resumes(tmp_path: Path) -> None:
    with pytest.raises(Killed):
        train_run(TINY, NeuronParams(), tmp_path, on_epoch_end=die_after_first_epoch)
    state = torch.load(tmp_path / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
    assert state["history"]["epochs_completed"] == 1
    SpikingAutoencoder(TINY.model).load_state_dict(state["model"])
    assert isinstance(state["torch_rng"], torch.Tensor)
    # Resuming runs only the second epoch: the checkpoint was read, not ignored.
    epochs: list[int] = []
    train_run(TINY, NeuronParams(), tmp_path, on_epoch_end=lambda e, m: epochs.append(e))
    assert epochs == [2]


def test_checkpoint_with_code_is_refused(tmp_path: Path) -> None:
    """A pickle that would run code on load is not loaded; the run starts from scratch."""

    class Payload:
        def __reduce__(self):
            return (exec, ("raise SystemExit('code from the checkpoint ran')",))

    with open(tmp_path / CHECKPOINT_FILE, "wb") as handle:
        pickle.dump({"format": 1, "payload": Payload()}, handle, protocol=2)
    epochs: list[int] = []
    train_run(TINY, NeuronParams(), tmp_path, on_epoch_end=lambda e, m: epochs.append(e))
    assert epochs == [1, 2]
