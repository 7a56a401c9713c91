"""Noise protocols of the autoencoder (autoencoder.noise.protocols): per-image or per-step
noise, clean or noisy target; the default keeps the quick config's runs as they were, the full
config trains per-step noise beside it under its own names."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from bridge.autoencoder.data import (
    DataConfig,
    add_noise,
    add_step_noise,
    load_images,
    noisy_input,
    reconstruction_target,
)
from bridge.autoencoder.model import (
    SPIKING_LAYERS,
    ModelConfig,
    NeuronParams,
    SpikingAutoencoder,
)
from bridge.autoencoder.scenarios import (
    RunKey,
    benchmark_of,
    checked_section,
    condition_arms,
    label_arms,
    paper_arms,
    planned_runs,
    resolve_scenario,
    scenario_comparisons,
    scenario_order,
    training_section,
)
from bridge.autoencoder.train import (
    FEATURES_FILE,
    STREAM_TEST_NOISE,
    RunConfig,
    TrainConfig,
    generator,
    train_run,
)
from bridge.config import ConfigError, deep_merge
from bridge.config.autoencoder import arm_name, parse_arm
from bridge.provenance import config_hash

REPO = Path(__file__).resolve().parents[1]
CONDITIONS = ["control", "intermediate", "hyperexcitable"]
TINY_DATA = DataConfig(source="embedded", n_train_embedded=100, n_test_embedded=40)
NUM_STEPS = 5
SIGMA = 0.2


def section(*overrides: str) -> dict[str, Any]:
    """The autoencoder section of config.yaml merged with the given override files."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name in overrides:
        config = deep_merge(config, yaml.safe_load((REPO / name).read_text()))
    return copy.deepcopy(config["autoencoder"])


def digits(n: int = 8) -> torch.Tensor:
    """The first ``n`` real test digits of the embedded MNIST (N, 1, 32, 32)."""
    return load_images(TINY_DATA).test[:n]


def test_per_step_noise_differs_between_steps_and_per_image_noise_does_not() -> None:
    clean = digits()
    stream = add_step_noise(clean, SIGMA, NUM_STEPS, torch.Generator().manual_seed(1))
    assert stream.shape == (8, NUM_STEPS, 1, 32, 32)
    noise = stream - clean.unsqueeze(1)
    for t in range(1, NUM_STEPS):
        assert not torch.allclose(noise[:, 0], noise[:, t])
    # Independent draws: correlation between steps near 0, SD sigma at each step.
    flat = noise.transpose(0, 1).reshape(NUM_STEPS, -1)
    assert abs(float(torch.corrcoef(flat)[0, 1])) < 0.05
    assert float(flat.std()) == pytest.approx(SIGMA, rel=0.05)
    # The network sees each frame at its step (5 EC_Lk1 currents, all different) under
    # per-step noise, one current for every step under per-image noise.
    model = SpikingAutoencoder(ModelConfig(num_steps=NUM_STEPS)).eval()
    per_image = add_noise(clean, SIGMA, torch.Generator().manual_seed(1))
    assert per_image.shape == clean.shape
    recorded: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad():
        model._forward_fused(per_image, recorded)
    assert len(recorded["EC_Lk1"]) == 1
    with torch.no_grad():
        model._forward_fused(stream, recorded)
    currents = recorded["EC_Lk1"]
    assert len(currents) == NUM_STEPS
    assert not torch.allclose(currents[0], currents[1])


def test_noiseless_input_is_the_same_under_both_samplings() -> None:
    clean = digits()
    for sampling in ("per_image", "per_step"):
        same = noisy_input(clean, 0.0, torch.Generator(), sampling=sampling, num_steps=NUM_STEPS)
        assert same is clean
    with pytest.raises(ValueError, match="per_image or per_step"):
        noisy_input(clean, SIGMA, torch.Generator(), sampling="per_pixel", num_steps=NUM_STEPS)


def test_noisy_target_is_the_input_or_the_streams_mean() -> None:
    clean = digits()
    image = add_noise(clean, SIGMA, torch.Generator().manual_seed(2))
    stream = add_step_noise(clean, SIGMA, NUM_STEPS, torch.Generator().manual_seed(2))
    assert reconstruction_target(clean, image, "clean") is clean
    assert torch.equal(reconstruction_target(clean, image, "noisy"), image)
    mean = reconstruction_target(clean, stream, "noisy")
    assert mean.shape == clean.shape
    torch.testing.assert_close(mean, stream.mean(1))
    # the mean of T frames carries noise of SD sigma / sqrt(T)
    assert float((mean - clean).std()) == pytest.approx(SIGMA / NUM_STEPS**0.5, rel=0.1)


