"""The config models read single keys strictly and name the offending key's dotted path."""

import copy
from pathlib import Path

import pytest

from bridge.config import ConfigError, MappingConfig, RegressorConfig, load_config


@pytest.fixture(scope="module")
def full(repo_root: Path) -> dict:
    return load_config([repo_root / "config" / "config.yaml"])


def rejected(model: type, section: dict, where: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        model.from_config(section, where)


def test_missing_key_names_the_dotted_path(full: dict) -> None:
    mapping = copy.deepcopy(full["mapping"])
    del mapping["lif"]["n_starts"]
    rejected(
        MappingConfig, mapping, "mapping", r"'mapping\.lif\.n_starts': required key is missing"
    )


@pytest.mark.parametrize("value", [True, "3", float("nan"), float("inf")])
def test_number_refuses_non_finite_and_non_numbers(full: dict, value: object) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["objective"]["rate_scale_hz"] = value
    rejected(MappingConfig, mapping, "mapping", r"'mapping\.objective\.rate_scale_hz'")


def test_number_bounds(full: dict) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["objective"]["latency_rel_scale"] = 0  # >= 0 allowed; an int reads as a float
    assert MappingConfig.from_config(mapping).objective.latency_rel_scale == 0.0
    mapping["objective"]["rate_scale_hz"] = 0
    rejected(MappingConfig, mapping, "mapping", r"rate_scale_hz': Input should be greater than 0")


@pytest.mark.parametrize("bad", [2, 3.0, True])
def test_count_refuses_floats_booleans_and_small_values(full: dict, bad: object) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["lif"]["start_grid_points"] = bad
    rejected(MappingConfig, mapping, "mapping", r"'mapping\.lif\.start_grid_points'")


def test_choice(full: dict) -> None:
    regressor = copy.deepcopy(full["regressor"])
    assert RegressorConfig.from_config(regressor).device == "auto"
    regressor["device"] = "tpu"
    rejected(
        RegressorConfig, regressor, "regressor", r"'regressor\.device': Input should be 'auto'"
    )


def test_mapping_settings_names_a_bad_nested_key(full: dict) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["lif"]["profile"]["max_tau_ratio"] = -2
    rejected(MappingConfig, mapping, "mapping", r"mapping\.lif\.profile\.max_tau_ratio")


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("tau_bounds_ms", [2.0, 1.0], "low < high"),
        ("w_bounds_per_nA", [0.0, 1.0], "greater than 0"),
    ],
)
def test_bounds_are_low_high(full: dict, key: str, value: list, match: str) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["lif"][key] = value
    rejected(MappingConfig, mapping, "mapping", rf"'mapping\.lif\.{key}.*{match}")


def test_mtc_gains_and_fast_bounds(full: dict) -> None:
    mapping = copy.deepcopy(full["mapping"])
    mapping["mtc"]["condition_gains"] = ["a_slow_pos", "a_fast"]
    assert MappingConfig.from_config(mapping).mtc.condition_gains == ("a_fast", "a_slow_pos")
    mapping["mtc"]["condition_gains"] = ["a_slow_pos"]
    rejected(MappingConfig, mapping, "mapping", r"condition_gains': .*must list a_fast")
    mapping["mtc"]["condition_gains"] = ["a_fast"]
    mapping["mtc"]["a_fast_bounds"] = [-4.0, -0.5]
    rejected(MappingConfig, mapping, "mapping", r"'mapping\.mtc\.a_fast_bounds\.1'.*less than -1")
