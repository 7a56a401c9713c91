"""Train one autoencoder run (scenario, noise level, seed) as the paper does; write its metrics.

Protocol: AdamW (lr, betas, weight decay from the config), MSE between the reconstruction and
the *clean* image, batches of ``batch_size`` shuffled anew each epoch. The input carries
Gaussian noise of SD ``sigma`` (one sample per image, the same at every time step): training
inputs get a fresh sample per epoch, test inputs one fixed sample for the whole run. That is
the default noise protocol; the run's ``noise_sampling`` (per_step: a fresh sample at every
time step, for training and test inputs alike) and ``noise_target`` (noisy: the MSE against the
noisy input, also for the baselines, with the MSE against the clean image reported beside it)
choose another (``autoencoder.noise.protocols``).

Determinism and resumption: every random stream (shuffling, training noise, test noise) comes
from a generator seeded by (seed, purpose, epoch), so a run resumed from the checkpoint of epoch
k draws exactly what an uninterrupted run draws. The checkpoint (model, optimizer, torch RNG,
metric history) is rewritten atomically after every epoch; only the latest is kept. Metrics are
written once, at the end; a stale metrics file is removed when a run starts, so a failed run
never leaves one that looks complete.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from bridge.autoencoder.data import (
    DataConfig,
    ImageSet,
    baseline_mse,
    load_images,
    noisy_input,
    reconstruction_target,
)
from bridge.autoencoder.metrics import msed, msed_per_iteration
from bridge.autoencoder.model import (
    READOUT_LAYER,
    SPIKING_LAYERS,
    ModelConfig,
    NeuronParams,
    SpikingAutoencoder,
    effective_bias,
)
from bridge.autoencoder.scenarios import training_section
from bridge.config.autoencoder import (
    DEFAULT_SAMPLING,
    DEFAULT_TARGET,
    AutoencoderRunConfig,
    split_arm,
)
from bridge.contracts import AutoencoderMetrics, write_run_metrics
from bridge.io import atomic_path, write_npz
from bridge.logs import progress
from bridge.provenance import config_hash, provenance

log = logging.getLogger(__name__)

METRICS_FILE = "metrics.json"
FEATURES_FILE = "features.npz"
CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
#: Purposes of the derived random streams (part of each generator's seed).
STREAM_SHUFFLE_NOISE = 1
STREAM_TEST_NOISE = 2
STREAM_INIT = 3


class TrainingDivergedError(RuntimeError):
    """The loss became NaN or infinite; the message names scenario, noise, seed and epoch."""


@dataclass(frozen=True)
class TrainConfig:
    """``autoencoder.training`` in the config (the paper's values are the defaults)."""

    epochs: int = 50
    batch_size: int = 250
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    weight_decay: float = 1e-3

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"invalid training settings: {self}")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's numbers (besides the neuron parameters)."""

    scenario: str
    sigma: float
    seed: int
    training: TrainConfig = field(default_factory=TrainConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    noise_clamp: bool = False
    feature_batch_size: int = 32
    device: str = "auto"
    num_threads: int = 0
    progress_bar: bool = True
    noise_sampling: str = DEFAULT_SAMPLING
    noise_target: str = DEFAULT_TARGET

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self, params: NeuronParams) -> dict[str, Any]:
        """The part that changes numbers (display settings excluded). The default noise
        protocol is left out, so its runs keep the identity (and checkpoints) they had
        before protocols were a choice."""
        cfg = self.to_dict()
        cfg.pop("progress_bar")
        if cfg["noise_sampling"] == DEFAULT_SAMPLING:
            cfg.pop("noise_sampling")
        if cfg["noise_target"] == DEFAULT_TARGET:
            cfg.pop("noise_target")
        return {"run": cfg, "neuron_params": asdict(params)}

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, scenario: str, sigma: float, seed: int
    ) -> RunConfig:
        """Build from the ``autoencoder`` config section or a training rule's part of it
        (:func:`~bridge.autoencoder.scenarios.training_section`), checked by
        :class:`bridge.config.autoencoder.AutoencoderRunConfig` (errors name the key)."""
        run = AutoencoderRunConfig.from_config(training_section(section, scenario), "autoencoder")
        return cls(
            scenario=scenario,
            sigma=float(sigma),
            seed=int(seed),
            training=TrainConfig(**run.training.model_dump()),
            # The offset mode is the arm's (its name's suffix), not a config key.
            model=ModelConfig(**run.model.model_dump(), offsets=split_arm(scenario)[1]),
            data=DataConfig(**run.data.model_dump()),
            noise_clamp=run.noise.clamp,
            feature_batch_size=run.feature_batch_size,
            device=run.device,
            num_threads=run.num_threads,
            progress_bar=run.progress_bar,
            noise_sampling=run.noise.sampling,
            noise_target=run.noise.target,
        )


