"""Accuracy and sparsity metrics of the Mackey-Glass regressor (same code for every model).

Accuracy, on the raw series (equation units):

- :func:`r2`: ``1 - sum (y - yhat)^2 / sum (y - mean y)^2``.
- :func:`smape`: ``200 * mean(|yhat - y| / (|yhat| + |y|))`` in percent (0 to 200), as
  NeuroBench; a term whose prediction and target are both exactly 0 counts as 0 (a perfect
  prediction) instead of 0/0.

Sparsity, over all neuron-steps (t, b, n) of the hidden spiking layer (the same functions
and the same tolerance for MTC, LIF and SE-AdLIF):

- :func:`s_comm` (communication): fraction of neuron-steps whose output is non-zero, i.e.
  that would send an event to the readout. LIF/AdLIF output spikes (0/1); MTC its
  saturated-ReLU output (exactly 0 below V_th).
- :func:`s_comp` (computation, event-driven view): fraction of neuron-steps whose update
  could be skipped because it would change nothing. Neuron-step t is *skippable* iff all
  three hold:

  1. no input: the current the layer receives at step t (the input projection's output,
     before any neuron-internal offset) is exactly 0, so no input event arrives;
  2. fixed point: every state variable x of the neuron moves by at most ``atol`` in the
     step, ``|x[t + 1] - x[t]| <= atol`` (states recorded as ``[T + 1, ...]``
     trajectories, the initial state first), i.e. with no input the neuron sits at a
     fixed point of its own dynamics (constant offsets such as MTC's i_bias or LIF's
     bias_fit belong to those dynamics);
  3. no output: ``output[t] == 0`` (nothing to send).

  State variables: MTC (V, V_slow, V_ultraslow), LIF (U), SE-AdLIF (u, w). All three are
  in units where the firing threshold / output window is O(1) (MTC V_sat - V_th = 1.15,
  LIF and AdLIF threshold 1), so one absolute tolerance :data:`S_COMP_ATOL` serves all.
  An event-driven simulator could leave such a neuron untouched for the step.
  :func:`s_comp_parts` also returns the fraction of neuron-steps meeting each condition
  alone, which says which condition is binding: with a dense projection of an analog
  series every hidden neuron receives a non-zero current at every step, so condition 1
  fails everywhere and S_comp is 0 for every model, whatever its dynamics.
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


def s_comp_parts(
    output: ArrayLike,
    state_trajectories: Mapping[str, ArrayLike],
    input_current: ArrayLike,
    atol: float = S_COMP_ATOL,
) -> dict[str, float]:
    """S_comp and the fraction of neuron-steps meeting each of its three conditions.

    ``output`` and ``input_current`` are ``[T, ...]``; each state trajectory is
    ``[T + 1, ...]`` with the initial state first (``LayerOutput.recorded``). Returns
    ``s_comp``, ``input_zero``, ``state_fixed`` (all state variables within ``atol``) and
    ``output_zero`` (see the module docstring).
    """
    out = _as_float64(output)
    if out.size == 0:
        raise ValueError("s_comp: empty output")
    if not state_trajectories:
        raise ValueError("s_comp: no state trajectories given")
    if atol < 0:
        raise ValueError(f"s_comp: atol must be >= 0; got {atol}")
    current = _as_float64(input_current)
    if current.shape != out.shape:
        raise ValueError(
            f"s_comp: input current has shape {current.shape}; expected {out.shape} (= output)"
        )
    fixed = np.ones(out.shape, dtype=bool)
    for name, trajectory in state_trajectories.items():
        states = _as_float64(trajectory)
        if states.shape != (out.shape[0] + 1, *out.shape[1:]):
            raise ValueError(
                f"s_comp: state {name!r} has shape {states.shape}; expected "
                f"{(out.shape[0] + 1, *out.shape[1:])} (initial state first)"
            )
        # A non-finite state is not at a fixed point (NaN compares False).
        fixed &= np.abs(np.diff(states, axis=0)) <= atol
    input_zero = current == 0.0
    output_zero = out == 0.0
    return {
        "s_comp": float(np.mean(input_zero & fixed & output_zero)),
        "input_zero": float(np.mean(input_zero)),
        "state_fixed": float(np.mean(fixed)),
        "output_zero": float(np.mean(output_zero)),
    }


def s_comp(
    output: ArrayLike,
    state_trajectories: Mapping[str, ArrayLike],
    input_current: ArrayLike,
    atol: float = S_COMP_ATOL,
) -> float:
    """Fraction of neuron-steps whose update could be skipped (see the module docstring)."""
    return s_comp_parts(output, state_trajectories, input_current, atol)["s_comp"]
