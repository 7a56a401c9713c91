"""Hand-made inputs for the regressor tests: a mapping JSON in the mapping stage's contract
(bridge.contracts.MappingRecord, results/mapping/{condition}.json) and a tiny regressor config section."""

from __future__ import annotations

import copy
from typing import Any

from bridge.neurons.mtc import MTC_GAIN_FIELDS, MTC_OFFSET_FIELDS, MTC_PRESETS

#: Gains and offsets: what the MTC paper trains of an MTC neuron.
PAPER_MTC_FIELDS = MTC_GAIN_FIELDS + MTC_OFFSET_FIELDS

#: Seconds, not minutes: 2 Lyapunov times of training (150 samples), 1 of test (75).
TINY_REGRESSOR_CFG: dict[str, Any] = {
    "seeds": [1],
    "n_hidden": 12,
    "projection_bias": False,
    "dtype": "float32",
    "device": "cpu",
    "gpus": 0,
    "runtime_min": 10,
    "mem_mb": 1000,
    "exclude_flagged": False,
    "mackey_glass": {
        "train_lyapunov_times": 2.0,
        "test_lyapunov_times": 1.0,
        "transient_lyapunov_times": 5.0,
        "start_offset_points": 0,
    },
    "training": {
        "epochs": 10,
        "learning_rate": 0.03,
        "batch_size": 2,
        "window_steps": 40,
        "washout_steps": 10,
        "window_stride": 20,
        "grad_clip_norm": 1.0,
    },
    "mtc": {"step_time_units": 1.0, "reference_preset": "tonic"},
    "lif": {"reference_beta": 0.9},
    "trained": {
        "mtc_trainable": list(PAPER_MTC_FIELDS),
        "lif_train_beta": True,
    },
    "baselines": {"ridge_order": 4, "ridge_alpha": 1.0e-4},
}


def tiny_cfg(**overrides: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(TINY_REGRESSOR_CFG)
    for key, value in overrides.items():
        if isinstance(value, dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def mapping_json(
    condition: str = "control",
    *,
    use_downstream: bool = True,
    status: str = "ok",
    beta_fit: float = 0.85,
    bias_fit: float = 0.05,
    mtc_changes: dict[str, float] | None = None,
    mtc_use_downstream: bool | None = None,
    mtc_status: str | None = None,
) -> dict[str, Any]:
    """A condition mapping with every field of the contract the regressor reads (and more).

    The flat ``status``/``use_downstream`` are the LIF mapping's; the MTC's default to them.
    """
    mtc = MTC_PRESETS["tonic"].replace(i_bias=-0.95, a_fast=-2.1, **(mtc_changes or {}))
    mtc_dict: dict[str, Any] = mtc.to_dict()
    mtc_dict.update(
        objective=1.5,
        converged=True,
        status=status if mtc_status is None else mtc_status,
        use_downstream=use_downstream if mtc_use_downstream is None else mtc_use_downstream,
        downstream_rule="use the mtc parameters (frozen) when mtc.use_downstream is true",
        intervals={"a_fast": [-2.2, -2.0]},
        residuals={"rate_hz": [0.1, -0.2]},
    )
    record: dict[str, Any] = {
        "condition": condition,
        "gnabar": 0.12,
        "status": status,
        "use_downstream": use_downstream,
        "downstream_rule": "use beta_fit, bias_fit when use_downstream is true",
        "dt_ms": 1.0,
        "mtc_time_unit_ms": 0.5,
        "beta_analytic": 0.887,
        "beta_analytic_label": {"g_mS": 0.12},
        "beta_membrane": None,
        "beta_fit": beta_fit,
        "tau_fit_ms": 6.15,
        "bias_fit": bias_fit,
        "w_per_nA": 12.0,
        "alpha_syn": 0.9,
        "alpha_source": "fixed",
        "beta_syn": beta_fit,
        "objective": 2.0,
        "converged": True,
        "intervals": {"tau_ms": [5.0, 7.0]},
        "tradeoff": {},
        "residuals": {},
        "mtc": mtc_dict,
        "provenance": {"git_commit": "test", "config_hash": "0", "packages": {}},
    }
    if not use_downstream:
        for key in ("beta_fit", "tau_fit_ms", "bias_fit"):
            record[key] = None
    return record
