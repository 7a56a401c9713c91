"""Typed config reads name the offending key and raise the stage's own error class."""

from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.config_fields import ConfigFields
from bridge.mapping.settings import MappingConfigError, mapping_settings

FIELDS = ConfigFields(MappingConfigError)


def test_missing_key_names_the_dotted_path() -> None:
    with pytest.raises(MappingConfigError, match=r"'mapping\.lif\.n_starts' is missing"):
        FIELDS.get({}, "n_starts", "mapping.lif")


@pytest.mark.parametrize("value", [True, "3", float("nan"), float("inf")])
def test_number_refuses_non_finite_and_non_numbers(value: object) -> None:
    with pytest.raises(MappingConfigError, match="not a finite number"):
        FIELDS.number({"x": value}, "x", "s")


def test_number_bounds() -> None:
    assert FIELDS.number({"x": 0}, "x", "s") == 0.0
    with pytest.raises(MappingConfigError, match=r"'s\.x': 0 must be > 0"):
        FIELDS.number({"x": 0}, "x", "s", positive=True)
    with pytest.raises(MappingConfigError, match=">= 1"):
        FIELDS.number({"x": 0.5}, "x", "s", minimum=1.0)


def test_count_and_choice() -> None:
    assert FIELDS.count({"n": 3}, "n", "s", 3) == 3
    for bad in (2, 3.0, True):
        with pytest.raises(MappingConfigError, match="integer >= 3"):
            FIELDS.count({"n": bad}, "n", "s", 3)
    assert FIELDS.choice({"c": "cpu"}, "c", "s", ("cpu", "cuda")) == "cpu"
    with pytest.raises(MappingConfigError, match="not one of"):
        FIELDS.choice({"c": "tpu"}, "c", "s", ("cpu", "cuda"))


def test_mapping_settings_names_a_bad_nested_key(repo_root: Path) -> None:
    cfg = load_config([repo_root / "config" / "config.yaml"])["mapping"]
    cfg["lif"]["profile"]["max_tau_ratio"] = -2
    with pytest.raises(MappingConfigError, match=r"mapping\.lif\.profile\.max_tau_ratio"):
        mapping_settings(cfg)
