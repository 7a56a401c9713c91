"""R2, sMAPE, S_comm and S_comp against hand-computed values."""

import numpy as np
import pytest
import torch

from bridge.neurons import AdLIFLayer, LIFLayer, MTCLayer
from bridge.regression_metrics import S_COMP_ATOL, r2, s_comm, s_comp, smape


def test_r2_hand_values() -> None:
    # SS_res = 1, SS_tot = 5 -> 0.8.
    assert r2([1.0, 2.0, 3.0, 5.0], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.8)
    assert r2(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 1.0
    # Predicting the mean gives 0; worse than the mean is negative.
    assert r2([2.5] * 4, [1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.0)
    assert r2(torch.tensor([4.0, 3.0, 2.0, 1.0]), [1.0, 2.0, 3.0, 4.0]) == pytest.approx(-3.0)


def test_smape_hand_values() -> None:
    # Terms 0.5/2.5 = 0.2, 0, and 0/0 (defined as 0): 200 * 0.2 / 3.
    assert smape([1.5, 2.0, 0.0], [1.0, 2.0, 0.0]) == pytest.approx(40.0 / 3.0)
    # Opposite signs or a zero prediction saturate at 200 %.
    assert smape([0.0, 1.0], [1.0, -1.0]) == pytest.approx(200.0)
    assert smape(torch.zeros(3), torch.zeros(3)) == 0.0


@pytest.mark.parametrize(
    ("pred", "true", "message"),
    [
        ([1.0, 2.0], [1.0], "2 predictions for 1 targets"),
        ([], [], "no values"),
        ([np.nan], [1.0], "NaN or inf"),
    ],
)
def test_bad_inputs_raise(pred, true, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        smape(pred, true)
    with pytest.raises(ValueError, match=message):
        r2(pred, true)


def test_r2_undefined_for_constant_targets() -> None:
    with pytest.raises(ValueError, match="targets are constant"):
        r2([1.0, 2.0], [3.0, 3.0])


def test_s_comm_hand_values() -> None:
    output = torch.tensor([[[0.0, 1.0]], [[0.3, 0.0]], [[0.0, 0.0]]])
    assert s_comm(output) == pytest.approx(2 / 6)


def test_s_comp_hand_values() -> None:
    # T = 3 steps, 1 batch, 2 neurons. Neuron 0: silent, state moves at step 0 only.
    # Neuron 1: state fixed, but it outputs at step 1.
    output = np.array([[[0.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]]])
    v = np.array([[[0.0, 2.0]], [[0.5, 2.0]], [[0.5, 2.0]], [[0.5 + 0.5 * S_COMP_ATOL, 2.0]]])
    w = np.zeros_like(v)
    # Skippable: n0 at steps 1 and 2 (change within atol), n1 at steps 0 and 2.
    assert s_comp(output, {"v": v, "w": w}) == pytest.approx(4 / 6)
    # A second state variable that moves for n1 at step 2 removes that step.
    w[3, 0, 1] = 0.1
    assert s_comp(output, {"v": v, "w": w}) == pytest.approx(3 / 6)
    # A tighter tolerance turns n0's step 2 (change 0.5 atol) into work.
    assert s_comp(output, {"v": v}, atol=0.25 * S_COMP_ATOL) == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="expected \\(4, 1, 2\\) \\(initial state first\\)"):
        s_comp(output, {"v": v[1:]})


@pytest.mark.parametrize(
    "layer",
    [MTCLayer(3), LIFLayer(3), AdLIFLayer(3, generator=torch.Generator().manual_seed(0))],
    ids=["mtc", "lif", "adlif"],
)
def test_sparsity_of_a_quiet_layer(layer) -> None:
    # Zero input: every model sits at its fixed point (MTC presets rest at zero input;
    # LIF/AdLIF start at zero), so nothing is sent and every update could be skipped.
    result = layer(torch.zeros(50, 2, 3), record=True)
    assert s_comm(result.output) == 0.0
    assert s_comp(result.output, result.recorded) == 1.0
    # A strong input makes every model communicate and compute.
    result = layer(torch.full((50, 2, 3), 3.0), record=True)
    assert s_comm(result.output) > 0.0
    assert s_comp(result.output, result.recorded) < 0.5
