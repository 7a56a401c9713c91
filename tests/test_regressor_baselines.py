"""Baselines against hand-computed values: repeat-last-value and ridge AR at both horizons."""

import numpy as np
import pytest

from bridge.regressor.baselines import (
    RidgeAR,
    baseline_predictions,
    fit_ridge_ar,
    lag_matrix,
    ridge_closed_loop,
    ridge_one_step,
)
from bridge.regressor.data import load_regressor_data
from bridge.regressor.mackey_glass import MackeyGlassParams
from bridge.regressor.metrics import r2


def test_lag_matrix_rows_are_newest_first() -> None:
    rows = lag_matrix(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    assert rows.tolist() == [[2.0, 1.0], [3.0, 2.0], [4.0, 3.0]]
    with pytest.raises(ValueError, match="order 5"):
        lag_matrix(np.arange(4.0), 5)


def test_ridge_recovers_an_exact_ar2_process_without_penalty() -> None:
    # z[i+1] = 0.3 + 1.2 z[i] - 0.5 z[i-1]: a damped oscillation, known coefficients.
    z = [1.0, 0.0]
    for _ in range(60):
        z.append(0.3 + 1.2 * z[-1] - 0.5 * z[-2])
    z = np.array(z)
    model = fit_ridge_ar(z[:-1], z[1:], order=2, alpha=0.0)
    assert model.coefficients == pytest.approx([1.2, -0.5], abs=1e-9)
    assert model.intercept == pytest.approx(0.3, abs=1e-9)


def test_ridge_one_lag_matches_the_closed_form_shrinkage() -> None:
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([1.0, 3.0, 2.0, 5.0])
    # Centred: x - 1.5 = [-1.5, -0.5, 0.5, 1.5], y - 2.75 = [-1.75, 0.25, -0.75, 2.25];
    # Sxy = 2.625 + (-0.125) + (-0.375) + 3.375 = 5.5, Sxx = 5; a = Sxy / (Sxx + alpha).
    for alpha, expected in [(0.0, 1.1), (5.0, 0.55)]:
        model = fit_ridge_ar(x, y, order=1, alpha=alpha)
        assert model.coefficients[0] == pytest.approx(expected)
        assert model.intercept == pytest.approx(2.75 - 1.5 * expected)


def test_ridge_one_step_uses_true_history_and_closed_loop_its_own_predictions() -> None:
    model = RidgeAR(coefficients=np.array([0.5]), intercept=1.0, alpha=0.0)
    history = np.array([4.0, 10.0, 6.0])
    # One step: each prediction from the true previous value: 0.5*10+1, 0.5*6+1.
    assert ridge_one_step(model, history, 2).tolist() == [6.0, 4.0]
    # Closed loop from 6: 4, then 0.5*4+1 = 3, then 2.5 (not from any true value).
    assert ridge_closed_loop(model, history, 3).tolist() == [4.0, 3.0, 2.5]
    two_lag = RidgeAR(coefficients=np.array([1.0, -0.5]), intercept=0.0, alpha=0.0)
    # z_next = z[i] - 0.5 z[i-1]: from [.., 2, 4]: 4 - 1 = 3; 3 - 2 = 1; 1 - 1.5 = -0.5.
    assert ridge_closed_loop(two_lag, np.array([9.0, 2.0, 4.0]), 3).tolist() == [3.0, 1.0, -0.5]


def test_baselines_on_mackey_glass_at_both_horizons() -> None:
    data = load_regressor_data(MackeyGlassParams(train_lyapunov_times=4.0, test_lyapunov_times=2.0))
    predictions, model = baseline_predictions(data, order=8, alpha=1e-4)
    s = data.splits
    last = predictions["repeat_last_value"]
    assert np.array_equal(last["one_step"], s.test_input)
    assert np.all(last["closed_loop"] == s.test_input[0])
    # The first closed-loop prediction of the ridge model is its first one-step prediction
    # (same true history), later ones differ (fed-back values).
    ridge = predictions["ridge_ar"]
    assert ridge["closed_loop"][0] == pytest.approx(ridge["one_step"][0], rel=1e-12)
    assert not np.allclose(ridge["closed_loop"][10:], ridge["one_step"][10:])
    # A hand evaluation of the fitted model on the true lags of test sample 5.
    z = data.scaler.forward(np.concatenate([s.train_input, s.test_input]))
    n = data.n_train + 5
    by_hand = model.intercept + sum(model.coefficients[j] * z[n - j] for j in range(8))
    assert ridge["one_step"][5] == pytest.approx(data.scaler.inverse(np.array(by_hand)))
    # One step ahead the ridge AR is nearly exact and beats repeating the last value.
    assert r2(ridge["one_step"], s.test_target) > 0.99
    assert r2(ridge["one_step"], s.test_target) > r2(last["one_step"], s.test_target)
