"""Published numbers of both papers: ``data/paper_values/{autoencoder,regressor}.yaml``.

Format (one record per published number; every record names where it comes from)::

    paper: <title>                       # optional
    file: papers/<name>.txt              # optional: the text the numbers were read from
    values:
      - quantity: test_mse               # what the number is (see below)
        scenario: s1_benchmark           # autoencoder: the config's paper scenario
        value: 0.0996
        source: Table 2                  # table, figure or section
      - quantity: firing_rate
        scenario: s3_syn_beta
        layer: EC_Syn1                   # autoencoder layer name
        noise: noiseless                 # noiseless | noisy
        value: 0.1577
        source: Section 3, Figure 5A text
      - quantity: s_comp                 # regressor
        model: mtc                       # mtc | lif | adlif
        statistic: median                # optional
        relation: ">"                    # optional: "=" (default), ">", "<", "~"
        value: 0.9
        source: Key Quantitative Results
        note: free text                  # optional

Autoencoder quantities: ``test_mse``, ``msed``, ``firing_rate``. Regressor quantities:
``r2``, ``smape`` (percent), ``s_comm``, ``s_comp``. A record lacking ``quantity``,
``value`` or ``source``, or whose value is not a finite number, is an error that names the
file and the record. A missing file is not an error: the paper columns stay empty and a
warning says so.

The autoencoder stage's own layout of ``data/paper_values/autoencoder.yaml`` (read there by
``bridge.autoencoder.paper_values``, which needs torch) is read too: ``table2.scenarios.
<scenario>.{test_mse, msed}`` with ``table2.citation``, and ``firing_rates_final_epoch.
{noiseless, noisy}.<scenario>.<layer>`` with each level's ``citation``; it becomes the
same records.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

LOG = logging.getLogger(__name__)

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
REQUIRED_KEYS = ("quantity", "value", "source")
RELATIONS = ("=", ">", "<", "~")
NOISE_LEVELS = ("noiseless", "noisy")


class PaperValuesError(ValueError):
    """A paper-values file that cannot be read; the message names the file and record."""


@dataclass(frozen=True)
class PaperValues:
    """The records of one file (empty when the file is missing) and where they came from."""

    path: str
    paper: str
    records: pd.DataFrame
    found: bool


def _check_record(path: Path, index: int, record: object) -> dict[str, object]:
    where = f"{path}: values[{index}]"
    if not isinstance(record, dict):
        raise PaperValuesError(f"{where}: a record must be a mapping, got {record!r}")
    unknown = set(record) - set(PAPER_COLUMNS)
    if unknown:
        raise PaperValuesError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in REQUIRED_KEYS:
        if record.get(key) in (None, ""):
            raise PaperValuesError(f"{where}: field '{key}' is missing")
    value = record["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PaperValuesError(f"{where}: field 'value' must be a finite number, got {value!r}")
    relation = str(record.get("relation", "=") or "=")
    if relation not in RELATIONS:
        raise PaperValuesError(f"{where}: field 'relation' must be one of {RELATIONS}")
    noise = record.get("noise")
    if noise not in (None, *NOISE_LEVELS):
        raise PaperValuesError(f"{where}: field 'noise' must be one of {NOISE_LEVELS}")
    row = {key: record.get(key) for key in PAPER_COLUMNS}
    row.update(value=float(value), relation=relation)
    return row


def _autoencoder_layout(path: Path, doc: dict) -> list[dict[str, object]]:
    """Records from the autoencoder stage's nested layout (module docstring)."""
    records: list[dict[str, object]] = []
    table = doc["table2"]
    if not isinstance(table, dict) or not isinstance(table.get("scenarios"), dict):
        raise PaperValuesError(f"{path}: table2.scenarios must be a mapping of scenarios")
    citation = str(table.get("citation") or "Table 2")
    for scenario, entry in table["scenarios"].items():
        if not isinstance(entry, dict):
            raise PaperValuesError(f"{path}: table2.scenarios.{scenario} must be a mapping")
        for quantity in ("test_mse", "msed"):
            if quantity in entry:
                note = table.get("msed_note") if quantity == "msed" else None
                records.append(
                    {"quantity": quantity, "scenario": scenario, "value": entry[quantity],
                     "source": citation, "note": note}
                )  # fmt: skip
    rates = doc.get("firing_rates_final_epoch") or {}
    if not isinstance(rates, dict):
        raise PaperValuesError(f"{path}: firing_rates_final_epoch must be a mapping")
    for noise, block in rates.items():
        if not isinstance(block, dict):
            raise PaperValuesError(f"{path}: firing_rates_final_epoch.{noise} must be a mapping")
        source = str(block.get("citation") or "firing_rates_final_epoch")
        for scenario, layers in block.items():
            if scenario == "citation":
                continue
            if not isinstance(layers, dict):
                raise PaperValuesError(
                    f"{path}: firing_rates_final_epoch.{noise}.{scenario} must map layers"
                )
            for layer, value in layers.items():
                records.append(
                    {"quantity": "firing_rate", "scenario": scenario, "layer": layer,
                     "noise": noise, "value": value, "source": source}
                )  # fmt: skip
    return records


def load_paper_values(path: str | Path) -> PaperValues:
    """Read one paper-values file (format in the module docstring)."""
    path = Path(path)
    empty = pd.DataFrame(columns=list(PAPER_COLUMNS))
    if not path.is_file():
        LOG.warning("%s: no published values (file not found); paper columns stay empty", path)
        return PaperValues(str(path), "", empty, False)
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise PaperValuesError(f"{path}: not valid YAML: {err}") from err
    if isinstance(doc, list):
        doc = {"values": doc}
    if isinstance(doc, dict) and "table2" in doc and "values" not in doc:
        doc = {**doc, "values": _autoencoder_layout(path, doc)}
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
        raise PaperValuesError(
            f"{path}: expected a mapping with a 'values' list of records (or the autoencoder "
            "stage's table2 layout)"
        )
    rows = [_check_record(path, i, record) for i, record in enumerate(doc["values"])]
    frame = pd.DataFrame(rows, columns=list(PAPER_COLUMNS)) if rows else empty
    paper = doc.get("paper") or doc.get("source") or ""
    if isinstance(paper, dict):
        paper = paper.get("file") or paper.get("paper") or ""
    return PaperValues(str(path), str(paper), frame, True)
