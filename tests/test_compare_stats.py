"""Paired-by-seed statistics against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bridge.compare.stats import hedges_correction, hedges_g_av, paired_stats

A = {1: 1.0, 2: 2.0, 3: 3.0, 4: 4.0}
B = {1: 0.5, 2: 1.0, 3: 2.5, 4: 2.0}


def test_hedges_g_av_by_hand() -> None:
    # var(a) = 5/3, var(b) = 2.5/3 -> s_av = sqrt(1.25); mean diff 1; df = 2 (n - 1) = 6.
    expected = 1.0 / math.sqrt(1.25) * (1.0 - 3.0 / 23.0)
    got = hedges_g_av(np.array(list(A.values())), np.array(list(B.values())))
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(0.77776, abs=1e-5)


def test_hedges_correction_small_samples() -> None:
    assert hedges_correction(2) == pytest.approx(1 - 3 / 7)
    assert hedges_correction(1000) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError):
        hedges_correction(0)


def test_paired_interval_by_hand_and_no_p_below_five() -> None:
    s = paired_stats(A, B, confidence=0.95, min_n_p_value=5)
    # d = 0.5, 1, 0.5, 2: mean 1, sd sqrt(0.5); t(0.975, 3) = 3.182446305 (tables).
    half = 3.182446305 * math.sqrt(0.5) / 2.0
    assert (s.n, s.mean_diff) == (4, pytest.approx(1.0))
    assert s.sd_diff == pytest.approx(math.sqrt(0.5))
    assert s.ci_low == pytest.approx(1.0 - half, rel=1e-8)
    assert s.ci_high == pytest.approx(1.0 + half, rel=1e-8)
    assert s.mean_a == pytest.approx(2.5) and s.mean_b == pytest.approx(1.5)
    assert s.p_value is None and "n < 5" in s.note


def test_p_value_from_five_seeds_and_unpaired_seeds_counted() -> None:
    a = {**A, 5: 5.0, 6: 9.0}
    b = {**B, 5: 4.0, 7: 1.0}
    s = paired_stats(a, b, min_n_p_value=5)
    assert s.n == 5 and s.n_unpaired == 2 and "2 unpaired" in s.note
    # t = mean(d) / (sd(d)/sqrt(5)) with d = 0.5, 1, 0.5, 2, 1: mean 1, sd sqrt(0.375).
    t = 1.0 / (math.sqrt(0.375) / math.sqrt(5))
    assert t == pytest.approx(3.6515, abs=1e-4)
    # Two-sided p of t(4) = 3.6515 is 0.0218 (tables).
    assert s.p_value == pytest.approx(0.0218, abs=5e-4)


def test_one_seed_gives_a_difference_without_interval() -> None:
    s = paired_stats({7: 0.3}, {7: 0.1})
    assert s.n == 1 and s.mean_diff == pytest.approx(0.2)
    assert s.ci_low is None and s.hedges_g is None and s.sd_diff is None
    assert "n = 1" in s.note


def test_no_paired_seed_and_zero_spread() -> None:
    empty = paired_stats({1: 1.0}, {2: 1.0})
    assert empty.n == 0 and empty.mean_diff is None and "no paired seeds" in empty.note
    flat = paired_stats({1: 1.0, 2: 1.0, 3: 1.0}, {1: 0.5, 2: 0.5, 3: 0.5}, min_n_p_value=3)
    assert flat.mean_diff == pytest.approx(0.5)
    assert flat.hedges_g is None and "zero spread" in flat.note
    assert flat.p_value is None and "differences equal" in flat.note
