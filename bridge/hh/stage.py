"""HH stage for one condition: NEURON runs -> fi_curve.csv, features.csv, summary.json, traces.npz.

fi_curve.csv and summary.json cross to the mapping and compare stages: their contract and
writers are in :mod:`bridge.contracts` (docs/contracts.md). Cheap checks (config values, the
mechanism build, the stability of a re-balanced rest) run before the long simulations, so a
bad condition fails in seconds with a message that names it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bridge.config import Condition, ConfigError
from bridge.config.hh import ValidationConfig
from bridge.contracts import FI_COLUMNS, write_fi_curve, write_hh_summary
from bridge.hh.features import (
    EXCITABILITY_RULES,
    FEATURE_COLUMNS,
    BlockCriterion,
    Threshold,
    block_onset,
    excitability,
    fi_table,
    membrane_time_constant,
    rest_state,
    rheobase_repetitive,
    rheobase_single,
    single_run_row,
    step_feature_rows,
)
from bridge.hh.validation import run_validation
from bridge.io import write_csv, write_npz
from bridge.provenance import provenance
from hh_models.params import HHParams, params_from_condition, step_protocol_from_config
from hh_models.protocols import (
    RestCheck,
    SingleRun,
    check_rest_stability,
    decimation_factor,
    run_noise,
    run_spontaneous,
    run_steps,
)
from hh_models.spikes import Detection, detect_single, detect_steps

log = logging.getLogger(__name__)

FEATURES_COLUMNS = (
    "protocol",
    "sweep",
    "amp_uA_cm2",
    "amp_nA",
    "window_start_ms",
    "window_end_ms",
    "n_spikes",
    "n_spikes_window",
    *FEATURE_COLUMNS,
    "block",
    "v_mean_last_window_mV",
    "v_ptp_last_window_mV",
)
OUTPUT_FILES = (
    "fi_curve.csv",
    "features.csv",
    "summary.json",
    "traces.npz",
    "validation.npz",
)

DEFINITIONS = {
    "spike": (
        "upward crossing of spike_threshold_mV (NetCon threshold, its interpolated time; eFEL "
        "Threshold), counted from the trace's first crossing with a regenerative upstroke: "
        "dV/dt - I_inj/C_m above spike_min_ionic_dvdt_mV_ms within 0.5 ms (hh_models.spikes; "
        "earlier crossings are passive and rejected)"
    ),
    "excitability": "first of " + "; ".join(f"{k}: {v}" for k, v in EXCITABILITY_RULES.items()),
    "spike_count": "spikes with delay_ms <= t < delay_ms + duration_ms",
    "rheobase_single": "lowest step amplitude with >= 1 spike in the step window",
    "rheobase_repetitive": (
        "lowest step amplitude with sustained firing: >= 2 spikes in the step and >= 1 in "
        "the last block.window_ms of the step"
    ),
    "rheobase_null": (
        "null when no amplitude qualifies or the lowest grid amplitude already does "
        "(threshold below the grid); see *_reason"
    ),
    "block": (
        "no spike in the last block.window_ms of the step after >= block.min_spikes spikes "
        "earlier in the step, with mean V there above block.v_mean_above_mV"
    ),
    "spontaneous": "at least one spike in the no-input run after spontaneous.settle_ms",
    "v_rest_mV": "mean V of the no-input run after settle_ms; null when it fires",
    "tau_m_ms": "eFEL time_constant of the response to the smallest hyperpolarising step",
}


def _check_config(params: HHParams, hh_cfg: Mapping[str, Any]) -> None:
    """Fail fast (ConfigError naming the key) on values the schema cannot judge."""
    dt = float(hh_cfg["dt_ms"])
    steps = hh_cfg["steps"]
    decimation_factor(dt, float(steps["store_dt_ms"]))
    durations = {
        "hh.steps.delay_ms": steps["delay_ms"],
        "hh.steps.duration_ms": steps["duration_ms"],
        "hh.steps.after_ms": steps["after_ms"],
        "hh.spontaneous.duration_ms": hh_cfg["spontaneous"]["duration_ms"],
        "hh.noise.duration_ms": hh_cfg["noise"]["duration_ms"],
        "hh.validation.segment_ms": hh_cfg["validation"]["segment_ms"],
        "hh.rebalance.settle_ms": hh_cfg["rebalance"]["settle_ms"],
    }
    for key, value in durations.items():
        ratio = float(value) / dt
        if abs(ratio - round(ratio)) > 1e-6:
            raise ConfigError(f"{key} = {value} ms is not a multiple of hh.dt_ms = {dt} ms")
    if float(hh_cfg["block"]["window_ms"]) > float(steps["duration_ms"]):
        raise ConfigError(
            f"hh.block.window_ms = {hh_cfg['block']['window_ms']} exceeds "
            f"hh.steps.duration_ms = {steps['duration_ms']}"
        )
    if float(hh_cfg["spontaneous"]["settle_ms"]) >= float(hh_cfg["spontaneous"]["duration_ms"]):
        raise ConfigError(
            "hh.spontaneous.settle_ms must be shorter than hh.spontaneous.duration_ms"
        )
    if float(hh_cfg["spike_threshold_mV"]) <= params.v_init_mV:
        raise ConfigError(
            f"hh.spike_threshold_mV = {hh_cfg['spike_threshold_mV']} lies below the initial "
            f"potential {params.v_init_mV} mV"
        )


def _threshold_fields(prefix: str, value: Threshold) -> dict[str, Any]:
    return {
        f"{prefix}_uA_cm2": value.amp_uA_cm2,
        f"{prefix}_nA": value.amp_nA,
        f"{prefix}_reason": value.reason,
    }


def _noise_summary(run: SingleRun, row: Mapping[str, Any], noise_cfg: Mapping[str, Any]) -> dict:
    n = int(run.spike_times_ms.size)
    return {
        "duration_ms": run.duration_ms,
        "n_spikes": n,
        "rate_hz": n / (run.duration_ms / 1000.0),
        "isi_cv": row["isi_cv"],
        "mean_frequency_hz": row["mean_frequency_hz"],
        "v_mean_mV": float(run.v_full_mV.mean()),
        "i_mean_uA_cm2": float(run.i_uA_cm2.mean()),
        "i_sd_uA_cm2": float(run.i_uA_cm2.std()),
        "ou": {k: noise_cfg[k] for k in ("mean_uA_cm2", "sigma_uA_cm2", "tau_ms", "seed")},
    }


def _spike_detection(min_upstroke: float, found: Mapping[str, Detection]) -> dict[str, Any]:
    """How many threshold crossings each protocol rejected as passive (hh_models.spikes)."""
    return {
        "min_ionic_dvdt_mV_ms": min_upstroke,
        "n_rejected_crossings": {name: d.total_rejected for name, d in found.items()},
    }


def _bool_text(values: Any) -> list[str]:
    """CSV booleans as true/false; None (not applicable) stays empty."""
    return ["" if v is None else ("true" if bool(v) else "false") for v in values]


def run_condition(condition: Condition, hh_cfg: Mapping[str, Any], outdir: Path) -> None:
    """Simulate one condition in NEURON and write the HH-stage files into ``outdir``."""
    t_start = time.perf_counter()
    outdir = Path(outdir)
    hh_cfg = dict(hh_cfg)
    params = params_from_condition(condition, hh_cfg)
    protocol = step_protocol_from_config(hh_cfg)
    threshold = float(hh_cfg["spike_threshold_mV"])
    dt = float(hh_cfg["dt_ms"])
    store_dt = float(hh_cfg["steps"]["store_dt_ms"])
    criterion = BlockCriterion.from_config(hh_cfg["block"])
    settle = float(hh_cfg["spontaneous"]["settle_ms"])
    _check_config(params, hh_cfg)
    prov = provenance({"hh": hh_cfg, "condition": condition.to_dict()})
    mechanism = "hh" if params.uses_builtin_hh else "hhx"
    log.info(
        "condition %s: %s, gnabar %g gkbar %g gl %g S/cm2, el %.3f mV, %d step amplitudes",
        condition.name,
        mechanism,
        params.gnabar,
        params.gkbar,
        params.gl,
        params.el_mV,
        len(protocol.amps_uA_cm2),
    )

    rest_check: RestCheck | None = None
    if params.v_rest_target_mV is not None:
        rb = hh_cfg["rebalance"]
        rest_check = check_rest_stability(
            params,
            float(rb["perturbation_mV"]),
            float(rb["settle_ms"]),
            float(rb["tolerance_mV"]),
            dt_ms=dt,
            condition_name=condition.name,
            threshold_mV=threshold,
        )

    t0 = time.perf_counter()
    steps = run_steps(params, protocol, threshold, store_dt)
    min_upstroke = float(hh_cfg["spike_min_ionic_dvdt_mV_ms"])
    steps, steps_found = detect_steps(steps, min_upstroke)
    log.info(
        "steps: %d sweeps in one simulation, %.2f s", steps.v_mV.shape[0], time.perf_counter() - t0
    )
    t0 = time.perf_counter()
    spont = run_spontaneous(params, float(hh_cfg["spontaneous"]["duration_ms"]), dt, threshold)
    noise = run_noise(params, hh_cfg["noise"], dt, threshold)
    spont, spont_found = detect_single(spont, min_upstroke)
    noise, noise_found = detect_single(noise, min_upstroke)
    log.info("spontaneous + noise runs: %.2f s", time.perf_counter() - t0)
    t0 = time.perf_counter()
    validation = run_validation(
        params,
        ValidationConfig.from_config(hh_cfg["validation"], "hh.validation"),
        steps,
        dt,
        store_dt,
        threshold,
        min_upstroke,
        outdir / "validation.npz",
        prov,
    )
    log.info("validation segments: %.2f s", time.perf_counter() - t0)

    t0 = time.perf_counter()
    fi = pd.DataFrame(fi_table(steps, criterion), columns=list(FI_COLUMNS))
    fi["block"] = _bool_text(fi["block"])
    step_rows = step_feature_rows(steps, criterion, steps_found.rejected_times_ms)
    spont_row = single_run_row(
        spont, "spontaneous", start_ms=settle, rejected_ms=spont_found.rejected_times_ms[0]
    )
    noise_row = single_run_row(noise, "noise", rejected_ms=noise_found.rejected_times_ms[0])
    features = pd.DataFrame([*step_rows, spont_row, noise_row], columns=list(FEATURES_COLUMNS))
    features["block"] = _bool_text(features["block"])
    rest = rest_state(spont, settle)
    tau = membrane_time_constant(steps, rest)
    r_single = rheobase_single(steps)
    r_rep = rheobase_repetitive(steps, criterion)
    onset = block_onset(steps, criterion)
    excitable = excitability(steps, spont, criterion)
    log.info("features: %.2f s", time.perf_counter() - t0)

    summary: dict[str, Any] = {
        "condition": condition.name,
        "description": condition.description,
        "mechanism": mechanism,
        "params": asdict(params),
        "v_init_mV": params.v_init_mV,
        "spike_threshold_mV": threshold,
        "protocol": {
            "delay_ms": protocol.delay_ms,
            "duration_ms": protocol.duration_ms,
            "after_ms": protocol.after_ms,
            "dt_ms": protocol.dt_ms,
            "store_dt_ms": store_dt,
            "n_sweeps": len(protocol.amps_uA_cm2),
            "amp_min_uA_cm2": min(protocol.amps_uA_cm2),
            "amp_max_uA_cm2": max(protocol.amps_uA_cm2),
        },
        **_threshold_fields("rheobase_single", r_single),
        **_threshold_fields("rheobase_repetitive", r_rep),
        **_threshold_fields("block_onset", onset),
        "n_block_sweeps": int((fi["block"] == "true").sum()),
        "excitability": excitable.status,
        "excitability_detail": excitable.to_dict(),
        "spike_detection": _spike_detection(
            min_upstroke, {"steps": steps_found, "spontaneous": spont_found, "noise": noise_found}
        ),
        "spontaneous": rest.spontaneous,
        "spontaneous_rate_hz": rest.rate_hz,
        "spontaneous_n_spikes": rest.n_spikes,
        "v_rest_mV": rest.v_rest_mV,
        "v_mean_mV": rest.v_mean_mV,
        "v_min_mV": rest.v_min_mV,
        "v_max_mV": rest.v_max_mV,
        "spontaneous_analysed_from_ms": rest.analysed_from_ms,
        "tau_m_ms": tau.tau_m_ms,
        "tau_m_amp_uA_cm2": tau.amp_uA_cm2,
        "tau_m_reason": tau.reason,
        "rest_check": None if rest_check is None else asdict(rest_check),
        "noise": _noise_summary(noise, noise_row, hh_cfg["noise"]),
        "validation": validation,
        "definitions": DEFINITIONS,
        "provenance": prov,
    }

    k = decimation_factor(dt, store_dt)
    spike_sweep = np.concatenate(
        [np.full(s.size, i, dtype=np.int32) for i, s in enumerate(steps.spike_times_ms)]
    )
    write_npz(
        outdir / "traces.npz",
        t_ms=steps.t_ms,
        amp_uA_cm2=steps.amps_uA_cm2,
        amp_nA=steps.amps_nA,
        v_mV=steps.v_mV,
        spike_times_ms=np.concatenate(steps.spike_times_ms),
        spike_sweep_index=spike_sweep,
        spontaneous_t_ms=spont.t_full_ms[::k],
        spontaneous_v_mV=spont.v_full_mV[::k].astype(np.float32),
        spontaneous_spike_times_ms=spont.spike_times_ms,
        noise_t_ms=noise.t_full_ms[::k],
        noise_v_mV=noise.v_full_mV[::k].astype(np.float32),
        noise_i_uA_cm2=noise.i_uA_cm2[::k].astype(np.float32),
        noise_spike_times_ms=noise.spike_times_ms,
        dt_ms=np.float64(dt),
        store_dt_ms=np.float64(store_dt),
        delay_ms=np.float64(protocol.delay_ms),
        duration_ms=np.float64(protocol.duration_ms),
        after_ms=np.float64(protocol.after_ms),
        spike_threshold_mV=np.float64(threshold),
        provenance_json=np.array(json.dumps(prov, sort_keys=True)),
    )
    write_fi_curve(outdir / "fi_curve.csv", fi, prov)
    write_csv(outdir / "features.csv", features, prov)
    write_hh_summary(outdir / "summary.json", summary)
    log.info(
        "condition %s done in %.1f s: rheobase single %s, repetitive %s, spontaneous %s "
        "(%.1f Hz), block onset %s uA/cm2",
        condition.name,
        time.perf_counter() - t_start,
        r_single.amp_uA_cm2,
        r_rep.amp_uA_cm2,
        rest.spontaneous,
        rest.rate_hz,
        onset.amp_uA_cm2,
    )
