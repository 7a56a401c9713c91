"""Published numbers of both papers as one flat record table, built from the stages' loaders.

Each file is parsed in one place, its stage's own loader: ``data/paper_values/autoencoder.yaml``
by :mod:`bridge.autoencoder.paper_values`, ``data/paper_values/regressor.yaml`` by
:mod:`bridge.regressor.paper_values` (their errors, naming the file and key, propagate). This
module turns what they return into records, one per published number, with the columns of
:data:`PAPER_COLUMNS`::

    quantity   autoencoder: test_mse, msed, firing_rate; regressor: r2, smape (percent),
               s_comm, s_comp
    scenario   autoencoder scenario (Table 2's and the quoted layer rates')
    model      regressor model: mtc | lif | adlif
    layer      autoencoder layer of a firing rate
    noise      noiseless | noisy (firing rates)
    statistic  what the paper says the number is (regressor)
    relation   "=" (autoencoder), "~" (approx) or ">" (greater_than)
    value      the number
    source     table, figure or section (the file's citation)
    note       free text (autoencoder MSEd: the file's msed_note)

A regressor number the paper does not report (``value: null``) gives no record. A missing
file is not an error: the paper columns stay empty and a warning says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bridge.autoencoder import paper_values as ae_paper
from bridge.regressor import paper_values as reg_paper

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
#: Stages whose paper-values file the compare stage reads.
STAGES = ("autoencoder", "regressor")
#: The regressor file's relation -> the sign the tables show.
RELATION_SIGNS = {"approx": "~", "greater_than": ">"}


@dataclass(frozen=True)
class PaperValues:
    """The records of one file (empty when the file is missing) and where they came from."""

    path: str
    paper: str
    records: pd.DataFrame
    found: bool


def autoencoder_records(paper: ae_paper.PaperValues) -> list[dict[str, object]]:
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
    paper: Mapping[str, Mapping[str, reg_paper.PaperValue]],
) -> list[dict[str, object]]:
    """Model by model, metric by metric; numbers the paper does not report are left out."""
    return [
        {"quantity": metric, "model": model, "statistic": entry.statistic,
         "relation": RELATION_SIGNS[entry.relation], "value": entry.value, "source": entry.cite}
        for model, metrics in paper.items()
        for metric, entry in metrics.items()
        if entry.value is not None
    ]  # fmt: skip


def load_paper_values(path: str | Path, stage: str) -> PaperValues:
    """The records of ``stage``'s paper-values file (module docstring)."""
    if stage not in STAGES:
        raise ValueError(f"paper values: stage must be one of {STAGES}, got {stage!r}")
    path = Path(path)
    empty = pd.DataFrame(columns=list(PAPER_COLUMNS))
    if not path.is_file():
        LOG.warning("%s: no published values (file not found); paper columns stay empty", path)
        return PaperValues(str(path), "", empty, False)
    if stage == "autoencoder":
        ae = ae_paper.load_paper_values(path)
        rows, paper = autoencoder_records(ae), ae.source
    else:
        rows, paper = regressor_records(reg_paper.load_paper_values(path)), ""
    filled = [
        {**{key: row.get(key) for key in PAPER_COLUMNS}, "relation": row.get("relation", "=")}
        for row in rows
    ]
    frame = pd.DataFrame(filled, columns=list(PAPER_COLUMNS)) if filled else empty
    frame["value"] = frame["value"].astype(float)
    return PaperValues(str(path), paper, frame, True)
