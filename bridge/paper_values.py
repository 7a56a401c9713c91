"""The two papers' published numbers: one loader per file and one error type, no torch.

``data/paper_values/autoencoder.yaml`` (the hyperexcitability paper: Table 2, the quoted
final-epoch layer rates, its benchmark and overfiring-like scenarios) is read by
:func:`load_autoencoder_paper_values`; ``data/paper_values/regressor.yaml`` (the MTC paper:
per model and metric a value or null, a relation ``approx`` | ``greater_than``, the statistic
the paper names and a citation) by :func:`load_regressor_paper_values`. Those files are the
only place the numbers live; the autoencoder and regressor summaries and the compare stage
all read them here. A malformed file raises :class:`PaperValuesError` naming the file and key.

For the compare stage, :func:`load_paper_records` turns either file into one flat table, one
record per published number, with the columns of :data:`PAPER_COLUMNS`::

    quantity   autoencoder: test_mse, msed, firing_rate; regressor: r2, smape (percent),
               s_comm, s_comp
    scenario   autoencoder scenario (Table 2's and the quoted layer rates')
    model      regressor model (bridge.neurons.registry)
    layer      autoencoder layer of a firing rate
    noise      noiseless | noisy (firing rates)
    statistic  what the paper says the number is (regressor)
    relation   "=" (autoencoder), "~" (approx) or ">" (greater_than)
    value      the number
    source     table, figure or section (the file's citation)
    note       free text (autoencoder MSEd: the file's msed_note)

A regressor number the paper does not report (``value: null``) gives no record. A missing
file is not an error there: the paper columns stay empty and a warning says so.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bridge import REPO_ROOT
from bridge.autoencoder.layers import SPIKING_LAYERS
from bridge.neurons.registry import MODEL_NAMES

LOG = logging.getLogger(__name__)

PAPER_VALUES_DIR = REPO_ROOT / "data" / "paper_values"
AUTOENCODER_PAPER_VALUES = PAPER_VALUES_DIR / "autoencoder.yaml"
REGRESSOR_PAPER_VALUES = PAPER_VALUES_DIR / "regressor.yaml"
#: Noise levels of the autoencoder paper's quoted layer rates.
NOISE_LEVELS = ("noiseless", "noisy")
#: Metrics the regressor file gives per model.
PAPER_METRICS = ("r2", "smape", "s_comm", "s_comp")
RELATIONS = ("approx", "greater_than")
#: The regressor file's relation -> the sign the tables show.
RELATION_SIGNS = {"approx": "~", "greater_than": ">"}
#: Stages with a paper-values file.
STAGES = ("autoencoder", "regressor")
PAPER_COLUMNS = (
    "quantity",
    "scenario",
    "model",
    "layer",
    "noise",
    "statistic",
    "relation",
    "value",
    "source",
    "note",
)


class PaperValuesError(ValueError):
    """A paper-values file is malformed (the message names the file and key)."""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise PaperValuesError(f"{path}: cannot read ({err})") from err


# --- the autoencoder paper ------------------------------------------------------------------


@dataclass(frozen=True)
class AutoencoderPaperValues:
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


def load_autoencoder_paper_values(
    path: str | Path = AUTOENCODER_PAPER_VALUES,
) -> AutoencoderPaperValues:
    """Read and check the autoencoder file; raises :class:`PaperValuesError` naming the key."""
    path = Path(path)
    data = _read_yaml(path)
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
    return AutoencoderPaperValues(
        test_mse=test_mse,
        msed=msed,
        firing_rates=rates,
        benchmark_scenario=benchmark,
        overfiring_scenario=overfiring,
        citations=citations,
        source=str(source.get("file", "")) if isinstance(source, Mapping) else str(source),
        msed_note=None if msed_note is None else str(msed_note),
    )


# --- the MTC paper (regressor) --------------------------------------------------------------


@dataclass(frozen=True)
class PaperValue:
    """One published number: ``value`` (None: not reported), how to read it, where it is."""

    value: float | None
    relation: str
    statistic: str
    cite: str

    @property
    def reads(self) -> str | None:
        """``"~ 0.7"`` or ``"> 0.9"``; None when not reported."""
        if self.value is None:
            return None
        return f"{'>' if self.relation == 'greater_than' else '~'} {self.value:g}"


def _entry(raw: Any, where: str) -> PaperValue:
    if not isinstance(raw, Mapping):
        raise PaperValuesError(f"{where}: expected a mapping with value, relation, cite")
    for key in ("value", "relation", "statistic", "cite"):
        if key not in raw:
            raise PaperValuesError(f"{where}.{key} is missing")
    value = raw["value"]
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
    ):
        raise PaperValuesError(f"{where}.value must be a finite number or null; got {value!r}")
    if raw["relation"] not in RELATIONS:
        raise PaperValuesError(f"{where}.relation must be one of {RELATIONS}")
    if not isinstance(raw["cite"], str) or not raw["cite"].strip():
        raise PaperValuesError(f"{where}.cite must be a non-empty citation")
    return PaperValue(
        value=None if value is None else float(value),
        relation=str(raw["relation"]),
        statistic=str(raw["statistic"]),
        cite=raw["cite"],
    )


def load_regressor_paper_values(
    path: str | Path = REGRESSOR_PAPER_VALUES,
) -> dict[str, dict[str, PaperValue]]:
    """``{model: {metric: PaperValue}}`` for every registry model and metric."""
    path = Path(path)
    raw = _read_yaml(path)
    models = raw.get("models") if isinstance(raw, Mapping) else None
    if not isinstance(models, Mapping):
        raise PaperValuesError(f"{path}: key 'models' is missing")
    out: dict[str, dict[str, PaperValue]] = {}
    for model in MODEL_NAMES:
        if not isinstance(models.get(model), Mapping):
            raise PaperValuesError(f"{path}: models.{model} is missing")
        out[model] = {
            metric: _entry(models[model].get(metric), f"{path}: models.{model}.{metric}")
            for metric in PAPER_METRICS
        }
    return out


# --- one record table for the compare stage -------------------------------------------------


@dataclass(frozen=True)
class PaperRecords:
    """The records of one file (empty when the file is missing) and where they came from."""

    path: str
    paper: str
    records: pd.DataFrame
    found: bool


def autoencoder_records(paper: AutoencoderPaperValues) -> list[dict[str, object]]:
    """Table 2 (test MSE then MSEd, scenario by scenario), then the quoted layer rates."""
    records: list[dict[str, object]] = []
    table2 = paper.citations["table2"]
    for scenario, test_mse in paper.test_mse.items():
        records.append(
            {"quantity": "test_mse", "scenario": scenario, "value": test_mse, "source": table2}
        )
        records.append(
            {"quantity": "msed", "scenario": scenario, "value": paper.msed[scenario],
             "source": table2, "note": paper.msed_note}
        )  # fmt: skip
    for noise, scenarios in paper.firing_rates.items():
        source = paper.citations[f"firing_rates_{noise}"]
        for scenario, layers in scenarios.items():
            for layer, value in layers.items():
                records.append(
                    {"quantity": "firing_rate", "scenario": scenario, "layer": layer,
                     "noise": noise, "value": value, "source": source}
                )  # fmt: skip
    return records


def regressor_records(
    paper: Mapping[str, Mapping[str, PaperValue]],
) -> list[dict[str, object]]:
    """Model by model, metric by metric; numbers the paper does not report are left out."""
    return [
        {"quantity": metric, "model": model, "statistic": entry.statistic,
         "relation": RELATION_SIGNS[entry.relation], "value": entry.value, "source": entry.cite}
        for model, metrics in paper.items()
        for metric, entry in metrics.items()
        if entry.value is not None
    ]  # fmt: skip


def load_paper_records(path: str | Path, stage: str) -> PaperRecords:
    """The records of ``stage``'s paper-values file (module docstring)."""
    if stage not in STAGES:
        raise ValueError(f"paper values: stage must be one of {STAGES}, got {stage!r}")
    path = Path(path)
    empty = pd.DataFrame(columns=list(PAPER_COLUMNS))
    if not path.is_file():
        LOG.warning("%s: no published values (file not found); paper columns stay empty", path)
        return PaperRecords(str(path), "", empty, False)
    if stage == "autoencoder":
        ae = load_autoencoder_paper_values(path)
        rows, paper = autoencoder_records(ae), ae.source
    else:
        rows, paper = regressor_records(load_regressor_paper_values(path)), ""
    filled = [
        {**{key: row.get(key) for key in PAPER_COLUMNS}, "relation": row.get("relation", "=")}
        for row in rows
    ]
    frame = pd.DataFrame(filled, columns=list(PAPER_COLUMNS)) if filled else empty
    frame["value"] = frame["value"].astype(float)
    return PaperRecords(str(path), paper, frame, True)
