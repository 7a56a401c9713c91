"""Evaluation of a trained regressor over the test span: one step ahead and closed loop.

Sequence conventions are in :mod:`bridge.regressor.data`. Both modes return the raw-unit
predictions of ``test_target`` and, for the ``n_test`` hidden-layer steps that produced
them, the network's input ``[n_test, 1, 1]`` (z units), the layer's input current
``[n_test, 1, N]`` (the projection's output), its output ``[n_test, 1, N]`` and state
trajectories ``[n_test + 1, 1, N]`` (initial state first), from which the activity metrics
are computed with the same functions (:mod:`bridge.regressor.activity`) for every model.

The closed-loop hidden steps are: the last warm-up step (true input, the first test input)
and then the ``n_test - 1`` steps driven by fed-back predictions. Accuracy of a model whose
predictions are not finite is reported as null with the count of non-finite values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bridge.regressor.activity import activation_sparsity, event_raster, s_comm, synaptic_ops
from bridge.regressor.data import RegressorData, Standardiser
from bridge.regressor.metrics import mse, r2, skill_score, smape
from bridge.regressor.model import SpikingRegressor


@dataclass(frozen=True)
class ModeTraces:
    """Predictions (raw units, ``[n_test]``) and, over the scored steps, the network's input
    (z units, ``[n_test, 1, n_inputs]``) and the hidden layer's."""

    prediction: np.ndarray
    network_input: torch.Tensor
    hidden_input: torch.Tensor
    hidden_output: torch.Tensor
    hidden_states: dict[str, torch.Tensor]


def _column(values: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(values, dtype=like.dtype, device=like.device).reshape(-1, 1, 1)


def _reference_tensor(model: SpikingRegressor) -> torch.Tensor:
    return next(model.readout.parameters())


@torch.no_grad()
def run_one_step(model: SpikingRegressor, data: RegressorData) -> ModeTraces:
    """Teacher-forced run over train + test inputs; the test part is scored."""
    x = _column(data.one_step_inputs(), _reference_tensor(model))
    y, hidden = model(x, record=True)
    n_train = data.n_train
    prediction = data.scaler.inverse(y[n_train:, 0, 0].double().cpu().numpy())
    states = {name: value[n_train:] for name, value in hidden.recorded.items()}
    current = model.projection(x[n_train:])
    return ModeTraces(prediction, x[n_train:], current, hidden.output[n_train:], states)


@torch.no_grad()
def run_closed_loop(model: SpikingRegressor, data: RegressorData) -> ModeTraces:
    """Warm up on the true inputs through the first test input, then feed predictions back."""
    warmup = _column(data.closed_loop_warmup(), _reference_tensor(model))
    y, hidden = model(warmup, record=True)
    n_train = data.n_train
    outputs = [hidden.output[n_train:]]
    states = {name: [value[n_train:]] for name, value in hidden.recorded.items()}
    prediction = y[-1:]
    predictions = [prediction]
    state = hidden.final_state
    for _ in range(data.n_test - 1):
        prediction, hidden = model(prediction, state, record=True)
        state = hidden.final_state
        predictions.append(prediction)
        outputs.append(hidden.output)
        for name, value in hidden.recorded.items():
            states[name].append(value[1:])
    fed = torch.cat(predictions)
    raw = data.scaler.inverse(fed[:, 0, 0].double().cpu().numpy())
    # The scored steps' inputs: the first test input, then the predictions fed back.
    fed_inputs = torch.cat([warmup[n_train:], fed[:-1]])
    return ModeTraces(
        raw,
        fed_inputs,
        model.projection(fed_inputs),
        torch.cat(outputs),
        {name: torch.cat(values) for name, values in states.items()},
    )


#: Accuracy keys of a horizon's block (each null when a prediction is not finite).
ACCURACY_KEYS = ("r2", "smape", "smape_z", "mse")


def accuracy(
    prediction: np.ndarray, target: np.ndarray, scaler: Standardiser
) -> dict[str, float | int | None]:
    """R^2, sMAPE (raw series), sMAPE of the z-scored series (``scaler``: the run's training
    z-score, applied to prediction and target alike) and MSE (raw units squared); all null,
    with ``n_nonfinite``, when predictions are not finite."""
    prediction = np.asarray(prediction, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    n_nonfinite = int(np.sum(~np.isfinite(prediction)))
    if n_nonfinite:
        return {
            **dict.fromkeys(ACCURACY_KEYS),
            "n_steps": len(target),
            "n_nonfinite": n_nonfinite,
        }
    return {
        "r2": r2(prediction, target),
        "smape": smape(prediction, target),
        "smape_z": smape(scaler.forward(prediction), scaler.forward(target)),
        "mse": mse(prediction, target),
        "n_steps": len(target),
        "n_nonfinite": 0,
    }


def skill_scores(
    block: Mapping[str, Any], baselines: Mapping[str, Mapping[str, Any]]
) -> dict[str, float | None]:
    """``skill_vs_<baseline>`` = 1 - MSE_model / MSE_baseline for each ``baselines`` block
    (same horizon, key: the baseline's short name); null where either MSE is undefined."""
    return {
        f"skill_vs_{name}": skill_score(block.get("mse"), other.get("mse"))
        for name, other in baselines.items()
    }


def _first_steps(traces: ModeTraces, n_steps: int) -> ModeTraces:
    """The traces of the first ``n_steps`` scored steps (states: ``n_steps + 1``)."""
    return ModeTraces(
        traces.prediction[:n_steps],
        traces.network_input[:n_steps],
        traces.hidden_input[:n_steps],
        traces.hidden_output[:n_steps],
        {name: value[: n_steps + 1] for name, value in traces.hidden_states.items()},
    )


def activity_metrics(
    traces: ModeTraces,
    n_steps: int,
    model: str,
    v_threshold: Any = None,
    n_inputs: int = 1,
    n_outputs: int = 1,
) -> dict[str, Any]:
    """Activity of the hidden layer over the first ``n_steps`` scored steps
    (:mod:`bridge.regressor.activity`; the same functions for every model).

    ``v_threshold``: MTC's spike threshold V_th (model units; per neuron), ``None`` for
    LIF/AdLIF. Returns ``s_comm`` (events per neuron-step), ``activation_sparsity``,
    ``synaptic_ops`` and ``dense_synaptic_ops`` (per regressor step, i.e. per sample-step),
    ``s_comp`` (1 - effective / dense), ``synaptic_ops_detail`` (MACs/ACs, per layer),
    ``n_events``, ``n_neuron_steps`` and ``n_neurons_state_nonfinite`` (hidden neurons any of
    whose state variables is not finite at a scored step: their outputs and events stay
    defined, the count says how much of the layer ran away).
    """
    first = _first_steps(traces, n_steps)
    events = event_raster(model, first.hidden_output, first.hidden_states, v_threshold)
    ops = synaptic_ops(first.hidden_output, n_inputs, n_outputs, inputs=first.network_input)
    nonfinite = torch.zeros(first.hidden_output.shape[1:], dtype=torch.bool)
    for states in first.hidden_states.values():
        nonfinite |= (~torch.isfinite(states)).any(dim=0).cpu()
    return {
        "s_comm": s_comm(events),
        "activation_sparsity": activation_sparsity(first.hidden_output),
        "synaptic_ops": ops.effective,
        "dense_synaptic_ops": ops.dense,
        "s_comp": ops.skipped_fraction,
        "synaptic_ops_detail": ops.as_dict(),
        "n_events": int(events.sum()),
        "n_neuron_steps": int(first.hidden_output.numel()),
        "n_neurons_state_nonfinite": int(nonfinite.sum()),
    }