@pytest.mark.parametrize("norm_stats", ["shared", "per_step"])
def test_fused_engine_equals_snntorch_stepping_on_a_stream(norm_stats: str) -> None:
    torch.manual_seed(3)
    fused = SpikingAutoencoder(ModelConfig(norm_stats=norm_stats), NeuronParams(bias=0.1))
    reference = copy.deepcopy(fused)
    reference.engine = "snntorch"
    stream = add_step_noise(digits(6), SIGMA, NUM_STEPS, torch.Generator().manual_seed(4))
    out_f, out_r = fused(stream), reference(stream)
    torch.testing.assert_close(out_f.reconstruction, out_r.reconstruction, rtol=1e-5, atol=1e-5)
    for name in SPIKING_LAYERS:
        assert torch.equal(out_f.stacked(name), out_r.stacked(name)), name
    for (name, b_f), (_, b_r) in zip(fused.named_buffers(), reference.named_buffers(), strict=True):
        if name.startswith("norm.") and b_f.is_floating_point():
            torch.testing.assert_close(b_f, b_r, rtol=1e-5, atol=1e-6, msg=name)
    with pytest.raises(ValueError, match="one frame per step"):
        fused(stream[:, :3])


def tiny_run(sampling: str, target: str, seed: int = 5) -> RunConfig:
    return RunConfig(
        scenario="tiny",
        sigma=SIGMA,
        seed=seed,
        training=TrainConfig(epochs=1, batch_size=25, lr=2e-3),
        model=ModelConfig(num_steps=NUM_STEPS),
        data=TINY_DATA,
        feature_batch_size=8,
        num_threads=1,
        progress_bar=False,
        noise_sampling=sampling,
        noise_target=target,
    )


def test_noisy_target_scores_and_baselines_against_the_noisy_test_set(tmp_path: Path) -> None:
    run = tiny_run("per_image", "noisy")
    metrics = train_run(run, NeuronParams(), tmp_path / "noisy")
    test = load_images(TINY_DATA).test
    # The test noise the run drew, drawn again from its stream: the blank image's MSE
    # against the noisy targets is their mean square.
    noisy = add_noise(test, SIGMA, generator(run.seed, STREAM_TEST_NOISE))
    assert metrics["baseline_mse"]["blank"] == pytest.approx(float(noisy.double().square().mean()))
    assert metrics["baseline_mse_vs_clean"]["blank"] == pytest.approx(
        float(test.double().square().mean())
    )
    assert metrics["noise_target"] == "noisy" and metrics["noise_sampling"] == "per_image"
    assert metrics["test_mse_vs_clean_final"] != metrics["test_mse_final"]
    clean = train_run(tiny_run("per_image", "clean"), NeuronParams(), tmp_path / "clean")
    assert "test_mse_vs_clean_final" not in clean
    assert clean["baseline_mse"] == metrics["baseline_mse_vs_clean"]
    # Same seed, same inputs: only the target differs, so the first loss differs.
    assert clean["train_mse_per_iteration"][0] != metrics["train_mse_per_iteration"][0]


def test_per_step_run_trains_on_a_stream_and_saves_it(tmp_path: Path) -> None:
    per_step = train_run(tiny_run("per_step", "clean"), NeuronParams(), tmp_path / "step")
    per_image = train_run(tiny_run("per_image", "clean"), NeuronParams(), tmp_path / "image")
    assert per_step["noise_sampling"] == "per_step"
    assert per_step["run_config"]["noise_sampling"] == "per_step"
    assert per_step["train_mse_per_iteration"] != per_image["train_mse_per_iteration"]
    # Scored against the clean digits like the default: the same baselines.
    assert per_step["baseline_mse"] == per_image["baseline_mse"]
    features = np.load(tmp_path / "step" / FEATURES_FILE)
    assert features["input_noisy_steps"].shape == (8, NUM_STEPS, 1, 32, 32)
    assert features["input_noisy"].shape == (8, 1, 32, 32)
    np.testing.assert_array_equal(features["input_noisy"], features["input_noisy_steps"][:, 0])
    assert "input_noisy_steps" not in np.load(tmp_path / "image" / FEATURES_FILE).files


def test_bad_protocol_is_rejected_naming_the_key() -> None:
    bad = section()
    bad["noise"]["protocols"][1]["sampling"] = "per_pixel"
    with pytest.raises(ConfigError, match=r"'autoencoder\.noise\.protocols\.1\.sampling'"):
        checked_section(bad)
    bad = section()
    bad["noise"]["protocols"][0]["target"] = "denoised"
    with pytest.raises(ConfigError, match=r"'autoencoder\.noise\.protocols\.0\.target'"):
        planned_runs(bad, CONDITIONS)
    bad = section()
    bad["noise"]["protocols"].append({"sampling": "per_step", "target": "clean"})
    with pytest.raises(ConfigError, match=r"'autoencoder\.noise\.protocols'.*more than once"):
        checked_section(bad)
    bad = section()
    bad["noise"]["protocols"] = []
    with pytest.raises(ConfigError, match=r"'autoencoder\.noise\.protocols'"):
        checked_section(bad)


