"""Write the regressor stage's summary: the medians table and the two result figures.

Reads every run's ``metrics.json`` and the ``predictions.npz`` beside it; writes the table
(CSV, empty cells for undefined medians, provenance sidecar), the predictions figure (one
row per condition x model at ``trace_seed``, plus the AdLIF reference) and the accuracy
against sparsity figure (every run).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.contracts import read_regressor_metrics
from bridge.io import write_csv
from bridge.paper_values import load_regressor_paper_values
from bridge.provenance import provenance
from bridge.regressor.figures import plot_accuracy_vs_sparsity, plot_predictions
from bridge.regressor.run import PREDICTIONS_NAME
from bridge.regressor.summary import summarise_runs

LOG = logging.getLogger(__name__)


def _load_npz(path: Path) -> dict[str, Any]:
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def write_regressor_summary(
    metrics_paths: Sequence[str | Path],
    condition_order: Sequence[str],
    trace_seed: int,
    config_section: Mapping[str, Any],
    table_path: str | Path,
    predictions_paths: Sequence[str | Path],
    sparsity_paths: Sequence[str | Path],
    paper_values_path: str | Path,
) -> None:
    """Table + figures from the runs' metrics (paths as the workflow lists them) and the
    paper's numbers (``data/paper_values/regressor.yaml``)."""
    paper = load_regressor_paper_values(paper_values_path)
    runs = [read_regressor_metrics(p) for p in metrics_paths]
    table = summarise_runs(runs, paper, condition_order)
    write_csv(table_path, table, provenance({"regressor": dict(config_section)}))
    LOG.info("summary of %d runs in %d rows -> %s", len(runs), len(table), table_path)
    traces = []
    for path, run in zip(metrics_paths, runs, strict=True):
        if run.seed == trace_seed:
            label = f"{run.condition} / {run.model} / seed {run.seed}"
            traces.append((label, _load_npz(Path(path).parent / PREDICTIONS_NAME)))
    if not traces:
        raise ValueError(f"write_regressor_summary: no run has the trace seed {trace_seed}")
    plot_predictions(traces, *predictions_paths)
    plot_accuracy_vs_sparsity(
        [run.to_dict() for run in runs], condition_order, paper, *sparsity_paths
    )
