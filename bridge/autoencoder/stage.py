"""One run of the autoencoder stage as the workflow calls it: resolve the scenario, then train
(:func:`bridge.autoencoder.train.train_run`) or, for a skipped condition, write why.

A skipped run writes the same two files a trained run writes, so the workflow's outputs exist:
``metrics.json`` with ``status: "skipped"``, the reason and provenance but no metric (no NaN
anywhere), and a ``features.npz`` holding only ``status`` and ``reason``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bridge.autoencoder.scenarios import resolve_scenario
from bridge.autoencoder.train import FEATURES_FILE, METRICS_FILE, RunConfig, train_run
from bridge.contracts import AutoencoderMetrics, write_run_metrics
from bridge.io import write_npz
from bridge.provenance import provenance

log = logging.getLogger(__name__)

SKIPPED = "skipped"


def write_skipped_run(
    out_dir: str | Path,
    record: Mapping[str, Any],
    reason: str,
    config_section: Mapping[str, Any],
) -> dict[str, Any]:
    """The files of a run that is not trained: status, reason, provenance; no metrics."""
    out_dir = Path(out_dir)
    metrics = {**record, "status": SKIPPED, "reason": reason}
    metrics["provenance"] = provenance({"autoencoder": dict(config_section), **record})
    write_npz(out_dir / FEATURES_FILE, status=np.array(SKIPPED), reason=np.array(reason))
    write_run_metrics(out_dir / METRICS_FILE, metrics, AutoencoderMetrics)
    log.warning("scenario %r skipped: %s", record.get("scenario"), reason)
    return metrics


def run_scenario(
    section: Mapping[str, Any],
    scenario: str,
    sigma: float,
    seed: int,
    out_dir: str | Path,
    *,
    mapping_path: str | Path | None = None,
    gnabar: float | None = None,
    num_threads: int | None = None,
) -> dict[str, Any]:
    """Train (or skip) one run of ``scenario`` at noise ``sigma`` and ``seed`` into ``out_dir``.

    ``section`` is the config's ``autoencoder`` section (or a training rule's part of it); a
    condition scenario (``cond_<c>``) reads only ``mapping_path``, a label arm
    (``cond_<c>.label``) only ``gnabar`` (its conditions-table row; else the section's
    ``label_gnabar``, where the workflow puts it). ``num_threads`` (the workflow's thread
    count) overrides the section's ``num_threads``. Returns the metrics written to
    ``out_dir/metrics.json``.
    """
    resolved = resolve_scenario(section, scenario, mapping_path, gnabar=gnabar)
    run_cfg = RunConfig.from_config(section, scenario=scenario, sigma=sigma, seed=seed)
    if num_threads:
        run_cfg = replace(run_cfg, num_threads=int(num_threads))
    record = {**resolved.describe(), "sigma": run_cfg.sigma, "seed": run_cfg.seed}
    if resolved.skipped:
        assert resolved.skip_reason is not None
        return write_skipped_run(out_dir, record, resolved.skip_reason, section)
    assert resolved.params is not None
    log.info("scenario %r from %s: %s", scenario, resolved.source, resolved.params)
    return train_run(run_cfg, resolved.params, out_dir, extra=record)
