"""Evaluation: the closed loop feeds back its own predictions; sparsity spans the scored steps."""

import numpy as np
import pytest
import torch

from bridge.neurons.registry import MODEL_NAMES
from bridge.regressor.data import load_regressor_data
from bridge.regressor.evaluation import (
    ModeTraces,
    accuracy,
    run_closed_loop,
    run_one_step,
    sparsity,
)
from bridge.regressor.mackey_glass import MackeyGlassParams
from bridge.regressor.model import RegressorSpec, SpikingRegressor

N_HIDDEN = 6


@pytest.fixture(scope="module")
def data():
    return load_regressor_data(MackeyGlassParams(train_lyapunov_times=1.0, test_lyapunov_times=0.4))


@pytest.mark.parametrize("neuron", MODEL_NAMES)
def test_closed_loop_is_driven_by_its_own_predictions(neuron: str, data) -> None:
    torch.manual_seed(0)
    model = SpikingRegressor(RegressorSpec(neuron, N_HIDDEN, mtc_substeps=2), seed=3,
                             dtype=torch.float64)  # fmt: skip
    if neuron == "adlif":
        # Scale the untrained drive up so that the neurons reach threshold at all.
        with torch.no_grad():
            model.projection.weight.mul_(4.0)
    one_step = run_one_step(model, data)
    closed = run_closed_loop(model, data)
    n_test = data.n_test
    assert closed.prediction.shape == one_step.prediction.shape == (n_test,)
    # The first closed-loop prediction comes from true inputs only: the one-step one.
    assert closed.prediction[0] == pytest.approx(one_step.prediction[0], abs=1e-12)
    # Teacher forcing the warm-up and then the fed-back predictions reproduces the free
    # run exactly; teacher forcing with the true test inputs (one step) does not.
    z_pred = data.scaler.forward(closed.prediction[:-1])
    fed_back = np.concatenate([data.closed_loop_warmup(), z_pred])
    y, _ = model(torch.tensor(fed_back).reshape(-1, 1, 1))
    replay = data.scaler.inverse(y[data.n_train :, 0, 0].detach().numpy())
    assert np.allclose(replay, closed.prediction, atol=1e-10)
    assert not np.allclose(closed.prediction, one_step.prediction, atol=1e-6)
    # Same numbers as the model's own closed-loop helper.
    helper = model.predict_closed_loop(
        torch.tensor(data.closed_loop_warmup()).reshape(-1, 1, 1), n_test
    )
    assert np.allclose(data.scaler.inverse(helper[:, 0, 0].numpy()), closed.prediction)
    # Sparsity covers exactly the n_test scored steps (states: n_test + 1, initial first).
    for traces in (one_step, closed):
        assert traces.hidden_output.shape == (n_test, 1, N_HIDDEN)
        for states in traces.hidden_states.values():
            assert states.shape == (n_test + 1, 1, N_HIDDEN)
        values = sparsity(traces)
        assert 0.0 <= values["s_comp"] <= 1.0 - values["s_comm"] + 1e-12
        assert values["n_neuron_steps"] == n_test * N_HIDDEN
    # The scored steps' input currents are the projection of what the network was fed.
    z_test = torch.tensor(data.scaler.forward(data.splits.test_input)).reshape(-1, 1, 1)
    assert torch.allclose(one_step.hidden_input, model.projection(z_test))
    z_fed = torch.tensor(
        data.scaler.forward(np.r_[data.splits.test_input[0], closed.prediction[:-1]])
    )
    assert torch.allclose(closed.hidden_input, model.projection(z_fed.reshape(-1, 1, 1)))


def test_accuracy_reports_nonfinite_predictions_as_null() -> None:
    target = np.array([1.0, 2.0, 3.0])
    assert accuracy(np.array([1.0, 2.0, 4.0]), target)["r2"] == pytest.approx(0.5)
    bad = accuracy(np.array([1.0, np.nan, np.inf]), target)
    assert bad == {"r2": None, "smape": None, "n_steps": 3, "n_nonfinite": 2}


def test_sparsity_counts_neurons_whose_state_ran_away() -> None:
    output = torch.tensor([[[0.0, 1.0, 0.0]], [[0.0, 0.0, 0.0]]])  # [T=2, B=1, N=3]
    u = torch.tensor([[[0.0, 0.5, 0.2]], [[0.0, 0.1, 0.2]], [[0.0, -np.inf, 0.2]]])
    w = torch.zeros(3, 1, 3)
    current = torch.zeros(2, 1, 3)
    current[0, 0, 2] = 0.5
    values = sparsity(ModeTraces(np.zeros(2), current, output, {"u": u, "w": w}))
    assert values["s_comm"] == pytest.approx(1 / 6)
    # Skippable: neuron 0 at both steps, neuron 2 at step 1 (input at step 0); neuron 1
    # never (it spikes, its state moves, then runs away).
    assert values["s_comp"] == pytest.approx(3 / 6)
    assert values["frac_input_zero"] == pytest.approx(5 / 6)
    assert values["frac_state_fixed"] == pytest.approx(4 / 6)
    assert values["n_neurons_state_nonfinite"] == 1
