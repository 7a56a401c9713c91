"""Accuracy and sparsity metrics of the Mackey-Glass regressor (same code for every model).

Accuracy, on the raw series (equation units):

- :func:`r2`: ``1 - sum (y - yhat)^2 / sum (y - mean y)^2``.
- :func:`smape`: ``200 * mean(|yhat - y| / (|yhat| + |y|))`` in percent (0 to 200), as
  NeuroBench; a term whose prediction and target are both exactly 0 counts as 0 (a perfect
  prediction) instead of 0/0.

Sparsity, over all neuron-steps (t, b, n) of a hidden spiking layer:

- :func:`s_comm` (communication): fraction of neuron-steps whose output is non-zero, i.e.
  that would send an event to the readout. LIF/AdLIF output spikes (0/1); MTC its
  saturated-ReLU output (exactly 0 below V_th).
- :func:`s_comp` (computation): fraction of neuron-steps whose state update could be
  skipped, i.e. holding the old state instead would change no state variable by more than
  ``atol`` and the output is zero. Formally, with states recorded as ``[T + 1, B, N]``
  trajectories (index 0 the initial state), step t is skippable iff
  ``output[t] == 0`` and ``|x[t + 1] - x[t]| <= atol`` for every state variable x.
  State variables: MTC (V, V_slow, V_ultraslow), LIF (U), AdLIF (u, w); all in units where
  the firing threshold / output window is O(1), so one absolute ``atol`` serves all three.
  The input is deliberately not a criterion: the hidden layers receive a dense projection
  of an analog series, so "zero input" would make S_comp zero for every model; an input
  that moves the state shows up as a state change, and a constant input that does not
  (a neuron at its fixed point) is skippable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

#: Tolerance of "state unchanged" in S_comp, in each model's threshold units.
S_COMP_ATOL = 1e-3

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


def s_comm(output: ArrayLike) -> float:
    """Fraction of neuron-steps with a non-zero output (``output`` is ``[T, B, N]``)."""
    out = _as_float64(output)
    if out.size == 0:
        raise ValueError("s_comm: empty output")
    return float(np.mean(out != 0.0))


def s_comp(
    output: ArrayLike,
    state_trajectories: Mapping[str, ArrayLike],
    atol: float = S_COMP_ATOL,
) -> float:
    """Fraction of neuron-steps whose update could be skipped (see the module docstring).

    ``output`` is ``[T, ...]``; each state trajectory ``[T + 1, ...]`` with the initial
    state first (``LayerOutput.recorded``).
    """
    out = _as_float64(output)
    if out.size == 0:
        raise ValueError("s_comp: empty output")
    if not state_trajectories:
        raise ValueError("s_comp: no state trajectories given")
    if atol < 0:
        raise ValueError(f"s_comp: atol must be >= 0; got {atol}")
    skippable = out == 0.0
    for name, trajectory in state_trajectories.items():
        states = _as_float64(trajectory)
        if states.shape != (out.shape[0] + 1, *out.shape[1:]):
            raise ValueError(
                f"s_comp: state {name!r} has shape {states.shape}; expected "
                f"{(out.shape[0] + 1, *out.shape[1:])} (initial state first)"
            )
        skippable &= np.abs(np.diff(states, axis=0)) <= atol
    return float(np.mean(skippable))
