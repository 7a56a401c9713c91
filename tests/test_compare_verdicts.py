"""The verdict rules on constructed paired numbers: each of the five verdicts, the effect
floor, the minimum detectable effect, equivalence, the layer interaction, conjunctions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bridge.compare.stats import paired_stats
from bridge.compare.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUABLE,
    NOT_SUPPORTED,
    POINT_ESTIMATE,
    SUPPORTED,
    Verdict,
    conjunction,
    directional,
    effect_floor,
    equivalence,
    is_degenerate,
    layer_interaction,
    minimum_detectable_effect,
    redistribution,
    seed_pair_spread,
)

REF = {1: 1.00, 2: 1.05, 3: 0.98, 4: 1.02}
RULES = dict(min_n=3, confidence=0.95, power=0.8)


def judge(group: dict, direction: int = +1, floor: float = 0.05):
    return directional(paired_stats(group, REF), direction, floor, **RULES)


def test_supported_when_the_interval_excludes_0_and_the_change_clears_the_floor() -> None:
    v = judge({1: 1.20, 2: 1.27, 3: 1.17, 4: 1.23})
    assert v.verdict == SUPPORTED
    assert v.relative == pytest.approx(0.205 / 1.0125)


def test_contradicted_by_a_significant_change_the_other_way() -> None:
    # The claim says "increase"; the group fell by 0.2 with little spread.
    v = judge({1: 0.80, 2: 0.86, 3: 0.77, 4: 0.83})
    assert v.verdict == CONTRADICTED and "opposite" in v.reason


def test_not_supported_when_the_interval_rules_out_an_effect_of_the_floor_size() -> None:
    # Differences 0.01, -0.01, 0.005, -0.005: mean 0, half-width ~0.015 < floor 0.05.
    v = judge({1: 1.01, 2: 1.04, 3: 0.985, 4: 1.015})
    assert v.verdict == NOT_SUPPORTED and "rules out" in v.reason


def test_a_significant_change_below_the_floor_is_not_supported() -> None:
    v = judge({1: 1.02, 2: 1.071, 3: 1.0, 4: 1.041}, floor=0.05)
    assert v.verdict == NOT_SUPPORTED and "below the effect floor" in v.reason


def test_inconclusive_when_the_interval_holds_0_and_the_floor_with_its_mde() -> None:
    group = {1: 1.30, 2: 0.90, 3: 1.25, 4: 0.95}
    v = judge(group)
    assert v.verdict == INCONCLUSIVE
    d = np.array([group[s] - REF[s] for s in REF])
    expected = (sps.t.ppf(0.975, 3) + sps.t.ppf(0.8, 3)) * d.std(ddof=1) / 2.0
    assert v.mde == pytest.approx(expected)
    assert "minimum detectable effect" in v.reason


def test_fewer_than_three_seeds_give_a_point_estimate_and_no_verdict() -> None:
    stats = paired_stats({1: 2.0, 2: 2.1}, {1: 1.0, 2: 1.0})
    v = directional(stats, +1, 0.05, **RULES)
    assert v.verdict == NOT_EVALUABLE and v.reason.startswith(POINT_ESTIMATE)
    assert "1.05" in v.reason  # the mean difference is still given


def test_a_degenerate_metric_is_not_evaluable_and_flagged() -> None:
    same = {1: 0.0, 2: 0.0, 3: 0.0}
    assert is_degenerate(same, same)
    assert not is_degenerate(same, {1: 0.0, 2: 0.0, 3: 1e-3})
    v = directional(paired_stats(same, same), +1, 0.0, degenerate=True, **RULES)
    assert v.verdict == NOT_EVALUABLE and v.degenerate and "decides nothing" in v.reason


def test_direction_minus_one_mirrors_the_rule() -> None:
    v = judge({1: 0.80, 2: 0.86, 3: 0.77, 4: 0.83}, direction=-1)
    assert v.verdict == SUPPORTED


def test_effect_floor_is_the_larger_of_the_relative_effect_and_the_seed_spread() -> None:
    assert seed_pair_spread({1: 1.0, 2: 1.1, 3: 1.4}) == pytest.approx(0.3)  # 0.1, 0.4, 0.3
    assert seed_pair_spread({1: 1.0}) is None
    assert effect_floor(2.0, 0.05, 0.3) == pytest.approx(0.3)
    assert effect_floor(20.0, 0.05, 0.3) == pytest.approx(1.0)
    assert effect_floor(-20.0, 0.05, None) == pytest.approx(1.0)


def test_minimum_detectable_effect_shrinks_with_sqrt_n() -> None:
    small = minimum_detectable_effect(1.0, 4, 0.95, 0.8)
    large = minimum_detectable_effect(1.0, 100, 0.95, 0.8)
    assert large == pytest.approx((1.984 + 0.845) / 10, rel=0.01)
    assert small > 2 * large
    assert minimum_detectable_effect(1.0, 1, 0.95, 0.8) is None


@pytest.mark.parametrize(
    ("shift", "verdict"),
    [
        (0.0, SUPPORTED),  # tight around 0: equivalent
        (0.5, CONTRADICTED),  # raised well past +0.2
        (-0.5, NOT_SUPPORTED),  # lowered past -0.2
        (0.19, INCONCLUSIVE),  # the interval crosses +0.2
    ],
)
def test_equivalence_by_two_one_sided_tests(shift: float, verdict: str) -> None:
    ref = {1: 2.0, 2: 2.1, 3: 1.9, 4: 2.0}
    wobble = {1: 0.02, 2: -0.03, 3: 0.01, 4: 0.0}
    group = {s: ref[s] + shift + wobble[s] for s in ref}
    v = equivalence(paired_stats(group, ref), 0.2, min_n=3, confidence=0.95, what="rate")
    assert v.verdict == verdict


def test_layer_interaction_separates_a_shift_from_a_scaling() -> None:
    seeds = (1, 2, 3, 4)
    ref = {
        "a": {s: 0.2 + 0.01 * s for s in seeds},
        "b": {s: 0.4 - 0.01 * s for s in seeds},
    }
    noise = {1: 0.002, 2: -0.001, 3: 0.0, 4: -0.002}
    shifted = {
        "a": {s: ref["a"][s] * 1.3 + noise[s] for s in seeds},
        "b": {s: ref["b"][s] * 0.7 - noise[s] for s in seeds},
    }
    inter = layer_interaction(shifted, ref)
    assert inter.p_value is not None and inter.p_value < 0.01
    assert inter.layer_changes["a"] > 0 > inter.layer_changes["b"]
    assert redistribution(inter, min_n=3, confidence=0.95).verdict == SUPPORTED

    scaled = {k: {s: v * 1.3 + noise[s] for s, v in layer.items()} for k, layer in ref.items()}
    inter = layer_interaction(scaled, ref)
    assert inter.p_value is not None and inter.p_value > 0.05
    assert redistribution(inter, min_n=3, confidence=0.95).verdict == INCONCLUSIVE


def test_layer_interaction_by_hand() -> None:
    """Two layers, three seeds: F = MS_layer / MS_error computed by hand."""
    ref = {"a": {1: 1.0, 2: 1.0, 3: 1.0}, "b": {1: 1.0, 2: 1.0, 3: 1.0}}
    group = {"a": {1: 1.1, 2: 1.3, 3: 1.2}, "b": {1: 0.9, 2: 1.0, 3: 0.8}}
    x = np.array([[0.1, 0.3, 0.2], [-0.1, 0.0, -0.2]])
    grand = x.mean()
    ss_layer = 3 * np.sum((x.mean(axis=1) - grand) ** 2)
    ss_seed = 2 * np.sum((x.mean(axis=0) - grand) ** 2)
    ss_error = np.sum((x - grand) ** 2) - ss_layer - ss_seed
    f = (ss_layer / 1) / (ss_error / 2)
    inter = layer_interaction(group, ref)
    assert inter.f_statistic == pytest.approx(f)
    assert inter.p_value == pytest.approx(sps.f.sf(f, 1, 2))


def test_conjunction_drops_degenerate_parts_and_takes_the_weakest() -> None:
    ok = Verdict(SUPPORTED, "fine")
    flat = Verdict(NOT_EVALUABLE, "same everywhere", degenerate=True)
    unsure = Verdict(INCONCLUSIVE, "wide")
    against = Verdict(CONTRADICTED, "the other way")
    assert conjunction([("a", ok), ("b", flat)]).verdict == SUPPORTED
    assert "dropped as degenerate: b" in conjunction([("a", ok), ("b", flat)]).reason
    assert conjunction([("a", ok), ("b", unsure)]).verdict == INCONCLUSIVE
    assert conjunction([("a", unsure), ("b", against)]).verdict == CONTRADICTED
    assert conjunction([("a", Verdict(NOT_SUPPORTED, "x")), ("b", unsure)]).verdict == (
        NOT_SUPPORTED
    )
    assert conjunction([("b", flat)]).verdict == NOT_EVALUABLE
    few = Verdict(NOT_EVALUABLE, f"{POINT_ESTIMATE}: 2 paired seed(s)")
    assert conjunction([("a", ok), ("b", few)]).verdict == NOT_EVALUABLE


def test_relative_change_against_a_zero_reference_is_infinite_not_an_error() -> None:
    zero = {1: 0.0, 2: 0.0, 3: 0.0}
    v = directional(paired_stats({1: 0.1, 2: 0.12, 3: 0.11}, zero), +1, 0.0, **RULES)
    assert v.verdict == SUPPORTED and math.isinf(v.relative)