def derived_seed(seed: int, purpose: int, index: int = 0) -> int:
    """A 63-bit seed for one random stream, independent of the others."""
    state = np.random.SeedSequence([seed, purpose, index]).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 31 | int(state[1]) >> 1


def generator(seed: int, purpose: int, index: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(derived_seed(seed, purpose, index))


def select_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


#: Below this many elements a float32 sum of 0/1 spikes is an exact count (every partial sum is
#: an integer float32 represents exactly).
EXACT_FLOAT32_COUNT = 2**24


def _count(spikes: torch.Tensor) -> torch.Tensor:
    """Number of spikes (0/1 entries) in one tensor, as an int64 scalar tensor."""
    if spikes.numel() < EXACT_FLOAT32_COUNT:
        # ~30x faster than count_nonzero on CPU, which was 19 % of a training step.
        return spikes.sum(dtype=torch.float32).to(torch.int64)
    return torch.count_nonzero(spikes)


def _spike_counts(
    spikes: Mapping[str, tuple[torch.Tensor, ...]],
) -> tuple[list[int], list[int]]:
    """Spikes and neuron-steps per layer (SPIKING_LAYERS order) of one batch."""
    counts = torch.stack([sum(_count(s) for s in spikes[name]) for name in SPIKING_LAYERS])
    slots = [sum(s.numel() for s in spikes[name]) for name in SPIKING_LAYERS]
    return counts.tolist(), slots


def _batch_rates(spikes: Mapping[str, tuple[torch.Tensor, ...]]) -> tuple[list[float], float]:
    """Per-layer rates (SPIKING_LAYERS order) and the network-wide rate of one batch."""
    counts, slots = _spike_counts(spikes)
    rates = [c / n for c, n in zip(counts, slots, strict=True)]
    return rates, sum(counts) / sum(slots)


@dataclass(frozen=True)
class StepResult:
    """One training iteration: batch MSE, firing rates (SPIKING_LAYERS order), network rate."""

    loss: float
    firing_rates: list[float]
    network_rate: float


def train_step(
    model: SpikingAutoencoder,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
) -> StepResult:
    """Forward, MSE against ``targets`` (the clean images by default), backward, optimizer step.

    A non-finite loss skips the update and is returned for the caller to report.
    """
    optimizer.zero_grad(set_to_none=True)
    out = model(inputs)
    loss = F.mse_loss(out.reconstruction, targets)
    value = loss.item()
    if math.isfinite(value):
        loss.backward()
        optimizer.step()
    rates, network = _batch_rates(out.spikes)
    return StepResult(value, rates, network)


def _new_history() -> dict[str, Any]:
    return {
        "train_mse_per_iteration": [],
        "train_firing_rate_per_iteration": {name: [] for name in SPIKING_LAYERS},
        "train_network_rate_per_iteration": [],
        "test_mse_per_epoch": [],
        "test_mse_per_iteration": [],
        "test_firing_rate_per_epoch": {name: [] for name in SPIKING_LAYERS},
        "test_network_rate_per_epoch": [],
        "epochs_completed": 0,
    }


@torch.no_grad()
def evaluate(
    model: SpikingAutoencoder,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    batch_size: int,
    device: torch.device,
) -> dict[str, Any]:
    """Test MSE (overall and per batch) and firing rates on a fixed, already noisy test set."""
    model.eval()
    sq_error = 0.0
    per_batch = []
    spike_sums = dict.fromkeys(SPIKING_LAYERS, 0)
    spike_slots = dict.fromkeys(SPIKING_LAYERS, 0)
    for start in range(0, inputs.shape[0], batch_size):
        x = inputs[start : start + batch_size].to(device)
        y = targets[start : start + batch_size].to(device)
        out = model(x)
        err = F.mse_loss(out.reconstruction, y, reduction="sum").item()
        sq_error += err
        per_batch.append(err / y.numel())
        counts, slots = _spike_counts(out.spikes)
        for name, count, slot in zip(SPIKING_LAYERS, counts, slots, strict=True):
            spike_sums[name] += count
            spike_slots[name] += slot
    rates = {name: spike_sums[name] / spike_slots[name] for name in SPIKING_LAYERS}
    network = sum(spike_sums.values()) / sum(spike_slots.values())
    return {
        "mse": sq_error / targets.numel(),
        "mse_per_batch": per_batch,
        "firing_rate": rates,
        "network_rate": network,
    }


def _save_checkpoint(
    path: Path,
    run_key: str,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    history: dict[str, Any],
) -> None:
    state = {
        "format": CHECKPOINT_FORMAT,
        "run_key": run_key,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "history": history,
        "torch_rng": torch.get_rng_state(),
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, run_key: str) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        # weights_only: tensors and plain containers only, so a planted file cannot run code.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated (atomic writes prevent it) or not plain data
        log.warning("%s: unreadable checkpoint (%s); starting from scratch", path, err)
        return None
    if state.get("format") != CHECKPOINT_FORMAT or state.get("run_key") != run_key:
        log.warning("%s: checkpoint of a different run configuration; starting from scratch", path)
        return None
    return state


def _feature_record(
    model: SpikingAutoencoder,
    clean: torch.Tensor,
    noisy: torch.Tensor,
    device: torch.device,
) -> dict[str, np.ndarray]:
    """Spike counts per neuron (uint8, 0..num_steps) of every spiking layer on a fixed batch,
    plus the inputs and the reconstruction (the readout layer's feature map). A per-step
    input stream is saved whole as ``input_noisy_steps``; ``input_noisy`` keeps the image
    shape with its first step's frame."""
    model.eval()
    with torch.no_grad():
        out = model(noisy.to(device))
    record = {
        f"{name}_spike_count": out.stacked(name).sum(1).to(torch.uint8).cpu().numpy()
        for name in SPIKING_LAYERS
    }
    record[f"{READOUT_LAYER}_reconstruction"] = out.reconstruction.float().cpu().numpy()
    record["input_clean"] = clean.cpu().numpy()
    if noisy.dim() == clean.dim() + 1:
        record["input_noisy_steps"] = noisy.cpu().numpy()
        noisy = noisy[:, 0]
    record["input_noisy"] = noisy.cpu().numpy()
    record["num_steps"] = np.asarray(model.config.num_steps)
    return record


def train_run(
    run_cfg: RunConfig,
    neuron_params: NeuronParams,
    out_dir: str | Path,
    *,
    on_epoch_end: Callable[[int, SpikingAutoencoder], None] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one run, resuming from ``out_dir/checkpoint.pt`` when it matches; return metrics.

    Writes ``metrics.json`` (with provenance) and ``features.npz`` into ``out_dir`` at the end.
    ``extra`` (e.g. where the scenario's parameters came from) is added to the metrics as is.
    ``on_epoch_end(epoch, model)`` is called after each epoch's checkpoint (1-based epoch).
    Raises :class:`TrainingDivergedError` on a non-finite loss, leaving no metrics file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / METRICS_FILE
    features_path = out_dir / FEATURES_FILE
    for stale in (metrics_path, features_path):
        stale.unlink(missing_ok=True)
    cfg, tcfg = run_cfg, run_cfg.training
    label = f"scenario '{cfg.scenario}' (sigma {cfg.sigma:g}, seed {cfg.seed})"
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    device = select_device(cfg.device)
    identity = cfg.identity(neuron_params)
    run_key = config_hash(identity)

    images: ImageSet = load_images(cfg.data)
    n_train = images.train.shape[0]
    iterations_per_epoch = math.ceil(n_train / tcfg.batch_size)
    test_clean = images.test
    test_noisy = _noisy(cfg, test_clean, generator(cfg.seed, STREAM_TEST_NOISE))
    test_target = reconstruction_target(test_clean, test_noisy, cfg.noise_target)
    # Baselines against what the run is scored on (the clean images by default).
    baselines = baseline_mse(images.train, test_target)

    torch.manual_seed(derived_seed(cfg.seed, STREAM_INIT))
    model = SpikingAutoencoder(cfg.model, neuron_params).to(device)
    optimizer = torch.optim.AdamW(
        model.trainable_parameters(), lr=tcfg.lr, betas=tcfg.betas, weight_decay=tcfg.weight_decay
    )
    ckpt_path = out_dir / CHECKPOINT_FILE
    state = _load_checkpoint(ckpt_path, run_key)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        history = state["history"]
        log.info(
            "%s: resuming after epoch %d from %s", label, history["epochs_completed"], ckpt_path
        )
    else:
        history = _new_history()
    log.info(
        "%s: %s on %s, %d epochs x %d iterations, lr %g, engine %s",
        label,
        asdict(neuron_params),
        device,
        tcfg.epochs,
        iterations_per_epoch,
        tcfg.lr,
        cfg.model.engine,
    )

    for epoch in range(history["epochs_completed"], tcfg.epochs):
        started = time.perf_counter()
        model.train()
        stream = generator(cfg.seed, STREAM_SHUFFLE_NOISE, epoch)
        order = torch.randperm(n_train, generator=stream)
        batches = range(0, n_train, tcfg.batch_size)
        # A bar only on a terminal; in a job's log a line per PROGRESS_INTERVAL_S (parallel
        # jobs and SLURM logs would interleave a bar's carriage returns).
        bar = progress(
            batches,
            f"{cfg.scenario} s={cfg.sigma:g} seed={cfg.seed} epoch {epoch + 1}/{tcfg.epochs}",
            log,
            bar=cfg.progress_bar,
        )
        for iteration, start in enumerate(bar):
            clean = images.train[order[start : start + tcfg.batch_size]]
            noisy = _noisy(cfg, clean, stream)
            target = reconstruction_target(clean, noisy, cfg.noise_target)
            target, noisy = target.to(device), noisy.to(device)
            step = train_step(model, optimizer, noisy, target)
            if not math.isfinite(step.loss):
                raise TrainingDivergedError(
                    f"{label}: non-finite loss ({step.loss}) at epoch {epoch + 1}, iteration "
                    f"{iteration + 1}; no metrics written (last good checkpoint: {ckpt_path})"
                )
            history["train_mse_per_iteration"].append(step.loss)
            for name, rate in zip(SPIKING_LAYERS, step.firing_rates, strict=True):
                history["train_firing_rate_per_iteration"][name].append(rate)
            history["train_network_rate_per_iteration"].append(step.network_rate)
            bar.set_postfix(loss=f"{step.loss:.4f}", rate=f"{step.network_rate:.3f}")
        bar.close()

        test = evaluate(model, test_noisy, test_target, tcfg.batch_size, device)
        history["test_mse_per_epoch"].append(test["mse"])
        history["test_mse_per_iteration"].extend(test["mse_per_batch"])
        for name in SPIKING_LAYERS:
            history["test_firing_rate_per_epoch"][name].append(test["firing_rate"][name])
        history["test_network_rate_per_epoch"].append(test["network_rate"])
        history["epochs_completed"] = epoch + 1
        _save_checkpoint(ckpt_path, run_key, model, optimizer, history)
        log.info(
            "%s: epoch %d/%d train MSE %.5f, test MSE %.5f (mean image %.5f), rate %.4f, %.1f s",
            label,
            epoch + 1,
            tcfg.epochs,
            float(np.mean(history["train_mse_per_iteration"][-iterations_per_epoch:])),
            test["mse"],
            baselines["mean_image"],
            test["network_rate"],
            time.perf_counter() - started,
        )
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, model)

    n_features = min(cfg.feature_batch_size, test_clean.shape[0])
    features = _feature_record(model, test_clean[:n_features], test_noisy[:n_features], device)
    write_npz(features_path, **features)
    metrics = _metrics(cfg, neuron_params, images, baselines, history, iterations_per_epoch)
    if test_target is not test_clean:
        # A noisy target's MSE holds the noise itself; the digit's reconstruction is this one.
        clean_test = evaluate(model, test_noisy, test_clean, tcfg.batch_size, device)
        metrics["test_mse_vs_clean_final"] = clean_test["mse"]
        metrics["baseline_mse_vs_clean"] = baseline_mse(images.train, test_clean)
    model.eval()
    metrics["effective_bias"] = effective_bias(model, test_noisy[:n_features].to(device))
    metrics["effective_bias_images"] = n_features
    metrics["offsets"] = cfg.model.offsets
    metrics["offset_parameters"] = _offset_record(model)
    metrics["device"] = str(device)
    metrics.update(extra or {})
    metrics["provenance"] = provenance(identity)
    write_run_metrics(metrics_path, metrics, AutoencoderMetrics)
    log.info(
        "%s: final test MSE %.5f (%s; blank %.5f, mean image %.5f)",
        label,
        metrics["test_mse_final"],
        metrics["label"],
        baselines["blank"],
        baselines["mean_image"],
    )
    return metrics


def _noisy(cfg: RunConfig, images: torch.Tensor, stream: torch.Generator) -> torch.Tensor:
    """The run's input for ``images`` under its noise protocol (one draw from ``stream``)."""
    return noisy_input(
        images,
        cfg.sigma,
        stream,
        sampling=cfg.noise_sampling,
        num_steps=cfg.model.num_steps,
        clamp=cfg.noise_clamp,
    )


def _offset_record(model: SpikingAutoencoder) -> dict[str, dict[str, Any]]:
    """Per offset parameter: trainable or not, and its largest magnitude after training."""
    return {
        name: {"trainable": p.requires_grad, "max_abs": float(p.detach().abs().max())}
        for name, p in model.offset_parameters().items()
    }


def _metrics(
    cfg: RunConfig,
    params: NeuronParams,
    images: ImageSet,
    baselines: dict[str, float],
    history: dict[str, Any],
    iterations_per_epoch: int,
) -> dict[str, Any]:
    train_mse = history["train_mse_per_iteration"]
    test_iter = history["test_mse_per_iteration"]
    final = history["test_mse_per_epoch"][-1]
    not_learned = final >= baselines["mean_image"]
    last_epoch = slice(len(train_mse) - iterations_per_epoch, None)
    rates = history["train_firing_rate_per_iteration"]
    return {
        "scenario": cfg.scenario,
        "status": "ok",
        "reason": None,
        "sigma": cfg.sigma,
        "seed": cfg.seed,
        "noise_sampling": cfg.noise_sampling,
        "noise_target": cfg.noise_target,
        "neuron_params": asdict(params),
        "run_config": cfg.to_dict(),
        "data": images.describe(),
        "iterations_per_epoch": iterations_per_epoch,
        "baseline_mse": baselines,
        "test_mse_final": final,
        "test_mse_per_epoch": history["test_mse_per_epoch"],
        "not_learned": not_learned,
        "label": "not_learned" if not_learned else "learned",
        "test_mse_over_mean_image": final / baselines["mean_image"],
        "test_mse_over_blank": final / baselines["blank"],
        "train_mse_per_iteration": train_mse,
        "test_mse_per_iteration": test_iter,
        "msed_train": msed(train_mse),
        "msed_train_per_iteration": msed_per_iteration(train_mse),
        "msed_test": msed(test_iter),
        "msed_test_per_iteration": msed_per_iteration(test_iter),
        "msed_step_iterations": 1,
        "firing_rate_per_iteration": rates,
        "network_firing_rate_per_iteration": history["train_network_rate_per_iteration"],
        "firing_rate_final_epoch_train": {
            name: float(np.mean(values[last_epoch])) for name, values in rates.items()
        },
        "firing_rate_final_epoch_test": {
            name: values[-1] for name, values in history["test_firing_rate_per_epoch"].items()
        },
        "firing_rate_test_per_epoch": history["test_firing_rate_per_epoch"],
        "network_firing_rate_test_per_epoch": history["test_network_rate_per_epoch"],
        "features_file": FEATURES_FILE,
        "feature_layers": list(SPIKING_LAYERS) + [READOUT_LAYER],
    }
