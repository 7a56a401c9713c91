"""Batched NEURON f-I run vs one simulation per amplitude, and the HH-stage wall time.

    PYTHONPATH=. python bench/bench_hh_batched.py [--config config/config.yaml config/quick.yaml]

Throughput = simulated cell-seconds per wall-second (n_sweeps * tstop / wall time) of the
same step protocol (the config's amplitudes, dt, delay/step/after), three ways:

- batched: every amplitude is a cell of ONE simulation (hh_models.protocols.run_steps);
- per-amplitude, fastest form: one cell built once, for each amplitude set the IClamp,
  finitialize, ParallelContext.psolve (the stepping loop in C), copy V and spikes out;
- per-amplitude, stdrun form: the same with h.continuerun (NEURON's usual hoc run loop),
  shown for reference only; the headline ratio uses the fastest baseline.

All three record the same things (V every step, NetCon spikes), and the spike times are
checked to be identical. A breakdown shows where the per-amplitude time goes: NEURON's
fixed cost per time step (paid once per simulation) against the cost per cell and step.
Then the HH stage (bridge.hh.stage.run_condition) runs for every condition of the config.
Timings are the minimum over --repeats (the least disturbed by other load on the machine).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bridge import QUICK_CONFIG_FILES, REPO_ROOT
from bridge.config import load_conditions, load_config
from bridge.hh.stage import run_condition
from bridge.io import write_json
from bridge.provenance import provenance
from hh_models.params import (
    HHParams,
    StepProtocol,
    params_from_condition,
    step_protocol_from_config,
)
from hh_models.protocols import PSOLVE_MAXSTEP_MS, CellBatch, run_steps

TARGET_RATIO = 15.0


def _min_time(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Minimum wall time, minimum CPU time (immune to other processes' load), last result."""
    best_wall, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, result


def batched(params: HHParams, protocol: StepProtocol, threshold_mV: float) -> list[np.ndarray]:
    return run_steps(params, protocol, threshold_mV, protocol.dt_ms).spike_times_ms


class PerAmplitude:
    """One cell, rebuilt never; one finitialize + run per amplitude."""

    def __init__(self, params: HHParams, protocol: StepProtocol, threshold_mV: float) -> None:
        self.params, self.protocol = params, protocol
        self.sim = CellBatch(params, 1, threshold_mV)
        self.stim = self.sim.iclamp(0, protocol.delay_ms, protocol.duration_ms, 0.0)
        self.n_runs = 0
        self.init_s = self.step_s = self.copy_s = 0.0

    def run(self, use_stdrun: bool = False) -> list[np.ndarray]:
        h, sim, protocol = self.sim.h, self.sim, self.protocol
        spikes = []
        for amp in protocol.amps_uA_cm2:
            self.stim.amp = float(self.params.density_to_nA(amp))
            t0 = time.perf_counter()
            if use_stdrun:
                h.dt = protocol.dt_ms
                h.steps_per_ms = 1.0 / protocol.dt_ms
                h.CVode().cache_efficient(1)
                h.finitialize(self.params.v_init_mV)
                t1 = time.perf_counter()
                h.continuerun(protocol.tstop_ms)
            else:
                # CellBatch.run = finitialize + psolve; split here to time the parts
                h.dt = protocol.dt_ms
                h.CVode().cache_efficient(1)
                pc = h.ParallelContext()
                pc.set_maxstep(PSOLVE_MAXSTEP_MS)
                h.finitialize(self.params.v_init_mV)
                t1 = time.perf_counter()
                pc.psolve(protocol.tstop_ms)
            t2 = time.perf_counter()
            sim.voltages()
            spikes.append(sim.spikes()[0])
            t3 = time.perf_counter()
            if not use_stdrun:
                self.n_runs += 1
                self.init_s += t1 - t0
                self.step_s += t2 - t1
                self.copy_s += t3 - t2
        return spikes


def per_step_costs(params: HHParams, protocol: StepProtocol, threshold_mV: float) -> dict:
    """CPU seconds per time step of a 1-cell and an N-cell simulation (same recording)."""
    n_steps = round(protocol.tstop_ms / protocol.dt_ms)
    out = {}
    for n_cells in (1, len(protocol.amps_uA_cm2)):
        proto = StepProtocol(
            protocol.amps_uA_cm2[:n_cells],
            protocol.delay_ms,
            protocol.duration_ms,
            protocol.after_ms,
            protocol.dt_ms,
        )
        sim = CellBatch(params, n_cells, threshold_mV)
        for i, amp in enumerate(proto.amps_uA_cm2):
            sim.iclamp(i, proto.delay_ms, proto.duration_ms, float(params.density_to_nA(amp)))
        t0 = time.process_time()
        sim.run(proto.tstop_ms, proto.dt_ms, params.v_init_mV)
        out[n_cells] = (time.process_time() - t0) / n_steps
        del sim
    return out


