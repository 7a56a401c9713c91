"""R2, sMAPE, MSE and skill scores against hand-computed values (activity metrics:
tests/test_activity.py)."""

import numpy as np
import pytest
import torch

from bridge.regressor.metrics import mse, r2, skill_score, smape


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


def test_mse_and_skill_score_hand_values() -> None:
    # Errors 0, 0, 1, -1 -> MSE 0.5.
    assert mse([1.0, 2.0, 4.0, 3.0], [1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.5)
    # Half the baseline's MSE is a skill of 0.5; twice it, -1; undefined against a perfect one.
    assert skill_score(0.25, 0.5) == pytest.approx(0.5)
    assert skill_score(1.0, 0.5) == pytest.approx(-1.0)
    assert skill_score(0.25, 0.0) is None and skill_score(None, 0.5) is None
