"""Small hand-made stage outputs for the comparison stage's tests (files in the contracts'
formats, values chosen so that the expected table entries can be computed by hand)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bridge.compare.paths import (
    expected_runs,
    hh_fi_curve_path,
    hh_summary_path,
    mapping_path,
    regressor_metrics_path,
)
from bridge.config.compare import compare_settings
from bridge.contracts import VALIDATION_HEADLINE_KEYS
from bridge.io import write_csv, write_json
from bridge.neurons.registry import CONDITION_MODELS, MODEL_NAMES

REPO = Path(__file__).resolve().parent.parent
CONDITIONS = ("control", "intermediate", "hyperexcitable")
GNABAR = {"control": 0.12, "intermediate": 0.25, "hyperexcitable": 1.0}
LAYERS = ("EC_Lk1", "EC_Syn1", "EC_Syn2", "DC_Lk1")
AE_SEEDS = (123, 999, 42)
REG_SEEDS = (1, 2, 3)
SIGMAS = (0.0, 0.2)
MEAN_IMAGE_MSE = 0.058
#: Half-width of the fixture mappings' beta intervals.
BETA_HALF_WIDTH = 0.002
#: Regressor horizons of a metrics.json evaluation block.
HORIZONS = ("one_step", "closed_loop", "closed_loop_first_lyapunov_time")


def small_config() -> dict[str, Any]:
    """config/config.yaml with two noise levels and three seeds per network."""
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config = copy.deepcopy(config)
    config["autoencoder"]["noise"]["sigmas"] = list(SIGMAS)
    config["autoencoder"]["seeds"] = list(AE_SEEDS)
    config["regressor"]["seeds"] = list(REG_SEEDS)
    # The trained-offset arm only; tests/test_compare_offset_arms.py adds the frozen one.
    config["autoencoder"]["condition_offsets"] = ["trained"]
    # The main noise protocol and no label arm, as the quick run; tests add them.
    config["autoencoder"]["noise"]["protocols"] = config["autoencoder"]["noise"]["protocols"][:1]
    config["autoencoder"]["label_arm"] = False
    return config


def hh_summary(condition: str, rate_hz: dict[str, float]) -> dict[str, Any]:
    spont = {"control": 0.0, "intermediate": 53.0, "hyperexcitable": 65.0}[condition]
    return {
        "condition": condition,
        "params": {"gnabar": GNABAR[condition], "gkbar": 0.036, "gl": 0.0003},
        "rheobase_single_uA_cm2": 2.5 if condition == "control" else None,
        "rheobase_single_reason": None
        if condition == "control"
        else "fires at the lowest amplitude",
        "rheobase_repetitive_uA_cm2": 6.5 if condition == "control" else None,
        "rheobase_repetitive_reason": None
        if condition == "control"
        else "fires at the lowest amplitude",
        "spontaneous": spont > 0,
        "spontaneous_rate_hz": spont,
        "block_onset_uA_cm2": {"control": 100.0, "intermediate": 205.0, "hyperexcitable": 115.0}[
            condition
        ],
        "block_onset_reason": None,
        "n_block_sweeps": 3,
        "noise": {
            "isi_cv": {"control": 0.36, "intermediate": 0.1, "hyperexcitable": 0.08}[condition],
            "rate_hz": 49.0,
        },
        "provenance": {"git_commit": "test"},
    }


def fi_curve(rate_at_10: float) -> pd.DataFrame:
    amps = [0.0, 5.0, 10.0, 20.0]
    rates = [0.0, rate_at_10 / 2, rate_at_10, rate_at_10 + 10.0]
    return pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": [a / 1000 for a in amps],
            "spike_count": [0, 1, 2, 3],
            "n_spikes": [0, 1, 2, 3],
            "rate_hz": rates,
            "first_spike_latency_ms": [None, 5, 3, 2],
            "block": ["false"] * 4,
        }
    )


def mapping_json(condition: str) -> dict[str, Any]:
    beta_fit = {"control": 0.70, "intermediate": 0.73, "hyperexcitable": 0.75}[condition]
    return {
        "condition": condition,
        "gnabar": GNABAR[condition],
        "status": "ok",
        "use_downstream": True,
        "beta_analytic": round(2.718281828 ** -GNABAR[condition], 6),
        "beta_membrane": 0.47 if condition == "control" else None,
        "beta_membrane_detail": {"reason": None if condition == "control" else "fires at rest"},
        "beta_fit": beta_fit,
        # The fit's accepted region: disjoint between conditions (claim 5 can decide).
        "intervals": {"beta": [beta_fit - BETA_HALF_WIDTH, beta_fit + BETA_HALF_WIDTH]},
        "tau_fit_ms": 2.8,
        "bias_fit": 0.29,
        "w_per_nA": 0.6,
        "alpha_syn": 0.9,
        "beta_syn": beta_fit,
        "mtc": {
            "status": "ok",
            "use_downstream": True,
            "a_fast": -2.0 - 0.1 * GNABAR[condition],
            "a_slow_pos": 4.2,
            "i_bias": -1.0,
            "input_scale": 14.7,
            "input_offset": -1.5,
        },
        "validation": {
            "headline": {key: 0.05 * (i + 1) for i, key in enumerate(VALIDATION_HEADLINE_KEYS)},
            "flags": {"lif": ["timing_below_floor"], "lif_fine": [], "mtc": []},
            "gates": {
                "autoencoder": [],
                "regressor_lif": ["timing_below_floor"],
                "regressor_mtc": [],
            },
        },
        "provenance": {"git_commit": "test"},
    }


def ae_metrics(
    scenario: str,
    sigma: float,
    seed: int,
    mse: float,
    rates: Mapping[str, float],
    beta_unidentified: bool = False,
) -> dict[str, Any]:
    return {
        "scenario": scenario,
        "sigma": sigma,
        "seed": seed,
        "status": "ok",
        "reason": None,
        "beta_unidentified": beta_unidentified,
        "validation_flags": [],
        "test_mse_final": mse,
        "test_mse_per_epoch": [0.1, mse],
        "baseline_mse": {"blank": 0.1, "mean_image": MEAN_IMAGE_MSE},
        "msed_train": 10 * mse,
        "msed_test": 5 * mse,
        "not_learned": mse >= MEAN_IMAGE_MSE,
        "label": "learned",
        "firing_rate_final_epoch_test": dict(rates),
        "network_firing_rate_test_per_epoch": [0.3, sum(rates.values()) / len(rates)],
        "provenance": {"git_commit": "test"},
    }


def reg_metrics(
    condition: str,
    model: str,
    seed: int,
    r2: float,
    smape: float,
    s_comm: float,
    s_comp: float,
    status: str = "ok",
) -> dict[str, Any]:
    if status == "skipped":
        return {
            "condition": condition,
            "model": model,
            "seed": seed,
            "status": "skipped",
            "reason": "mapping use_downstream is false",
            "provenance": {},
        }

    def acc(r, s):
        return {
            "r2": r,
            "smape": s,
            "smape_z": 1.2 * s,
            "skill_vs_repeat_last": r - 0.85,
            "skill_vs_ridge_ar": r - 0.99,
            "n_steps": 750,
            "n_nonfinite": 0,
        }

    def activity():
        return {
            "s_comm": s_comm,
            "activation_sparsity": 1.0 - 3.0 * s_comm,
            "synaptic_ops": 64.0 + 192.0 * s_comm,
            "dense_synaptic_ops": 128.0,
            "s_comp": s_comp,
        }

    accuracy = {
        "closed_loop": acc(r2, smape),
        "one_step": acc(r2 + 0.5, smape / 2),
        "closed_loop_first_lyapunov_time": acc(r2 + 0.4, smape / 1.5),
    }
    return {
        "condition": condition,
        "model": model,
        "seed": seed,
        "status": status,
        "reason": None,
        "evaluation": {h: {**accuracy[h], **activity()} for h in HORIZONS},
        "headline": {
            "r2": r2,
            "smape": smape,
            "r2_one_step": r2 + 0.5,
            "smape_one_step": smape / 2,
            "s_comm": s_comm,
            "s_comp": s_comp,
            "beats_repeat_last_value": r2 + 0.5 > 0.85 and r2 + 0.4 > 0.2,
        },
        "baselines": {
            "repeat_last_value": {
                "one_step": acc(0.85, 9.0),
                "closed_loop": acc(-0.8, 60.0),
                "closed_loop_first_lyapunov_time": acc(0.2, 25.0),
            },
            "ridge_ar": {
                "one_step": acc(0.99, 1.0),
                "closed_loop": acc(0.05, 30.0),
                "closed_loop_first_lyapunov_time": acc(0.6, 12.0),
            },
        },
        "neuron": {"validation_flags": ["timing_below_floor"] if model == "lif" else []},
        "provenance": {"git_commit": "test"},
    }


AeValues = Callable[[str, float, int], tuple[float, dict[str, float]]]
RegValues = Callable[[str, str, int], tuple[float, float, float, float]]


def default_ae(scenario: str, sigma: float, seed: int) -> tuple[float, dict[str, float]]:
    """MSE and layer rates: overfiring scenarios worse without noise, less so with it."""
    jitter = {123: 0.0, 999: 0.002, 42: -0.001}[seed]
    base = 0.030 + jitter
    worse = {"s3_syn_beta": 0.020, "cond_hyperexcitable": 0.010, "cond_intermediate": 0.004}
    extra = worse.get(scenario, 0.0) * (1.0 if sigma == 0.0 else 0.4)
    rates = {"EC_Lk1": 0.2, "EC_Syn1": 0.23, "EC_Syn2": 0.23, "DC_Lk1": 0.42}
    if scenario in worse:
        rates = {"EC_Lk1": 0.2, "EC_Syn1": 0.16, "EC_Syn2": 0.19, "DC_Lk1": 0.55}
    return base + extra + sigma * 0.05, {k: v + jitter for k, v in rates.items()}


def default_reg(condition: str, model: str, seed: int) -> tuple[float, float, float, float]:
    """(closed-loop R2, sMAPE, S_comm, S_comp): MTC better and sparser than LIF and AdLIF."""
    jitter = 0.01 * (seed - 2)
    return {
        "mtc": (0.40 + jitter, 15.0 - jitter, 0.002, 0.95),
        "lif": (0.10 + jitter, 30.0 + jitter, 0.10, 0.60),
        "adlif": (0.30 + jitter, 20.0 + jitter, 0.04, 0.70),
    }[model]


def write_stage_outputs(
    results: Path,
    config: Mapping[str, Any],
    ae: AeValues = default_ae,
    reg: RegValues = default_reg,
) -> None:
    """HH, mapping, autoencoder and regressor files for CONDITIONS under ``results``."""
    rate_at_10 = {"control": 70.0, "intermediate": 90.0, "hyperexcitable": 110.0}
    for condition in CONDITIONS:
        write_json(hh_summary_path(results, condition), hh_summary(condition, rate_at_10))
        write_csv(hh_fi_curve_path(results, condition), fi_curve(rate_at_10[condition]))
        write_json(mapping_path(results, condition), mapping_json(condition))
    # Every autoencoder run the compare stage expects (label and extra-protocol arms too).
    for key, path in expected_runs(compare_settings(config, CONDITIONS), results):
        if key.stage == "autoencoder":
            assert key.sigma is not None and key.seed is not None
            mse, rates = ae(key.scenario, key.sigma, key.seed)
            write_json(path, ae_metrics(key.scenario, key.sigma, key.seed, mse, rates))
    for seed in config["regressor"]["seeds"]:
        for condition in CONDITIONS:
            for model in CONDITION_MODELS:
                write_json(
                    regressor_metrics_path(results, condition, model, seed),
                    reg_metrics(condition, model, seed, *reg(condition, model, seed)),
                )
        for model in MODEL_NAMES:  # the trained arms
            write_json(
                regressor_metrics_path(results, "reference", model, seed),
                reg_metrics("reference", model, seed, *reg("reference", model, seed)),
            )
