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
    if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
        raise PaperValuesError(f"{path}: expected a mapping with a 'values' list of records")
    rows = [_check_record(path, i, record) for i, record in enumerate(doc["values"])]
    frame = pd.DataFrame(rows, columns=list(PAPER_COLUMNS)) if rows else empty
    return PaperValues(str(path), str(doc.get("paper", "")), frame, True)