def test_quick_config_plans_exactly_the_runs_it_planned_before() -> None:
    quick = section("config/quick.yaml")
    runs = planned_runs(quick, CONDITIONS)
    names = ["s1_benchmark", "s3_syn_beta", "s1_benchmark.frozen"]
    names += [f"cond_{c}" for c in CONDITIONS] + [f"cond_{c}.frozen" for c in CONDITIONS]
    expected = [
        RunKey(name, sigma, seed)
        for name in names
        for sigma in (0.0, 0.2)
        for seed in (123, 999, 42)
    ]
    assert runs == expected and len(runs) == 54
    assert scenario_order(quick, CONDITIONS) == names
    for name in names:
        # no protocol key in any rule's params: Snakemake reruns nothing
        assert training_section(quick, name)["noise"] == {"clamp": False}
        run = RunConfig.from_config(quick, scenario=name, sigma=0.2, seed=123)
        identity = run.identity(NeuronParams())
        assert "noise_sampling" not in identity["run"] and "noise_target" not in identity["run"]
    # The identity (checkpoint key and provenance hash) of a default run is the one the runs
    # had before protocols existed: the same dict as without the two fields.
    run = RunConfig.from_config(quick, scenario="s1_benchmark", sigma=0.2, seed=123)
    legacy = run.to_dict()
    for key in ("progress_bar", "noise_sampling", "noise_target"):
        legacy.pop(key)
    params = {"beta": 0.9, "alpha": 0.9, "beta_syn": 0.9, "bias": 0.0}
    assert config_hash(run.identity(NeuronParams())) == config_hash(
        {"run": legacy, "neuron_params": params}
    )


def test_full_config_trains_per_step_noise_under_its_own_names(tmp_path: Path) -> None:
    full = section()
    runs = planned_runs(full, CONDITIONS)
    extra = [r for r in runs if parse_arm(r.scenario).protocol is not None]
    main = [r for r in runs if parse_arm(r.scenario).protocol is None]
    n_scenarios = len(
        paper_arms(full, CONDITIONS)
        + condition_arms(full, CONDITIONS)
        + label_arms(full, CONDITIONS)
    )
    # paper scenarios + the frozen benchmark, 2 offset arms and a label arm per condition
    assert n_scenarios == 5 + 1 + 3 * 2 + 3
    assert len(main) == n_scenarios * 4 * 3
    # every scenario again at the three noisy sigmas (the noiseless runs are shared)
    assert len(extra) == n_scenarios * 3 * 3 == 135
    assert {r.sigma for r in extra} == {0.1, 0.2, 0.3}
    assert {parse_arm(r.scenario).protocol for r in extra} == {"per_step_clean"}
    assert len({(r.scenario, r.sigma, r.seed) for r in runs}) == len(runs)
    assert "cond_control.frozen.per_step_clean" in {r.scenario for r in extra}
    assert arm_name("cond_control", "frozen", "per_step_clean") == (
        "cond_control.frozen.per_step_clean"
    )
    # compared with the benchmark trained the same way under the same protocol
    assert benchmark_of(full, "cond_control.frozen.per_step_clean") == (
        "s1_benchmark.frozen.per_step_clean"
    )
    assert benchmark_of(full, "s3_syn_beta.per_step_clean") == "s1_benchmark.per_step_clean"
    compared = {r.scenario for r in scenario_comparisons(full, CONDITIONS)}
    assert "s1_benchmark.per_step_clean" not in compared
    assert "s3_syn_beta.per_step_clean" in compared
    # a run's protocol reaches its params and its scenario record
    reduced = training_section(full, "s3_syn_beta.per_step_clean")
    assert reduced["noise"] == {"clamp": False, "sampling": "per_step", "target": "clean"}
    assert training_section(reduced, "s3_syn_beta.per_step_clean") == reduced
    assert training_section(full, "s3_syn_beta")["noise"] == {"clamp": False}
    run = RunConfig.from_config(reduced, scenario="s3_syn_beta.per_step_clean", sigma=0.2, seed=1)
    assert (run.noise_sampling, run.noise_target) == ("per_step", "clean")
    assert run.model.offsets == "trained"
    assert run.identity(NeuronParams())["run"]["noise_sampling"] == "per_step"
    resolved = resolve_scenario(full, "s1_benchmark.frozen.per_step_clean")
    assert resolved.offsets == "frozen" and resolved.kind == "paper"
    assert resolved.describe()["noise_sampling"] == "per_step"
    assert resolved.describe()["base_scenario"] == "s1_benchmark"
    mapping = tmp_path / "control.json"
    mapping.write_text(
        json.dumps(
            {
                "condition": "control",
                "status": "ok",
                "use_downstream": True,
                "downstream_rule": "use beta_fit, bias_fit, beta_syn, alpha_syn",
                "beta_fit": 0.7,
                "alpha_syn": 0.9,
                "beta_syn": 0.7,
                "bias_fit": 0.2,
            }
        )
    )
    arm = resolve_scenario(full, "cond_control.per_step_clean", mapping)
    assert arm.name == "cond_control.per_step_clean" and arm.params.beta == 0.7
    assert arm.describe()["noise_sampling"] == "per_step"
    # the main protocol may be another one: its runs keep the plain names and carry it
    switched = copy.deepcopy(full)
    switched["noise"]["protocols"] = [{"sampling": "per_step", "target": "noisy"}]
    assert training_section(switched, "s1_benchmark")["noise"]["target"] == "noisy"
    assert all(parse_arm(r.scenario).protocol is None for r in planned_runs(switched, []))
