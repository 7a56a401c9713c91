"""The regressor stage's entry points: one run, and the stage's summary.

:func:`train_regressor` builds, trains and evaluates one network and writes ``metrics.json`` and
``predictions.npz``. The workflow calls it once per seed for each model's trained arm
(condition ``reference``, no mapping: MTC, LIF and AdLIF train their neuron parameters as the
MTC paper ran them, see :mod:`bridge.regressor.neuron_setup`) and once per condition x
{mtc, lif} x seed for the mapped arms (the condition's fitted neuron, frozen).
:func:`write_regressor_summary` writes the medians table and the two result figures.

metrics.json (every number finite or null; ``provenance`` key)::

    status            "ok" | "skipped" | "diverged"
    reason            why a run was skipped or diverged (null when ok)
    condition, model, seed
    neuron            what the hidden layer used (mapped or initial values, substeps, step in
                      ms), ``frozen`` (true: no neuron parameter trained) and
                      ``trained_parameters``: per trained neuron parameter (the hidden layer's
                      parameter name, e.g. a_fast, leaky.beta, tau_u_fraction) initial_mean,
                      final_mean, final_min, final_max, mean_abs_change ({} when frozen)
    architecture      width, projection bias, trainable parameter counts
    data              Mackey-Glass parameters, split sizes, z-score mean/std
    training          settings, per-epoch loss curve, final loss, diverged
    evaluation        one block per horizon H in one_step, closed_loop,
                      closed_loop_first_lyapunov_time (the closed loop's first
                      points_per_lyapunov_time steps), each with
                        accuracy:  r2, smape (raw series, %), smape_z (z-scored series with
                                   the run's training scaler, %), mse (raw units^2),
                                   n_steps, n_nonfinite
                        skill:     skill_vs_repeat_last, skill_vs_ridge_ar
                                   (1 - mse / the baseline's mse at H; null if undefined)
                        activity:  s_comm, activation_sparsity, synaptic_ops,
                                   dense_synaptic_ops (per regressor step), s_comp,
                                   synaptic_ops_detail (MACs/ACs, per layer), n_events,
                                   n_neuron_steps, n_neurons_state_nonfinite
                                   (over the same steps; SPARSITY_NOTE)
                      and sparsity_definition (SPARSITY_NOTE)
    headline          r2 and smape closed loop (NeuroBench's mode); r2_one_step,
                      smape_one_step; s_comm and s_comp of the one-step run (the same true
                      input for every model); beats_repeat_last_value (below)
    versus_repeat_last_value
                      per horizon (one_step, closed_loop, closed_loop_first_lyapunov_time):
                      true iff the model's R^2 exceeds the repeat-last-value baseline's at that
                      horizon (false when undefined); ``beats`` = one_step and
                      closed_loop_first_lyapunov_time, copied to headline.beats_repeat_last_value:
                      a model that predicts the next sample no better than repeating the last,
                      or whose free run tracks the first Lyapunov time no better, is not a
                      usable predictor. The full closed-loop span is not part of ``beats``:
                      after a few Lyapunov times every forecast has lost the chaotic series'
                      phase, and R^2 there rewards fading to the mean over oscillating on.
    baselines         repeat_last_value and ridge_ar, each at the three horizons with the
                      accuracy keys above (r2, smape, smape_z, mse, n_steps, n_nonfinite);
                      ridge_ar.model (the ridge coefficients); note
    timing            wall seconds (train, evaluate, total, per epoch): the only fields
                      that differ between two runs with the same seed
    provenance

A skipped run (the mapping's ``use_downstream`` is false) writes the same file with
``status: "skipped"``, the reason, and no metrics (no NaN anywhere), and an NPZ that holds
only ``status`` and ``reason``.

predictions.npz: ``time`` (equation units), ``target``, ``one_step``, ``closed_loop``,
``repeat_last_value_one_step``, ``repeat_last_value_closed_loop``, ``ridge_ar_one_step``,
``ridge_ar_closed_loop`` (raw units, ``[n_test]``), ``epoch_loss``, ``status``; and per mode M
(one_step, closed_loop) what the activity metrics are computed from, so that they can be
recomputed: ``network_input_M`` (z units, ``[n_test]``), ``hidden_output_M`` and the event
raster ``events_M`` (``[n_test, N]``; the first Lyapunov time is the closed loop's first rows)
and, for MTC, the membrane ``hidden_v_M`` (``[n_test + 1, N]``, initial state first) and its
threshold ``v_th`` (``[N]``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bridge.config.regressor import RegressorRunConfig
from bridge.contracts import RegressorMetrics, read_regressor_metrics, write_run_metrics
from bridge.io import write_csv, write_npz
from bridge.paper_values import load_regressor_paper_values
from bridge.provenance import provenance
from bridge.regressor.activity import event_raster
from bridge.regressor.baselines import baseline_predictions
from bridge.regressor.data import RegressorData, load_regressor_data, training_windows
from bridge.regressor.evaluation import (
    accuracy,
    activity_metrics,
    run_closed_loop,
    run_one_step,
    skill_scores,
)
from bridge.regressor.figures import plot_accuracy_vs_sparsity, plot_predictions
from bridge.regressor.model import SpikingRegressor, parameter_counts
from bridge.regressor.neuron_setup import neuron_setup
from bridge.regressor.summary import FIRST_LYAPUNOV, HORIZONS, summarise_runs
from bridge.regressor.training import train_bptt

LOG = logging.getLogger(__name__)
METRICS_NAME = "metrics.json"
PREDICTIONS_NAME = "predictions.npz"
#: Condition label of the runs that use no mapping (the AdLIF reference).
REFERENCE_LABEL = "reference"
# Written into every metrics.json (evaluation.sparsity_definition).
SPARSITY_NOTE = (
    "Activity of the hidden layer, bridge.regressor.activity, the same functions for every "
    "model, per horizon over its scored steps: s_comm = spike events per neuron-step (LIF/"
    "AdLIF: output spikes; MTC: upward crossings of its spike threshold V_th by the membrane "
    "V recorded at the end of each regressor step, not steps with non-zero graded output); "
    "activation_sparsity = NeuroBench's fraction of zero hidden outputs (MTC's graded "
    "output is non-zero for every step a spike lasts); synaptic_ops / dense_synaptic_ops = "
    "NeuroBench's effective / dense synaptic operations per regressor step of input "
    "projection + readout (non-zero inputs x fan-out; bias additions and neuron state updates "
    "not counted); s_comp = 1 - synaptic_ops / dense_synaptic_ops, the fraction an "
    "event-driven network skips: with the dense analog input projection shared by every "
    "model it equals activation_sparsity x n_outputs / (n_inputs + n_outputs), at most 0.5 "
    "here, so it ranks the models like activation sparsity and cannot reach the paper's > 0.9"
)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("regressor.device is 'cuda' but no CUDA device is available")
    return torch.device(name)


def _baseline_metrics(
    data: RegressorData, settings: RegressorRunConfig
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    predictions, ridge = baseline_predictions(
        data, settings.baselines.ridge_order, settings.baselines.ridge_alpha
    )
    target = data.splits.test_target
    metrics: dict[str, Any] = {
        name: {mode: accuracy(values, target, data.scaler) for mode, values in modes.items()}
        for name, modes in predictions.items()
    }
    for name, modes in predictions.items():
        metrics[name][FIRST_LYAPUNOV] = _first_lyapunov_time(modes["closed_loop"], data)
    metrics["ridge_ar"]["model"] = ridge.to_dict()
    metrics["note"] = (
        "one step ahead both baselines are hard to beat: the series is smooth at this "
        "sampling, so a linear extrapolation of a few past samples is nearly exact"
    )
    arrays = {
        f"{name}_{mode}": values
        for name, modes in predictions.items()
        for mode, values in modes.items()
    }
    return metrics, arrays


#: Horizons at which a model is compared with repeat-last-value, and those ``beats`` needs.
VERSUS_HORIZONS = HORIZONS
BEATS_NEEDS = ("one_step", FIRST_LYAPUNOV)
#: Short names of the baselines in ``skill_vs_<name>`` -> their key under ``baselines``.
SKILL_BASELINES = {"repeat_last": "repeat_last_value", "ridge_ar": "ridge_ar"}


def versus_repeat_last_value(
    evaluation: dict[str, Any], baselines: dict[str, Any]
) -> dict[str, Any]:
    """Whether the model's R^2 beats repeat-last-value's per horizon, and ``beats`` overall."""
    out: dict[str, Any] = {}
    for horizon in VERSUS_HORIZONS:
        mine = evaluation[horizon]["r2"]
        theirs = baselines["repeat_last_value"][horizon]["r2"]
        out[horizon] = bool(mine is not None and theirs is not None and mine > theirs)
    out["beats"] = all(out[h] for h in BEATS_NEEDS)
    out["rule"] = (
        "R^2 above the repeat-last-value baseline's at the same horizon; beats = "
        + " and ".join(BEATS_NEEDS)
    )
    return out


def first_lyapunov_steps(data: RegressorData) -> int:
    """Test steps in the first Lyapunov time (the whole test span if it is shorter)."""
    return min(data.params.points_per_lyapunov_time, data.n_test)


def _first_lyapunov_time(prediction: np.ndarray, data: RegressorData) -> dict[str, Any]:
    n = first_lyapunov_steps(data)
    return accuracy(prediction[:n], data.splits.test_target[:n], data.scaler)


def _trained_parameters(
    network: SpikingRegressor, initial: Mapping[str, torch.Tensor]
) -> dict[str, dict[str, float]]:
    """Per trained neuron parameter (the hidden layer's ``nn.Parameter``): its mean at the
    start, its mean/min/max after training and the mean absolute change per neuron."""
    out = {}
    for name, value in network.hidden.named_parameters():
        if not value.requires_grad:
            continue
        final = value.detach().double().cpu()
        start = initial[name].double().cpu()
        out[name] = {
            "initial_mean": float(start.mean()),
            "final_mean": float(final.mean()),
            "final_min": float(final.min()),
            "final_max": float(final.max()),
            "mean_abs_change": float((final - start).abs().mean()),
        }
    return out


def evaluate(
    network: SpikingRegressor,
    data: RegressorData,
    baselines: Mapping[str, Any],
    model: str,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``evaluation`` block (one block per horizon, see the module docstring) and the
    arrays for predictions.npz (predictions in raw units and what the activity metrics are
    computed from; module docstring)."""
    traces = {
        "one_step": run_one_step(network, data),
        "closed_loop": run_closed_loop(network, data),
    }
    steps = {"one_step": data.n_test, "closed_loop": data.n_test}
    steps[FIRST_LYAPUNOV] = first_lyapunov_steps(data)
    evaluation: dict[str, Any] = {}
    for horizon in HORIZONS:
        run = traces["one_step" if horizon == "one_step" else "closed_loop"]
        n = steps[horizon]
        target = data.splits.test_target[:n]
        block = accuracy(run.prediction[:n], target, data.scaler)
        block.update(
            skill_scores(
                block, {short: baselines[key][horizon] for short, key in SKILL_BASELINES.items()}
            )
        )
        block.update(
            activity_metrics(
                run,
                n,
                model,
                v_threshold=network.hidden.v_th if model == "mtc" else None,
                n_inputs=network.spec.n_inputs,
                n_outputs=network.spec.n_outputs,
            )
        )
        evaluation[horizon] = block
    evaluation["sparsity_definition"] = SPARSITY_NOTE
    predictions: dict[str, np.ndarray] = {}
    v_th = network.hidden.v_th if model == "mtc" else None
    for mode, run in traces.items():
        predictions[mode] = run.prediction
        predictions[f"network_input_{mode}"] = _numpy(run.network_input[:, 0, 0])
        predictions[f"hidden_output_{mode}"] = _numpy(run.hidden_output[:, 0])
        events = event_raster(model, run.hidden_output, run.hidden_states, v_th)
        predictions[f"events_{mode}"] = events[:, 0]
        if v_th is not None:
            predictions[f"hidden_v_{mode}"] = _numpy(run.hidden_states["v"][:, 0])
    if v_th is not None:
        predictions["v_th"] = _numpy(v_th)
    return evaluation, predictions


def _numpy(values: torch.Tensor) -> np.ndarray:
    return values.detach().cpu().double().numpy()


def _write_skipped(
    out_dir: Path, base: dict[str, Any], reason: str, prov: dict[str, Any]
) -> dict[str, Any]:
    metrics = {**base, "status": "skipped", "reason": reason, "provenance": prov}
    write_run_metrics(out_dir / METRICS_NAME, metrics, RegressorMetrics)
    write_npz(out_dir / PREDICTIONS_NAME, status=np.array("skipped"), reason=np.array(reason))
    LOG.info("skipped: %s", reason)
    return metrics


def train_regressor(
    condition_mapping: Mapping[str, Any] | None,
    model: str,
    seed: int,
    cfg: Mapping[str, Any],
    out_dir: str | Path,
    *,
    mapping_source: str = "condition mapping",
) -> dict[str, Any]:
    """Train and evaluate one regressor; write ``metrics.json`` + ``predictions.npz``.

    ``condition_mapping`` is a condition's mapping JSON (``results/mapping/{c}.json``) or
    ``None`` for a reference run (AdLIF always; MTC/LIF then use the config's preset/beta).
    ``cfg`` is the ``regressor:`` config section, ``seed`` fixes initial weights and window
    order. ``mapping_source`` names the mapping in error messages. Returns the metrics.
    """
    total_start = time.perf_counter()
    out_dir = Path(out_dir)
    settings = RegressorRunConfig.from_config(cfg, "regressor")
    # Validates the mapping (naming mapping_source) before anything expensive runs.
    setup = neuron_setup(model, condition_mapping, settings, mapping_source)
    condition = (
        REFERENCE_LABEL
        if condition_mapping is None
        else str(condition_mapping.get("condition", mapping_source))
    )
    prov = provenance(
        {"regressor": dict(cfg), "model": model, "seed": seed, "mapping": condition_mapping}
    )
    base: dict[str, Any] = {"condition": condition, "model": model, "seed": seed}
    if setup.spec is None:
        assert setup.skip_reason is not None
        return _write_skipped(out_dir, {**base, "neuron": setup.used}, setup.skip_reason, prov)

    device = resolve_device(settings.device)
    dtype = getattr(torch, settings.dtype)
    LOG.info("%s / %s / seed %d on %s (%s)", condition, model, seed, device, settings.dtype)
    data = load_regressor_data(settings.mackey_glass_params)
    baselines, baseline_arrays = _baseline_metrics(data, settings)

    network = SpikingRegressor(setup.spec, seed=seed, dtype=dtype).to(device)
    initial = {name: value.detach().clone() for name, value in network.hidden.named_parameters()}
    inputs, targets = training_windows(
        data, settings.training.window_steps, settings.training.window_stride, dtype
    )
    result = train_bptt(network, inputs.to(device), targets.to(device), settings.training, seed)
    neuron = {**setup.used, "trained_parameters": _trained_parameters(network, initial)}

    eval_start = time.perf_counter()
    LOG.info("evaluating on the test span (one step, closed loop)")
    evaluation, predictions = evaluate(network, data, baselines, model)
    eval_seconds = time.perf_counter() - eval_start
    LOG.info("evaluated in %.1f s", eval_seconds)
    versus = versus_repeat_last_value(evaluation, baselines)
    status = "diverged" if result.diverged else "ok"
    metrics: dict[str, Any] = {
        **base,
        "status": status,
        "reason": "non-finite training loss; evaluated with the last weights"
        if result.diverged
        else None,
        "neuron": neuron,
        "architecture": {
            "n_hidden": settings.n_hidden,
            "projection_bias": settings.projection_bias,
            "parameters": parameter_counts(network),
        },
        "data": {
            "mackey_glass": settings.mackey_glass_params.to_dict(),
            "n_train": data.n_train,
            "n_test": data.n_test,
            "sample_interval": data.splits.sample_interval,
            "zscore_mean": data.scaler.mean,
            "zscore_std": data.scaler.std,
        },
        "training": {"settings": settings.training.model_dump(), **result.to_dict()},
        "evaluation": evaluation,
        "headline": {
            "r2": evaluation["closed_loop"]["r2"],
            "smape": evaluation["closed_loop"]["smape"],
            "r2_one_step": evaluation["one_step"]["r2"],
            "smape_one_step": evaluation["one_step"]["smape"],
            "s_comm": evaluation["one_step"]["s_comm"],
            "s_comp": evaluation["one_step"]["s_comp"],
            "beats_repeat_last_value": versus["beats"],
        },
        "versus_repeat_last_value": versus,
        "baselines": baselines,
        "device": str(device),
        "dtype": settings.dtype,
        "timing": {
            "train_s": result.seconds,
            "evaluate_s": eval_seconds,
            "s_per_epoch": result.seconds / max(len(result.epoch_loss), 1),
            "total_s": time.perf_counter() - total_start,
        },
        "provenance": prov,
    }
    write_npz(
        out_dir / PREDICTIONS_NAME,
        time=data.splits.test_time,
        target=data.splits.test_target,
        **predictions,
        epoch_loss=np.asarray(result.epoch_loss, dtype=np.float64),
        status=np.array(status),
        **baseline_arrays,
    )
    write_run_metrics(out_dir / METRICS_NAME, metrics, RegressorMetrics)
    LOG.info(
        "closed loop R2 %s sMAPE %s; one step R2 %s; S_comm %.4f S_comp %.4f",
        evaluation["closed_loop"]["r2"],
        evaluation["closed_loop"]["smape"],
        evaluation["one_step"]["r2"],
        evaluation["one_step"]["s_comm"],
        evaluation["one_step"]["s_comp"],
    )
    return metrics


# --- the stage's summary: the medians table and the two result figures -------------------


def _load_npz(path: Path) -> dict[str, Any]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def write_regressor_summary(
    metrics_paths: Sequence[str | Path],
    condition_order: Sequence[str],
    trace_seed: int,
    config_section: Mapping[str, Any],
    table_path: str | Path,
    predictions_paths: Sequence[str | Path],
    sparsity_paths: Sequence[str | Path],
    paper_values_path: str | Path,
) -> None:
    """Table + figures from the runs' metrics (paths as the workflow lists them) and the
    paper's numbers (``data/paper_values/regressor.yaml``)."""
    paper = load_regressor_paper_values(paper_values_path)
    runs = [read_regressor_metrics(p) for p in metrics_paths]
    table = summarise_runs(runs, paper, condition_order)
    write_csv(table_path, table, provenance({"regressor": dict(config_section)}))
    LOG.info("summary of %d runs in %d rows -> %s", len(runs), len(table), table_path)
    traces = []
    for path, run in zip(metrics_paths, runs, strict=True):
        if run.seed == trace_seed:
            label = f"{run.condition} / {run.model} / seed {run.seed}"
            traces.append((label, _load_npz(Path(path).parent / PREDICTIONS_NAME)))
    if not traces:
        raise ValueError(f"write_regressor_summary: no run has the trace seed {trace_seed}")
    plot_predictions(traces, *predictions_paths)
    plot_accuracy_vs_sparsity(
        [run.to_dict() for run in runs], condition_order, paper, *sparsity_paths
    )