def import_overhead_s() -> float:
    """Wall time of a fresh interpreter importing what one Snakemake HH job imports."""
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import bridge.hh.stage, neuron, efel"],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": str(Path(sys.executable).parent)},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config",
        nargs="+",
        default=[str(path) for path in QUICK_CONFIG_FILES],
    )
    parser.add_argument("--condition", default="control", help="condition used for the ratio")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument(
        "--no-stdrun", action="store_true", help="skip the (slow) stdrun reference baseline"
    )
    args = parser.parse_args()

    cfg = load_config(args.config)
    hh = cfg["hh"]
    conditions = load_conditions(REPO_ROOT / cfg["conditions"])
    condition = next(c for c in conditions if c.name == args.condition)
    params = params_from_condition(condition, hh)
    protocol = step_protocol_from_config(hh)
    threshold = float(hh["spike_threshold_mV"])
    n = len(protocol.amps_uA_cm2)
    cell_s = n * protocol.tstop_ms / 1000.0
    print(
        f"protocol: {n} amplitudes x {protocol.tstop_ms:g} ms at dt {protocol.dt_ms} ms "
        f"({cell_s:g} simulated cell-seconds), condition {condition.name}"
    )

    t_batched, cpu_batched, spikes_b = _min_time(
        lambda: batched(params, protocol, threshold), args.repeats
    )
    per_amp = PerAmplitude(params, protocol, threshold)
    t_single, cpu_single, spikes_s = _min_time(per_amp.run, args.repeats)
    runs = [("psolve", spikes_s)]
    t_stdrun = None
    if not args.no_stdrun:
        t_stdrun, _, spikes_r = _min_time(lambda: per_amp.run(use_stdrun=True), 1)
        runs.append(("stdrun", spikes_r))
    for name, other in runs:
        for i, (a, b) in enumerate(zip(spikes_b, other, strict=True)):
            if a.size != b.size or not np.allclose(a, b, rtol=0, atol=1e-9):
                raise RuntimeError(f"per-amplitude ({name}) spikes differ at sweep {i}")
    ratio = t_single / t_batched
    print(f"batched                 : {t_batched:7.3f} s  {cell_s / t_batched:8.1f} cell-s/s")
    print(f"per-amplitude (psolve)  : {t_single:7.3f} s  {cell_s / t_single:8.1f} cell-s/s")
    print(f"RATIO batched / per-amplitude (fastest baseline): {ratio:.1f}x (target >= 15x)")
    print(f"same ratio in CPU time (insensitive to other load): {cpu_single / cpu_batched:.1f}x")
    if t_stdrun is not None:
        print(f"per-amplitude (stdrun)  : {t_stdrun:7.3f} s  {cell_s / t_stdrun:8.1f} cell-s/s")
        print(f"ratio against the stdrun baseline (reference only): {t_stdrun / t_batched:.1f}x")
    print(f"spike times identical in the batched and per-amplitude runs ({len(runs)} baselines)")

    costs = per_step_costs(params, protocol, threshold)
    fixed_s = costs[1]
    per_cell_s = costs[n] / n
    ceiling = fixed_s / per_cell_s
    runs = per_amp.n_runs
    print(
        f"one per-amplitude psolve run, mean of {runs}: finitialize "
        f"{per_amp.init_s / runs * 1e3:.2f} ms, psolve {per_amp.step_s / runs * 1e3:.2f} ms, "
        f"copy-out {per_amp.copy_s / runs * 1e3:.2f} ms"
    )
    print(
        f"CPU cost per time step: 1-cell simulation {fixed_s * 1e9:.0f} ns; {n}-cell simulation "
        f"{costs[n] * 1e9:.0f} ns = {per_cell_s * 1e9:.0f} ns per cell -> the batched gain "
        f"cannot exceed ~{ceiling:.1f}x ({'meets' if ceiling >= TARGET_RATIO else 'below'} 15x)"
    )

    stage = {}
    with tempfile.TemporaryDirectory() as tmp:
        for c in conditions:
            t0 = time.perf_counter()
            run_condition(c, hh, Path(tmp) / c.name)
            stage[c.name] = time.perf_counter() - t0
    imports = import_overhead_s()
    total = sum(stage.values())
    for name, seconds in stage.items():
        print(f"HH stage (NEURON) {name:16s}: {seconds:6.2f} s")
    print(
        f"HH stage (NEURON) total for {len(stage)} conditions: {total:.2f} s in-process; "
        f"+ {imports:.2f} s imports per fresh job -> {total + len(stage) * imports:.2f} s "
        "as separate Snakemake jobs on one core"
    )

    if args.json is not None:
        write_json(
            args.json,
            {
                "n_sweeps": n,
                "simulated_cell_s": cell_s,
                "batched_s": t_batched,
                "per_amplitude_psolve_s": t_single,
                "per_amplitude_stdrun_s": t_stdrun,
                "ratio": ratio,
                "batched_cpu_s": cpu_batched,
                "per_amplitude_psolve_cpu_s": cpu_single,
                "ratio_cpu": cpu_single / cpu_batched,
                "ratio_vs_stdrun": None if t_stdrun is None else t_stdrun / t_batched,
                "step_cost_1_cell_ns": fixed_s * 1e9,
                "step_cost_per_cell_batched_ns": per_cell_s * 1e9,
                "ratio_ceiling": ceiling,
                "stage_s": stage,
                "import_overhead_s": imports,
                "provenance": provenance({"hh": hh, "argv": sys.argv[1:]}),
            },
        )
    print(json.dumps({"ratio": round(ratio, 2), "stage_total_s": round(total, 2)}))


if __name__ == "__main__":
    main()
