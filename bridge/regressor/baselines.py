"""Non-spiking baselines at the networks' two horizons: repeat-last-value and ridge AR.

Both are scored on the same ``test_target`` as the networks (see :mod:`bridge.regressor.data`
for the sequence conventions):

- one step ahead, from the true history. Mackey-Glass is smooth at NeuroBench's sampling
  (2.6 time units per sample, about 19 samples per quasi-period), so a linear map of a few
  past samples extrapolates it almost exactly: the ridge AR's one-step R^2 is close to 1
  and hard for any network to beat, and even repeating the last value scores well.
- closed loop, from the true history up to the first test input, each prediction then fed
  back: repeat-last-value predicts the first test input forever; the ridge AR iterates
  its own predictions.

The ridge AR model (``order`` = p lags, fitted on the z-scored training span)::

    z[i + 1] = c + sum_{j=0}^{p-1} a_j z[i - j]

minimises ``sum (residual^2) + alpha * sum a_j^2`` (the intercept is not penalised),
solved in closed form on the centred lag matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bridge.regressor.data import RegressorData


@dataclass(frozen=True)
class RidgeAR:
    """Fitted ridge AR model in z units: ``coefficients[j]`` multiplies lag j (z[i - j])."""

    coefficients: np.ndarray
    intercept: float
    alpha: float

    @property
    def order(self) -> int:
        return len(self.coefficients)

    def predict_next(self, history: np.ndarray) -> float:
        """One prediction from the last ``order`` values of ``history`` (z units)."""
        lags = np.asarray(history[-self.order :], dtype=np.float64)[::-1]
        return float(self.intercept + lags @ self.coefficients)

    def to_dict(self) -> dict[str, object]:
        return {
            "order": self.order,
            "alpha": self.alpha,
            "coefficients_z": self.coefficients.tolist(),
            "intercept_z": self.intercept,
        }


def lag_matrix(series: np.ndarray, order: int) -> np.ndarray:
    """Rows ``[z[i], z[i-1], ..., z[i-order+1]]`` for i = order-1 .. len(series)-1."""
    series = np.asarray(series, dtype=np.float64)
    if order < 1 or order > len(series):
        raise ValueError(f"lag_matrix: order {order} for a series of {len(series)} values")
    n_rows = len(series) - order + 1
    return np.stack([series[order - 1 - j : order - 1 - j + n_rows] for j in range(order)], axis=1)


def fit_ridge_ar(inputs: np.ndarray, targets: np.ndarray, order: int, alpha: float) -> RidgeAR:
    """Fit on one-step pairs (``targets[i]`` follows ``inputs[i]``), z units."""
    inputs = np.asarray(inputs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if inputs.shape != targets.shape:
        raise ValueError("fit_ridge_ar: inputs and targets differ in length")
    if alpha < 0:
        raise ValueError(f"fit_ridge_ar: alpha must be >= 0; got {alpha}")
    features = lag_matrix(inputs, order)
    y = targets[order - 1 :]
    feature_mean, y_mean = features.mean(axis=0), y.mean()
    centred = features - feature_mean
    gram = centred.T @ centred + alpha * np.eye(order)
    coefficients = np.linalg.solve(gram, centred.T @ (y - y_mean))
    return RidgeAR(
        coefficients=coefficients,
        intercept=float(y_mean - feature_mean @ coefficients),
        alpha=float(alpha),
    )


def ridge_one_step(model: RidgeAR, history: np.ndarray, n_predictions: int) -> np.ndarray:
    """Predictions of the values following the last ``n_predictions`` entries of ``history``.

    Prediction k uses the true history up to ``history[len - n_predictions + k]``.
    """
    history = np.asarray(history, dtype=np.float64)
    first = len(history) - n_predictions
    if first < model.order - 1:
        raise ValueError("ridge_one_step: not enough history before the first prediction")
    rows = lag_matrix(history[first - model.order + 1 :], model.order)
    return model.intercept + rows @ model.coefficients


def ridge_closed_loop(model: RidgeAR, history: np.ndarray, n_steps: int) -> np.ndarray:
    """Iterate the model ``n_steps`` times from ``history``, feeding back its predictions."""
    buffer = list(np.asarray(history, dtype=np.float64)[-model.order :])
    if len(buffer) < model.order:
        raise ValueError("ridge_closed_loop: history shorter than the model order")
    predictions = np.empty(n_steps, dtype=np.float64)
    for k in range(n_steps):
        predictions[k] = model.predict_next(np.asarray(buffer))
        buffer = buffer[1:] + [predictions[k]]
    return predictions


def baseline_predictions(
    data: RegressorData, order: int, alpha: float
) -> tuple[dict[str, dict[str, np.ndarray]], RidgeAR]:
    """Raw-unit predictions of ``test_target`` by both baselines at both horizons.

    Returns ``({baseline: {"one_step": y, "closed_loop": y}}, fitted RidgeAR)``.
    """
    splits, scaler = data.splits, data.scaler
    n_test = data.n_test
    repeat_last = {
        "one_step": np.array(splits.test_input, dtype=np.float64),
        "closed_loop": np.full(n_test, float(splits.test_input[0])),
    }
    model = fit_ridge_ar(
        scaler.forward(splits.train_input), scaler.forward(splits.train_target), order, alpha
    )
    one_step_history = scaler.forward(np.concatenate([splits.train_input, splits.test_input]))
    ridge = {
        "one_step": scaler.inverse(ridge_one_step(model, one_step_history, n_test)),
        "closed_loop": scaler.inverse(ridge_closed_loop(model, data.closed_loop_warmup(), n_test)),
    }
    return {"repeat_last_value": repeat_last, "ridge_ar": ridge}, model
