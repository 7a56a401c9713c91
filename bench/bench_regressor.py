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

Then, when MTC is among the models, its engines (``bridge.neurons.mtc.MTC_ENGINES``) on one
network (copies of the same initial weights), the same windows and threads, one warm-up epoch
each and then ``--epochs`` epochs taken round-robin (so load on the machine hits them alike):
``fused`` (the default), ``reference`` (one autograd operation per term and Euler substep) and
``before``, the reference engine with the rest state solved for every batch at [B, N] as
``MTCLayer.initial_state`` did before the fused engine (today's implementation when the fused
engine came). Printed: minimum and median epoch wall time per engine and the ratios of the
minima, fused vs before (the whole change) and fused vs reference (the substep fusion alone).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from bridge import QUICK_CONFIG_FILES
from bridge.config import load_config
from bridge.config.regressor import RegressorRunConfig
from bridge.io import write_json
from bridge.neurons.mtc import MTCLayer, MTCState, mtc_rest_state
from bridge.neurons.registry import MODEL_NAMES
from bridge.provenance import provenance
from bridge.regressor.data import load_regressor_data, training_windows
from bridge.regressor.evaluation import run_closed_loop, run_one_step
from bridge.regressor.model import SpikingRegressor, parameter_counts
from bridge.regressor.neuron_setup import neuron_setup
from bridge.regressor.stage import resolve_device
from bridge.regressor.training import train_bptt

BENCH_SEED = 0
#: MTC variants timed against each other: (engine, rest state solved per batch as before).
MTC_ENGINE_VARIANTS: dict[str, tuple[str, bool]] = {
    "fused": ("fused", False),
    "reference": ("reference", False),
    "before": ("reference", True),
}


def _rest_state_per_batch(layer: MTCLayer) -> Callable[[int], MTCState]:
    """``MTCLayer.initial_state`` as it was before the fused engine: solved at [B, N]."""

    def initial_state(batch_size: int) -> MTCState:
        ref = layer.v_th
        return mtc_rest_state(
            layer.current_params(),
            (batch_size, layer.n_neurons),
            0.0,
            dtype=ref.dtype,
            device=ref.device,
        )

    return initial_state


def _setup(model: str, cfg: dict) -> tuple:
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
    return settings, device, setup, data, inputs, targets, network


def bench_mtc_engines(cfg: dict, epochs: int) -> dict[str, object]:
    """Epoch wall time of each :data:`MTC_ENGINE_VARIANTS` entry, round-robin in one process."""
    settings, device, setup, _, inputs, targets, network = _setup("mtc", cfg)
    networks = {}
    for name, (engine, per_batch_rest) in MTC_ENGINE_VARIANTS.items():
        copied = copy.deepcopy(network)
        copied.hidden.engine = engine
        if per_batch_rest:
            copied.hidden.initial_state = _rest_state_per_batch(copied.hidden)
        networks[name] = copied
    one_epoch = settings.training.model_copy(update={"epochs": 1})
    for net in networks.values():
        train_bptt(net, inputs, targets, one_epoch, BENCH_SEED)  # warm-up
    wall: dict[str, list[float]] = {name: [] for name in networks}
    for epoch in range(epochs):
        for name, net in networks.items():
            w0 = time.perf_counter()
            train_bptt(net, inputs, targets, one_epoch, BENCH_SEED + 1 + epoch)
            wall[name].append(time.perf_counter() - w0)
    best = {name: min(times) for name, times in wall.items()}
    return {
        "device": str(device),
        "substeps": setup.spec.mtc_substeps,
        "n_hidden": settings.n_hidden,
        "epochs_timed": epochs,
        "epoch_wall_s_min": best,
        "epoch_wall_s_median": {name: statistics.median(times) for name, times in wall.items()},
        "fused_speedup_vs_before": best["before"] / best["fused"],
        "fused_speedup_vs_reference": best["reference"] / best["fused"],
    }


def bench_model(model: str, cfg: dict, epochs: int) -> dict[str, object]:
    settings, device, setup, data, inputs, targets, network = _setup(model, cfg)
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
        "mtc_engine": network.hidden.engine if model == "mtc" else None,
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
        default=[str(path) for path in QUICK_CONFIG_FILES],
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    # The training runs' view of the section (workflow/rules/regressor.smk): no paper_values.
    cfg = {k: v for k, v in load_config(args.config)["regressor"].items() if k != "paper_values"}
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
    engines = None
    if "mtc" in args.models:
        engines = bench_mtc_engines(cfg, args.epochs)
        print(
            f"\nMTC engines ({engines['substeps']} substeps, {engines['epochs_timed']} epochs "
            "round-robin after one warm-up each):"
        )
        print(f"{'engine':10} {'min s/ep':>9} {'med s/ep':>9}")
        for name in MTC_ENGINE_VARIANTS:
            print(
                f"{name:10} {engines['epoch_wall_s_min'][name]:>9.3f} "
                f"{engines['epoch_wall_s_median'][name]:>9.3f}"
            )
        print(f"fused vs before: {engines['fused_speedup_vs_before']:.2f}x; "
              f"fused vs reference: {engines['fused_speedup_vs_reference']:.2f}x "
              "(ratios of the minimum epoch times)")  # fmt: skip
    if args.out:
        prov = provenance({"regressor": cfg}, timestamp=True)
        write_json(
            args.out,
            {"rows": rows, "mtc_engines": engines, "threads": args.threads, "provenance": prov},
        )
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
