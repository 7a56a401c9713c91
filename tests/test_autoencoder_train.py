"""Training runs on a tiny slice of the embedded MNIST: learning, resumption, NaN handling,
metrics content."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.autoencoder.data import DataConfig
from bridge.autoencoder.metrics import load_feature_maps, mse_l, msed
from bridge.autoencoder.model import SPIKING_LAYERS, ModelConfig, NeuronParams
from bridge.autoencoder.train import (
    CHECKPOINT_FILE,
    FEATURES_FILE,
    METRICS_FILE,
    RunConfig,
    TrainConfig,
    TrainingDivergedError,
    train_run,
)

TINY_DATA = DataConfig(source="embedded", n_train_embedded=100, n_test_embedded=40)
ITERATIONS_PER_EPOCH = 4


def tiny_run(
    epochs: int = 2, sigma: float = 0.1, lr: float = 2e-3, seed: int = 5, batch_size: int = 25
) -> RunConfig:
    return RunConfig(
        scenario="tiny",
        sigma=sigma,
        seed=seed,
        training=TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr),
        model=ModelConfig(),
        data=TINY_DATA,
        feature_batch_size=8,
        num_threads=1,
        progress_bar=False,
    )


class Killed(Exception):
    """Stands in for the process dying right after an epoch's checkpoint."""


def test_one_epoch_reduces_the_loss(tmp_path: Path) -> None:
    # 10 iterations of 10 images. With this seed the untrained readout is far off (MSE ~ 1.8,
    # the blank image scores ~ 0.1), so one epoch must bring the loss down clearly.
    metrics = train_run(
        tiny_run(epochs=1, seed=123, lr=1e-3, batch_size=10), NeuronParams(), tmp_path
    )
    losses = metrics["train_mse_per_iteration"]
    assert len(losses) == 10
    assert losses[0] > 1.0
    assert np.mean(losses[-3:]) < 0.7 * losses[0]


def test_metrics_content(tmp_path: Path) -> None:
    metrics = train_run(tiny_run(epochs=2), NeuronParams(), tmp_path)
    on_disk = json.loads((tmp_path / METRICS_FILE).read_text())
    assert on_disk["test_mse_final"] == metrics["test_mse_final"]
    assert {"git_commit", "config_hash", "packages"} <= set(on_disk["provenance"])
    assert len(on_disk["train_mse_per_iteration"]) == 2 * ITERATIONS_PER_EPOCH
    assert len(on_disk["test_mse_per_epoch"]) == 2
    assert on_disk["test_mse_final"] == on_disk["test_mse_per_epoch"][-1]
    assert on_disk["msed_train"] == pytest.approx(msed(on_disk["train_mse_per_iteration"]))
    base = on_disk["baseline_mse"]
    assert 0 < base["mean_image"] < base["blank"]
    assert on_disk["not_learned"] == (on_disk["test_mse_final"] >= base["mean_image"])
    assert on_disk["label"] in ("learned", "not_learned")
    for name in SPIKING_LAYERS:
        per_iter = on_disk["firing_rate_per_iteration"][name]
        assert len(per_iter) == 2 * ITERATIONS_PER_EPOCH
        assert all(0.0 <= r <= 1.0 for r in per_iter)
        assert 0.0 <= on_disk["firing_rate_final_epoch_test"][name] <= 1.0
    maps = load_feature_maps(tmp_path / FEATURES_FILE)
    assert set(maps) == set(on_disk["feature_layers"])
    assert mse_l(maps, maps)["EC_Lk1"] == 0.0
    assert 0.0 <= maps["EC_Syn1"].min() and maps["EC_Syn1"].max() <= 1.0
    features = np.load(tmp_path / FEATURES_FILE)
    assert features["EC_Lk1_spike_count"].shape == (8, 32, 16, 16)
    assert features["EC_Lk1_spike_count"].max() <= 5
    assert features["DC_Lk2_reconstruction"].shape == (8, 1, 32, 32)
    assert "NaN" not in (tmp_path / METRICS_FILE).read_text()


def test_resume_after_kill_equals_uninterrupted(tmp_path: Path) -> None:
    whole = train_run(tiny_run(epochs=2), NeuronParams(), tmp_path / "whole")

    def die_after_first(epoch: int, model: torch.nn.Module) -> None:
        if epoch == 1:
            raise Killed

    with pytest.raises(Killed):
        train_run(
            tiny_run(epochs=2), NeuronParams(), tmp_path / "resumed", on_epoch_end=die_after_first
        )
    assert (tmp_path / "resumed" / CHECKPOINT_FILE).is_file()
    assert not (tmp_path / "resumed" / METRICS_FILE).exists()
    resumed = train_run(tiny_run(epochs=2), NeuronParams(), tmp_path / "resumed")
    assert resumed == whole
    assert (tmp_path / "whole" / METRICS_FILE).read_bytes() == (
        tmp_path / "resumed" / METRICS_FILE
    ).read_bytes()
    a, b = (
        np.load(tmp_path / "whole" / FEATURES_FILE),
        np.load(tmp_path / "resumed" / FEATURES_FILE),
    )
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key])


def test_nan_loss_stops_with_scenario_and_epoch(tmp_path: Path) -> None:
    (tmp_path / METRICS_FILE).write_text("{}")  # a stale file from an earlier run

    def poison(epoch: int, model: torch.nn.Module) -> None:
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float("nan"))

    with pytest.raises(TrainingDivergedError, match=r"scenario 'tiny'.*at epoch 2, iteration 1"):
        train_run(tiny_run(epochs=3), NeuronParams(), tmp_path, on_epoch_end=poison)
    assert not (tmp_path / METRICS_FILE).exists()
    assert not (tmp_path / FEATURES_FILE).exists()


def test_run_config_from_both_configs(repo_root: Path) -> None:
    from bridge.config import load_config

    full = load_config([repo_root / "config" / "config.yaml"])["autoencoder"]
    quick = load_config(
        [repo_root / "config" / "config.yaml", repo_root / "config" / "quick.yaml"]
    )["autoencoder"]
    paper = RunConfig.from_config(full, scenario="s1_benchmark", sigma=0.1, seed=123)
    assert paper.training == TrainConfig(
        epochs=50, batch_size=250, lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-3
    )
    assert paper.data.source == "mnist_idx"
    assert paper.model.num_steps == 5 and paper.model.latent_dim == 32
    assert full["noise"]["sigmas"] == [0.0, 0.1, 0.2, 0.3] and full["seeds"] == [123, 999, 42]
    fast = RunConfig.from_config(quick, scenario="s1_benchmark", sigma=0.0, seed=123)
    assert fast.data.source == "embedded" and not fast.data.download
    assert fast.training.batch_size == 250
    assert len(quick["seeds"]) == 3 and 0.0 in quick["noise"]["sigmas"]
