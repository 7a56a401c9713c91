"""The autoencoder paper's published numbers, read from ``data/paper_values/autoencoder.yaml``
(the one file that holds them, each with its table or section). The compare stage reads the
file through :func:`load_paper_values` too; nothing else parses it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridge.autoencoder.layers import SPIKING_LAYERS

#: Where the file lives in the repository (the workflow passes it as a rule input).
DEFAULT_PATH = Path("data/paper_values/autoencoder.yaml")
NOISE_LEVELS = ("noiseless", "noisy")


class PaperValuesError(ValueError):
    """The paper-values file is malformed (message names the file and key)."""


@dataclass(frozen=True)
class PaperValues:
    """Table 2 (test MSE, MSEd per scenario), the quoted final-epoch layer rates, and which
    scenarios the paper calls benchmark and overfiring-like."""

    test_mse: dict[str, float]
    msed: dict[str, float]
    firing_rates: dict[str, dict[str, dict[str, float]]]  # noise level -> scenario -> layer
    benchmark_scenario: str
    overfiring_scenario: str
    citations: dict[str, str]
    source: str
    msed_note: str | None = None  # table2.msed_note: why absolute MSEd does not compare


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PaperValuesError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _get(mapping: Any, key: str, where: str) -> Any:
    if not isinstance(mapping, Mapping) or key not in mapping:
        raise PaperValuesError(f"{where}: key '{key}' is missing")
    return mapping[key]


def load_paper_values(path: str | Path = DEFAULT_PATH) -> PaperValues:
    """Read and check the file; raises :class:`PaperValuesError` naming the bad key."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise PaperValuesError(f"{path}: cannot read ({err})") from err
    table = _get(data, "table2", str(path))
    scenarios = _get(table, "scenarios", f"{path}: table2")
    test_mse, msed = {}, {}
    for name, entry in scenarios.items():
        where = f"{path}: table2.scenarios.{name}"
        test_mse[name] = _number(_get(entry, "test_mse", where), f"{where}.test_mse")
        msed[name] = _number(_get(entry, "msed", where), f"{where}.msed")
    rates: dict[str, dict[str, dict[str, float]]] = {}
    section = _get(data, "firing_rates_final_epoch", str(path))
    citations = {"table2": str(_get(table, "citation", f"{path}: table2"))}
    for level in NOISE_LEVELS:
        block = _get(section, level, f"{path}: firing_rates_final_epoch")
        citations[f"firing_rates_{level}"] = str(_get(block, "citation", f"{path}: {level}"))
        rates[level] = {}
        for name, layers in block.items():
            if name == "citation":
                continue
            where = f"{path}: firing_rates_final_epoch.{level}.{name}"
            unknown = set(layers) - set(SPIKING_LAYERS)
            if unknown:
                raise PaperValuesError(f"{where}: unknown layer(s) {sorted(unknown)}")
            rates[level][name] = {k: _number(v, f"{where}.{k}") for k, v in layers.items()}
    benchmark = str(_get(data, "benchmark_scenario", str(path)))
    overfiring = str(_get(data, "overfiring_scenario", str(path)))
    for key, name in (("benchmark_scenario", benchmark), ("overfiring_scenario", overfiring)):
        if name not in test_mse:
            raise PaperValuesError(f"{path}: {key} {name!r} is not a table2 scenario")
    source = _get(data, "source", str(path))
    msed_note = table.get("msed_note")
    return PaperValues(
        test_mse=test_mse,
        msed=msed,
        firing_rates=rates,
        benchmark_scenario=benchmark,
        overfiring_scenario=overfiring,
        citations=citations,
        source=str(source.get("file", "")) if isinstance(source, Mapping) else str(source),
        msed_note=None if msed_note is None else str(msed_note),
    )
