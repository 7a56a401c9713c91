"""Accuracy metrics of the Mackey-Glass regressor (same code for every model).

Accuracy, on the raw series (equation units):

- :func:`r2`: ``1 - sum (y - yhat)^2 / sum (y - mean y)^2``.
- :func:`smape`: ``200 * mean(|yhat - y| / (|yhat| + |y|))`` in percent (0 to 200), as
  NeuroBench; a term whose prediction and target are both exactly 0 counts as 0 (a perfect
  prediction) instead of 0/0.
- sMAPE on the z-scored series (``smape_z``): the same :func:`smape` of both series after the
  run's training z-score (:class:`bridge.regressor.data.Standardiser`). sMAPE is not
  invariant to an offset: on the raw series (mean about 0.9, far from 0) an error that gives
  R^2 0.988 is about 2 %, on the z-scored one (mean 0) about 23 % (MODELS.md section 6), so
  the MTC paper's pair (R^2 0.988, sMAPE 17 %) can only be compared with the latter.
- :func:`skill_score`: ``1 - MSE_model / MSE_baseline`` against a baseline's prediction at
  the same horizon (scale-free, so raw and z units give the same value).

Activity metrics (S_comm, activation sparsity, synaptic operations, S_comp) are in
:mod:`bridge.regressor.activity`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor | Sequence[float]


def _as_float64(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().to(torch.float64).numpy()
    return np.asarray(values, dtype=np.float64)


def _paired(y_pred: ArrayLike, y_true: ArrayLike, name: str) -> tuple[np.ndarray, np.ndarray]:
    pred, true = _as_float64(y_pred).ravel(), _as_float64(y_true).ravel()
    if pred.shape != true.shape:
        raise ValueError(f"{name}: {pred.size} predictions for {true.size} targets")
    if pred.size == 0:
        raise ValueError(f"{name}: no values")
    if not (np.isfinite(pred).all() and np.isfinite(true).all()):
        raise ValueError(f"{name}: predictions or targets contain NaN or inf")
    return pred, true


def r2(y_pred: ArrayLike, y_true: ArrayLike) -> float:
    """Coefficient of determination; raises ``ValueError`` if the targets are constant."""
    pred, true = _paired(y_pred, y_true, "r2")
    total = float(np.sum((true - true.mean()) ** 2))
    if total == 0.0:
        raise ValueError("r2: targets are constant, R^2 is undefined")
    return 1.0 - float(np.sum((true - pred) ** 2)) / total


def smape(y_pred: ArrayLike, y_true: ArrayLike) -> float:
    """Symmetric mean absolute percentage error in percent (0-200); 0/0 terms count as 0."""
    pred, true = _paired(y_pred, y_true, "smape")
    numerator = np.abs(pred - true)
    denominator = np.abs(pred) + np.abs(true)
    both_zero = denominator == 0.0
    terms = np.where(both_zero, 0.0, numerator / np.where(both_zero, 1.0, denominator))
    return 200.0 * float(np.mean(terms))


def mse(y_pred: ArrayLike, y_true: ArrayLike) -> float:
    """Mean squared error (units of the values, squared)."""
    pred, true = _paired(y_pred, y_true, "mse")
    return float(np.mean((pred - true) ** 2))


def skill_score(mse_model: float | None, mse_baseline: float | None) -> float | None:
    """``1 - MSE_model / MSE_baseline`` (1: perfect, 0: as good as the baseline, < 0: worse);
    ``None`` when either MSE is undefined or the baseline's is 0 (a perfect baseline leaves
    no room to measure skill against)."""
    if mse_model is None or mse_baseline is None or not mse_baseline > 0.0:
        return None
    return 1.0 - mse_model / mse_baseline
