"""R2, sMAPE, S_comm and S_comp against hand-computed values."""

import numpy as np
import pytest
import torch

from bridge.neurons.adlif import AdLIFLayer
from bridge.neurons.lif import LIFLayer
from bridge.neurons.mtc import MTCLayer
from bridge.regressor.metrics import S_COMP_ATOL, r2, s_comm, s_comp, s_comp_parts, smape


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
    # T = 3 steps, 1 batch, 3 neurons.
    # n0: no input, silent; its state moves at step 0 only -> skippable at steps 1 and 2.
    # n1: no input, state fixed, but it outputs at step 1 -> skippable at steps 0 and 2.
    # n2: state fixed and silent, but it receives input at step 1 -> skippable at 0 and 2.
    output = np.array([[[0.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]], [[0.0, 0.0, 0.0]]])
    current = np.zeros_like(output)
    current[1, 0, 2] = -0.2
    v = np.array(
        [
            [[0.0, 2.0, -1.0]],
            [[0.5, 2.0, -1.0]],
            [[0.5, 2.0, -1.0]],
            [[0.5 + 0.5 * S_COMP_ATOL, 2.0, -1.0]],
        ]
    )
    w = np.zeros_like(v)
    assert s_comp(output, {"v": v, "w": w}, current) == pytest.approx(6 / 9)
    parts = s_comp_parts(output, {"v": v, "w": w}, current)
    assert parts == pytest.approx(
        {"s_comp": 6 / 9, "input_zero": 8 / 9, "state_fixed": 8 / 9, "output_zero": 8 / 9}
    )
    # A second state variable that moves for n1 at step 2 removes that step.
    w[3, 0, 1] = 0.1
    assert s_comp(output, {"v": v, "w": w}, current) == pytest.approx(5 / 9)
    # A tighter tolerance turns n0's step 2 (change 0.5 atol) into work.
    assert s_comp(output, {"v": v}, current, atol=0.25 * S_COMP_ATOL) == pytest.approx(5 / 9)
    # Any input, however small, is an event: a dense drive leaves nothing to skip.
    assert s_comp(output, {"v": v}, np.full_like(output, 1e-9)) == 0.0
    # A state that ran away is never at a fixed point: n0 loses steps 1 and 2.
    v_nan = v.copy()
    v_nan[2:, 0, 0] = np.nan
    assert s_comp(output, {"v": v_nan}, current) == pytest.approx(4 / 9)
    with pytest.raises(ValueError, match="expected \\(4, 1, 3\\) \\(initial state first\\)"):
        s_comp(output, {"v": v[1:]}, current)
    with pytest.raises(ValueError, match="input current has shape"):
        s_comp(output, {"v": v}, current[1:])


@pytest.mark.parametrize(
    "layer",
    [MTCLayer(3), LIFLayer(3), AdLIFLayer(3, generator=torch.Generator().manual_seed(0))],
    ids=["mtc", "lif", "adlif"],
)
def test_sparsity_of_a_quiet_layer(layer) -> None:
    # Zero input: every model sits at its fixed point (MTC presets rest at zero input;
    # LIF/AdLIF start at zero), so nothing is sent and every update could be skipped.
    quiet = torch.zeros(50, 2, 3)
    result = layer(quiet, record=True)
    assert s_comm(result.output) == 0.0
    assert s_comp(result.output, result.recorded, quiet) == 1.0
    # A strong input makes every model communicate and compute.
    strong = torch.full((50, 2, 3), 3.0)
    result = layer(strong, record=True)
    assert s_comm(result.output) > 0.0
    parts = s_comp_parts(result.output, result.recorded, strong)
    assert parts["s_comp"] == 0.0 and parts["input_zero"] == 0.0
    assert parts["state_fixed"] < 0.5
