"""Frozen offsets: no trainable parameter of a frozen-offset arm adds a constant to a spiking
layer's input, before or after training; the paper's scenarios keep the tutorial's offsets.

The parameters are found by name (every ``*.bias`` of the network), not through the model's
own list, so an offset the model forgets to freeze fails the test.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import yaml

from bridge.autoencoder.data import DataConfig
from bridge.autoencoder.layers import READOUT_LAYER, SPIKING_LAYERS
from bridge.autoencoder.model import NeuronParams, SpikingAutoencoder, effective_bias
from bridge.autoencoder.train import RunConfig, TrainConfig, train_run, train_step
from bridge.config import deep_merge

REPO = Path(__file__).resolve().parents[1]
#: The hyperexcitable condition's mapping of the quick run (supra-threshold resting drive).
MAPPED = NeuronParams(beta=0.75, alpha=0.9, beta_syn=0.75, bias=0.26)
READOUT_BIAS = f"synapse.{READOUT_LAYER}.bias"


def tiny_section() -> dict:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    tiny = yaml.safe_load((REPO / "tests" / "configs" / "tiny.yaml").read_text())
    return copy.deepcopy(deep_merge(config, tiny)["autoencoder"])


def build(scenario: str) -> SpikingAutoencoder:
    run = RunConfig.from_config(tiny_section(), scenario=scenario, sigma=0.0, seed=1)
    torch.manual_seed(0)
    return SpikingAutoencoder(run.model, MAPPED)


def offsets_by_name(model: SpikingAutoencoder) -> dict[str, torch.nn.Parameter]:
    """Every bias of a synapse or a BatchNorm (its shift) except the readout's."""
    return {
        name: p
        for name, p in model.named_parameters()
        if name.endswith(".bias") and name != READOUT_BIAS
    }


def test_frozen_arm_offsets_are_zero_and_not_trainable() -> None:
    model = build("cond_hyper.frozen")
    assert model.config.offsets == "frozen"
    offsets = offsets_by_name(model)
    # 7 synapses with a bias besides the readout, 5 BatchNorms
    assert len(offsets) == 12 and set(offsets) == set(model.offset_parameters())
    for name, p in offsets.items():
        assert not p.requires_grad, name
        assert torch.count_nonzero(p) == 0, name
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert all(n.endswith(".weight") for n in trainable - {READOUT_BIAS})
    assert READOUT_BIAS in trainable
    assert {id(p) for p in model.trainable_parameters()} == {
        id(p) for n, p in model.named_parameters() if n in trainable
    }


def test_frozen_offsets_stay_zero_through_training_steps() -> None:
    model = build("cond_hyper.frozen")
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=0.05, weight_decay=1e-3)
    gen = torch.Generator().manual_seed(3)
    images = torch.rand(2, 1, 32, 32, generator=gen)
    readout_before = model.synapse[READOUT_LAYER].bias.detach().clone()
    step = train_step(model, optimizer, images, images)
    assert torch.isfinite(torch.tensor(step.loss))
    for name, p in offsets_by_name(model).items():
        assert torch.count_nonzero(p) == 0 and p.grad is None, name
    # the step did train: the readout's bias (allowed to) moved
    assert not torch.equal(model.synapse[READOUT_LAYER].bias, readout_before)
    # a trained arm's offsets move under the same steps (the check can fail)
    trained = build("cond_hyper")
    optimizer = torch.optim.AdamW(trained.trainable_parameters(), lr=0.05)
    train_step(trained, optimizer, images, images)
    moved = [n for n, p in offsets_by_name(trained).items() if torch.count_nonzero(p) > 0]
    assert moved and all(p.requires_grad for p in offsets_by_name(trained).values())


@pytest.mark.parametrize("scenario", ["s1_benchmark", "cond_hyper"])
def test_paper_scenarios_and_trained_arms_keep_trainable_offsets(scenario: str) -> None:
    model = build(scenario)
    assert model.config.offsets == "trained"
    assert all(p.requires_grad for p in offsets_by_name(model).values())


def test_frozen_benchmark_arm_freezes_too() -> None:
    assert build("s1_benchmark.frozen").config.offsets == "frozen"


def test_engines_agree_with_frozen_offsets_and_a_mapped_bias() -> None:
    fused = build("cond_hyper.frozen")
    reference = copy.deepcopy(fused)
    reference.engine = "snntorch"
    images = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    out_f, out_r = fused(images), reference(images)
    torch.testing.assert_close(out_f.reconstruction, out_r.reconstruction, rtol=1e-5, atol=1e-5)
    for name in out_f.spikes:
        assert torch.equal(out_f.stacked(name), out_r.stacked(name)), name


def test_effective_bias_reports_bias_against_input_spread() -> None:
    model = build("cond_hyper.frozen").eval()
    images = torch.rand(3, 1, 32, 32, generator=torch.Generator().manual_seed(6))
    report = effective_bias(model, images)
    assert list(report) == list(SPIKING_LAYERS)
    first = report["EC_Lk1"]
    # EC_Lk1's current recomputed by hand: convolution, then BatchNorm with running statistics
    current = model.norm["EC_Lk1"](model.synapse["EC_Lk1"](images)).detach().double()
    assert first["input_sd"] == pytest.approx(float(current.std(unbiased=False)), rel=1e-6)
    assert first["bias_over_input_sd"] == pytest.approx(0.26 / first["input_sd"], rel=1e-9)
    assert first["resting_drive"] == pytest.approx(0.26 / 0.25)
    # BatchNorm's scale shrinks the input: halving it doubles the bias's relative size
    with torch.no_grad():
        model.norm["EC_Lk1"].weight.mul_(0.5)
    halved = effective_bias(model, images)["EC_Lk1"]
    assert halved["bias_over_input_sd"] == pytest.approx(2 * first["bias_over_input_sd"], rel=1e-5)


def test_frozen_run_reports_offsets_and_effective_bias(tmp_path: Path) -> None:
    """A whole (tiny) frozen-offset run: its metrics say the offsets stayed 0 and give each
    spiking layer's effective bias, measured after training on the saved test batch."""
    run = RunConfig.from_config(tiny_section(), scenario="cond_hyper.frozen", sigma=0.0, seed=2)
    run = replace(
        run,
        training=TrainConfig(epochs=1, batch_size=25, lr=2e-3),
        data=DataConfig(source="embedded", n_train_embedded=50, n_test_embedded=20),
        num_threads=1,
        progress_bar=False,
    )
    metrics = train_run(run, MAPPED, tmp_path)
    assert metrics["offsets"] == "frozen" and metrics["run_config"]["model"]["offsets"] == "frozen"
    record = metrics["offset_parameters"]
    assert len(record) == 12
    assert all(not r["trainable"] and r["max_abs"] == 0.0 for r in record.values())
    effective = metrics["effective_bias"]
    assert list(effective) == list(SPIKING_LAYERS)
    for layer, values in effective.items():
        assert values["bias"] == pytest.approx(0.26) and values["input_sd"] >= 0, layer
        assert values["resting_drive"] == pytest.approx(0.26 / 0.25), layer
    assert effective["EC_Lk1"]["bias_over_input_sd"] > 0
