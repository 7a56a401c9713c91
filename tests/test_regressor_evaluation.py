"""Evaluation: the closed loop feeds back its own predictions; sparsity spans the scored steps."""

import numpy as np
import pytest
import torch

from bridge.neurons.registry import MODEL_NAMES
from bridge.regressor.data import Standardiser, load_regressor_data
from bridge.regressor.evaluation import (
    ModeTraces,
    accuracy,
    activity_metrics,
    run_closed_loop,
    run_one_step,
    skill_scores,
)
from bridge.regressor.mackey_glass import MackeyGlassParams
from bridge.regressor.metrics import skill_score
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
        v_th = model.hidden.v_th if neuron == "mtc" else None
        values = activity_metrics(traces, n_test, neuron, v_th)
        assert values["n_neuron_steps"] == n_test * N_HIDDEN
        # The same functions on the first steps only: the first Lyapunov time's activity.
        first = activity_metrics(traces, 5, neuron, v_th)
        assert first["n_neuron_steps"] == 5 * N_HIDDEN and first["n_events"] <= values["n_events"]
        # Every input projection operation is done (dense analog input), so S_comp is the
        # readout's skipped share: activation sparsity x 1 / (1 + 1).
        assert values["s_comp"] == pytest.approx(values["activation_sparsity"] / 2)
    # The closed loop's network input is its own previous prediction (z units).
    assert np.allclose(closed.network_input[1:, 0, 0].numpy(),
                       data.scaler.forward(closed.prediction[:-1]), atol=1e-12)  # fmt: skip
    # The scored steps' input currents are the projection of what the network was fed.
    z_test = torch.tensor(data.scaler.forward(data.splits.test_input)).reshape(-1, 1, 1)
    assert torch.allclose(one_step.hidden_input, model.projection(z_test))
    z_fed = torch.tensor(
        data.scaler.forward(np.r_[data.splits.test_input[0], closed.prediction[:-1]])
    )
    assert torch.allclose(closed.hidden_input, model.projection(z_fed.reshape(-1, 1, 1)))


def test_accuracy_on_the_raw_and_the_z_scored_series() -> None:
    target = np.array([1.0, 2.0, 3.0])
    scaler = Standardiser(mean=2.0, std=1.0)
    values = accuracy(np.array([1.0, 2.0, 4.0]), target, scaler)
    assert values["r2"] == pytest.approx(0.5)
    # Raw: terms 0, 0, |4 - 3| / (4 + 3); z-scored (-1, 0, 2) vs (-1, 0, 1): 0, 0/0 counted
    # as 0, |2 - 1| / (2 + 1). The same error is 2.3x larger in sMAPE near the mean of 0.
    assert values["smape"] == pytest.approx(200.0 / 3.0 * (1.0 / 7.0))
    assert values["smape_z"] == pytest.approx(200.0 / 3.0 * (1.0 / 3.0))
    assert values["mse"] == pytest.approx(1.0 / 3.0)
    # Another scaler moves smape_z but nothing else: it is the training z-score's sMAPE.
    other = accuracy(np.array([1.0, 2.0, 4.0]), target, Standardiser(mean=0.0, std=2.0))
    assert other["smape_z"] == pytest.approx(values["smape"])
    assert other["r2"] == values["r2"]
    bad = accuracy(np.array([1.0, np.nan, np.inf]), target, scaler)
    assert bad == {"r2": None, "smape": None, "smape_z": None, "mse": None, "n_steps": 3,
                   "n_nonfinite": 2}  # fmt: skip


def test_skill_scores_against_each_baseline() -> None:
    model = {"mse": 0.25}
    baselines = {"repeat_last": {"mse": 1.0}, "ridge_ar": {"mse": 0.2}}
    assert skill_scores(model, baselines) == pytest.approx(
        {"skill_vs_repeat_last": 0.75, "skill_vs_ridge_ar": -0.25}
    )
    # A perfect baseline or an undefined MSE leaves the skill undefined, not infinite.
    undefined = skill_scores({"mse": None}, {"repeat_last": {"mse": 1.0}, "ridge_ar": {"mse": 0.0}})
    assert undefined == {"skill_vs_repeat_last": None, "skill_vs_ridge_ar": None}
    assert skill_score(0.1, 0.1) == 0.0


def test_activity_counts_events_and_neurons_whose_state_ran_away() -> None:
    # T = 2, B = 1, N = 3 LIF-like spikes; neuron 1's state runs away after its spike.
    output = torch.tensor([[[0.0, 1.0, 0.0]], [[0.0, 0.0, 0.0]]])
    u = torch.tensor([[[0.0, 0.5, 0.2]], [[0.0, 0.1, 0.2]], [[0.0, -np.inf, 0.2]]])
    w = torch.zeros(3, 1, 3)
    x = torch.tensor([[[0.5]], [[-0.2]]])
    traces = ModeTraces(np.zeros(2), x, torch.zeros(2, 1, 3), output, {"u": u, "w": w})
    values = activity_metrics(traces, 2, "lif")
    assert values["s_comm"] == pytest.approx(1 / 6) and values["n_events"] == 1
    assert values["activation_sparsity"] == pytest.approx(5 / 6)
    # Per step: 3 input operations (one input x fan-out 3) + the readout's non-zero inputs.
    assert values["dense_synaptic_ops"] == pytest.approx(6.0)
    assert values["synaptic_ops"] == pytest.approx(3.0 + 1 / 2)
    assert values["s_comp"] == pytest.approx(1 - 3.5 / 6)
    assert values["n_neurons_state_nonfinite"] == 1
    # Over the first step only.
    assert activity_metrics(traces, 1, "lif")["n_neurons_state_nonfinite"] == 0
    # MTC: an event is an upward crossing of V_th, not a step of non-zero graded output.
    v = torch.tensor([[[-1.0, 0.5, -1.0]], [[0.2, 0.6, -1.0]], [[0.3, 0.7, -1.0]]])
    graded = torch.tensor([[[0.2, 0.5, 0.0]], [[0.3, 0.6, 0.0]]])
    mtc = ModeTraces(np.zeros(2), x, torch.zeros(2, 1, 3), graded, {"v": v})
    values = activity_metrics(mtc, 2, "mtc", v_threshold=0.0)
    assert values["n_events"] == 1 and values["activation_sparsity"] == pytest.approx(2 / 6)
