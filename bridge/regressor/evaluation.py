"""Evaluation of a trained regressor over the test span: one step ahead and closed loop.

Sequence conventions are in :mod:`bridge.regressor.data`. Both modes return the raw-unit
predictions of ``test_target`` and, for the ``n_test`` hidden-layer steps that produced
them, the layer's input current ``[n_test, 1, N]`` (the projection's output), its output
``[n_test, 1, N]`` and state trajectories ``[n_test + 1, 1, N]`` (initial state first), from
which S_comm and S_comp are computed with the same functions
(:mod:`bridge.regressor.metrics`) for every neuron model.

The closed-loop hidden steps are: the last warm-up step (true input, the first test input)
and then the ``n_test - 1`` steps driven by fed-back predictions. Accuracy of a model whose
predictions are not finite is reported as null with the count of non-finite values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bridge.regressor.data import RegressorData
from bridge.regressor.metrics import S_COMP_ATOL, r2, s_comm, s_comp_parts, smape
from bridge.regressor.model import SpikingRegressor


@dataclass(frozen=True)
class ModeTraces:
    """Predictions (raw units, ``[n_test]``) and the hidden layer over the scored steps."""

    prediction: np.ndarray
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
    return ModeTraces(prediction, current, hidden.output[n_train:], states)


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
    current = model.projection(torch.cat([warmup[n_train:], fed[:-1]]))
    return ModeTraces(
        raw,
        current,
        torch.cat(outputs),
        {name: torch.cat(values) for name, values in states.items()},
    )


def accuracy(prediction: np.ndarray, target: np.ndarray) -> dict[str, float | int | None]:
    """R^2 and sMAPE (raw units); null with ``n_nonfinite`` when predictions are not finite."""
    prediction = np.asarray(prediction, dtype=np.float64)
    n_nonfinite = int(np.sum(~np.isfinite(prediction)))
    if n_nonfinite:
        return {"r2": None, "smape": None, "n_steps": len(target), "n_nonfinite": n_nonfinite}
    return {
        "r2": r2(prediction, target),
        "smape": smape(prediction, target),
        "n_steps": len(target),
        "n_nonfinite": 0,
    }


def sparsity(traces: ModeTraces) -> dict[str, float | int]:
    """S_comm and S_comp of the hidden layer over the scored steps, with the fraction of
    neuron-steps meeting each of S_comp's three conditions (``frac_*``).

    ``n_neurons_state_nonfinite`` counts hidden neurons any of whose state variables is not
    finite at some scored step (a layer whose dynamics ran away, as Bittar & Garner's
    Euler-forward AdLIF did before SE-AdLIF replaced it): their outputs are still finite
    (0/1 spikes), so the metrics stay defined, but the count says how much was lost.
    """
    nonfinite = torch.zeros(traces.hidden_output.shape[1:], dtype=torch.bool)
    for states in traces.hidden_states.values():
        nonfinite |= (~torch.isfinite(states)).any(dim=0).cpu()
    parts = s_comp_parts(
        traces.hidden_output, traces.hidden_states, traces.hidden_input, atol=S_COMP_ATOL
    )
    return {
        "s_comm": s_comm(traces.hidden_output),
        "s_comp": parts["s_comp"],
        "s_comp_atol": S_COMP_ATOL,
        "frac_input_zero": parts["input_zero"],
        "frac_state_fixed": parts["state_fixed"],
        "frac_output_zero": parts["output_zero"],
        "n_neuron_steps": int(traces.hidden_output.numel()),
        "n_neurons_state_nonfinite": int(nonfinite.sum()),
    }
