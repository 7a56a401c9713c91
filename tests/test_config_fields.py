"""The config models read single keys strictly and name the offending key's dotted path."""

import copy
from functools import reduce
from pathlib import Path

import pytest

from bridge.config import (
    AutoencoderConfig,
    ConfigError,
    MappingConfig,
    RegressorConfig,
    load_config,
)

MODELS = {"mapping": MappingConfig, "regressor": RegressorConfig, "autoencoder": AutoencoderConfig}


@pytest.fixture(scope="module")
def full(repo_root: Path) -> dict:
    return load_config([repo_root / "config" / "config.yaml"])


def validated(full: dict, dotted: str, value: object) -> object:
    """The section named by the first part of ``dotted``, read with that key set to ``value``."""
    section, *keys = dotted.split(".")
    edited = copy.deepcopy(full[section])
    reduce(dict.__getitem__, keys[:-1], edited)[keys[-1]] = value
    return MODELS[section].from_config(edited, section)


def test_missing_key_names_the_dotted_path(full: dict) -> None:
    mapping = copy.deepcopy(full["mapping"])
    del mapping["lif"]["n_starts"]
    with pytest.raises(ConfigError, match=r"'mapping\.lif\.n_starts': required key is missing"):
        MappingConfig.from_config(mapping, "mapping")


@pytest.mark.parametrize(
    ("dotted", "value", "match"),
    [
        # numbers refuse booleans, strings, NaN and infinities, and keep their bounds
        *[
            ("mapping.objective.rate_scale_hz", bad, r"'mapping\.objective\.rate_scale_hz'")
            for bad in (True, "3", float("nan"), float("inf"))
        ],
        ("mapping.objective.rate_scale_hz", 0, r"rate_scale_hz': Input should be greater than 0"),
        # counts refuse floats, booleans and values below their minimum
        *[
            ("mapping.lif.start_grid_points", bad, r"'mapping\.lif\.start_grid_points'")
            for bad in (2, 3.0, True)
        ],
        ("regressor.device", "tpu", r"'regressor\.device': Input should be 'auto'"),
        # the job resources both training stages share; the regressor keeps its own memory floor
        ("autoencoder.gpus", -1, r"'autoencoder\.gpus': Input should be greater than or equal"),
        (
            "regressor.mem_mb",
            99,
            r"'regressor\.mem_mb': Input should be greater than or equal to 100",
        ),
        ("mapping.lif.profile.max_tau_ratio", -2, r"mapping\.lif\.profile\.max_tau_ratio"),
        ("mapping.lif.tau_bounds_ms", [2.0, 1.0], r"'mapping\.lif\.tau_bounds_ms.*low < high"),
        ("mapping.lif.w_bounds_per_nA", [0.0, 1.0], r"'mapping\.lif\.w_bounds_per_nA.*than 0"),
        ("mapping.mtc.condition_gains", ["a_slow_pos"], r"condition_gains': .*must list a_fast"),
        ("mapping.mtc.a_fast_bounds", [-4.0, -0.5], r"'mapping\.mtc\.a_fast_bounds\.1'.*than -1"),
    ],
)
def test_bad_value_is_rejected_naming_its_key(
    full: dict, dotted: str, value: object, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        validated(full, dotted, value)


@pytest.mark.parametrize(
    ("dotted", "value", "read"),
    [
        ("mapping.objective.latency_rel_scale", 0, 0.0),  # >= 0 allowed; an int reads as a float
        ("regressor.device", "auto", "auto"),
        ("autoencoder.mem_mb", 99, 99),
        ("mapping.mtc.condition_gains", ["a_slow_pos", "a_fast"], ("a_fast", "a_slow_pos")),
    ],
)
def test_good_value_reads_as(full: dict, dotted: str, value: object, read: object) -> None:
    got = reduce(getattr, dotted.split(".")[1:], validated(full, dotted, value))
    assert got == read and type(got) is type(read)
