"""Time per training epoch of the Mackey-Glass regressor for each neuron type.

    PYTHONPATH=. python bench/bench_regressor.py [--config config/config.yaml config/quick.yaml]
        [--epochs 3] [--threads 1] [--out results/bench/regressor.json]

For MTC (the config's reference preset, ``regressor.mtc.step_time_units`` per step, so the
substeps a mapped condition with the default Euler step would use), LIF and AdLIF: build the
network of the config's width, cut the training windows as the stage does, run one warm-up
epoch, then time ``--epochs`` epochs of :func:`bridge.regressor.training.train_bptt` one at a
time. Reported per model: the minimum and median wall time per epoch (the minimum is the least
disturbed by other load on the machine), CPU time per epoch (process time; a CPU/wall ratio
well below the thread count means the cores were shared), windows per epoch and Adam steps per
epoch, and the evaluation (one step ahead + closed loop over the test span) wall time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from bridge import REPO_ROOT
from bridge.config import load_config
from bridge.config.regressor import RegressorRunConfig
from bridge.io import write_json
from bridge.neurons.registry import MODEL_NAMES
from bridge.provenance import provenance
from bridge.regressor.data import load_regressor_data, training_windows
from bridge.regressor.evaluation import run_closed_loop, run_one_step
from bridge.regressor.model import SpikingRegressor, parameter_counts
from bridge.regressor.neuron_setup import neuron_setup
from bridge.regressor.stage import resolve_device
from bridge.regressor.training import train_bptt

BENCH_SEED = 0


def bench_model(model: str, cfg: dict, epochs: int) -> dict[str, object]:
    settings = RegressorRunConfig.from_config(cfg, "regressor")
    device = resolve_device(settings.device)
    dtype = getattr(torch, settings.dtype)
    setup = neuron_setup(model, None, settings)
    data = load_regressor_data(settings.mackey_glass_params)
    inputs, targets = training_windows(
        data, settings.training.window_steps, settings.training.window_stride, dtype
    )
    inputs, targets = inputs.to(device), targets.to(device)
    network = SpikingRegressor(setup.spec, seed=BENCH_SEED, dtype=dtype).to(device)
    one_epoch = settings.training.model_copy(update={"epochs": 1})
    train_bptt(network, inputs, targets, one_epoch, BENCH_SEED)  # warm-up
    wall, cpu = [], []
    for epoch in range(epochs):
        w0, c0 = time.perf_counter(), time.process_time()
        result = train_bptt(network, inputs, targets, one_epoch, BENCH_SEED + 1 + epoch)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    e0 = time.perf_counter()
    run_one_step(network, data)
    run_closed_loop(network, data)
    return {
        "model": model,
        "device": str(device),
        "n_hidden": settings.n_hidden,
        "substeps": setup.spec.mtc_substeps if model == "mtc" else 1,
        "windows_per_epoch": result.n_windows,
        "window_steps": settings.training.window_steps,
        "adam_steps_per_epoch": result.batches_per_epoch,
        "trainable_parameters": parameter_counts(network)["total"],
        "epoch_wall_s_min": min(wall),
        "epoch_wall_s_median": statistics.median(wall),
        "epoch_cpu_s_median": statistics.median(cpu),
        "cpu_over_wall": statistics.median(cpu) / statistics.median(wall),
        "evaluation_wall_s": time.perf_counter() - e0,
        "projected_training_s": min(wall) * settings.training.epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--config",
        nargs="+",
        default=[
            str(REPO_ROOT / "config" / "config.yaml"),
            str(REPO_ROOT / "config" / "quick.yaml"),
        ],
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config)["regressor"]
    rows = []
    print(f"config: {' + '.join(args.config)}; torch threads {args.threads}")
    print(f"{'model':6} {'substeps':>8} {'windows':>7} {'steps':>5} {'min s/ep':>9} "
          f"{'med s/ep':>9} {'cpu/wall':>8} {'eval s':>7} {'train s (projected)':>20}")  # fmt: skip
    for model in args.models:
        row = bench_model(model, cfg, args.epochs)
        rows.append(row)
        print(f"{model:6} {row['substeps']:>8} {row['windows_per_epoch']:>7} "
              f"{row['adam_steps_per_epoch']:>5} {row['epoch_wall_s_min']:>9.3f} "
              f"{row['epoch_wall_s_median']:>9.3f} {row['cpu_over_wall']:>8.2f} "
              f"{row['evaluation_wall_s']:>7.2f} {row['projected_training_s']:>20.1f}")  # fmt: skip
    if args.out:
        prov = provenance({"regressor": cfg}, timestamp=True)
        write_json(args.out, {"rows": rows, "threads": args.threads, "provenance": prov})
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
