"""The MTC paper's published regressor numbers, read from ``data/paper_values/regressor.yaml``.

That file is the single place the numbers live (the compare stage reads it too); each has a
value (or null: not reported), a relation (``approx`` or ``greater_than``), the statistic the
paper names and a citation. :func:`load_paper_values` checks the file before anything uses
it and names the file and key of a bad entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridge import REPO_ROOT
from bridge.neurons.registry import MODEL_NAMES

PAPER_VALUES_PATH = REPO_ROOT / "data" / "paper_values" / "regressor.yaml"
PAPER_METRICS = ("r2", "smape", "s_comm", "s_comp")
RELATIONS = ("approx", "greater_than")


class PaperValuesError(ValueError):
    """The paper-values file is malformed (the message names the file and key)."""


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


def load_paper_values(path: str | Path = PAPER_VALUES_PATH) -> dict[str, dict[str, PaperValue]]:
    """``{model: {metric: PaperValue}}`` for every model and metric; raises PaperValuesError."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise PaperValuesError(f"{path}: cannot read ({err})") from err
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
