"""MSEl (the paper's Eq. 10) between two runs' saved feature maps, written as one JSON.

Two kinds, both on the same fixed test batch (the first ``feature_batch_size`` test images,
with the same noise sample for a given seed and sigma):

* ``scenario``: a scenario against the benchmark at the same noise level and seed;
* ``seed_pair`` (the null comparison): the benchmark against itself at two seeds (above
  sigma 0 the two runs' test noise samples differ too, as each seed draws its own). Separately
  trained networks order their channels arbitrarily, so this is the size MSEl takes between two
  equally healthy networks; a scenario's MSEl means something only where it exceeds the null's.

A skipped run (its ``features.npz`` holds ``status: skipped``) gives a record with that status
and no values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bridge.autoencoder.metrics import load_feature_maps, mse_l
from bridge.autoencoder.model import LAYER_NAMES
from bridge.io import write_json
from bridge.provenance import provenance

log = logging.getLogger(__name__)

#: "scenario": against the benchmark; "seed_pair": the null comparison (never the bare word
#: "null", which CSV readers such as pandas take for a missing value).
KINDS = ("scenario", "seed_pair")


def _skip_reason(features_path: Path) -> str | None:
    with np.load(features_path) as data:
        if "status" in data.files:
            return f"{features_path}: run {data['status'].item()} ({data['reason'].item()})"
    return None


def _check_same_inputs(path_a: Path, path_b: Path, *, noisy_too: bool) -> None:
    """Both maps must come from the same test images (and, at one seed, the same noise)."""
    keys = ("input_clean", "input_noisy") if noisy_too else ("input_clean",)
    with np.load(path_a) as fa, np.load(path_b) as fb:
        for key in keys:
            if not np.array_equal(fa[key], fb[key]):
                raise ValueError(f"MSEl: {path_a} and {path_b} differ in '{key}'")


def compare_pair(
    features_path: str | Path,
    reference_path: str | Path,
    *,
    kind: str,
    identity: Mapping[str, Any],
) -> dict[str, Any]:
    """MSEl per layer of run ``features_path`` against ``reference_path``.

    ``identity`` (scenario, reference, sigma, seed, reference_seed) is copied into the record.
    """
    if kind not in KINDS:
        raise ValueError(f"MSEl: kind must be one of {KINDS}, got {kind!r}")
    features_path, reference_path = Path(features_path), Path(reference_path)
    record: dict[str, Any] = {"kind": kind, **identity}
    reasons = [r for r in (_skip_reason(features_path), _skip_reason(reference_path)) if r]
    if reasons:
        record.update(status="skipped", reason="; ".join(reasons), msel=None)
        log.warning("MSEl %s skipped: %s", dict(identity), record["reason"])
    else:
        _check_same_inputs(features_path, reference_path, noisy_too=kind == "scenario")
        values = mse_l(load_feature_maps(features_path), load_feature_maps(reference_path))
        record.update(status="ok", reason=None, msel={n: values[n] for n in LAYER_NAMES})
        log.info("MSEl %s: %s", dict(identity), record["msel"])
    record["sources"] = [str(features_path), str(reference_path)]
    return record


def write_comparisons(
    kind: str,
    features_paths: Sequence[str | Path],
    reference_paths: Sequence[str | Path],
    identities: Sequence[Mapping[str, Any]],
    out_path: str | Path,
) -> dict[str, Any]:
    """MSEl of each (run, reference, identity) triple; one JSON with every record."""
    if not len(features_paths) == len(reference_paths) == len(identities):
        raise ValueError(
            f"MSEl: {len(features_paths)} runs, {len(reference_paths)} references and "
            f"{len(identities)} identities must pair up"
        )
    records = [
        compare_pair(f, r, kind=kind, identity=i)
        for f, r, i in zip(features_paths, reference_paths, identities, strict=True)
    ]
    payload = {
        "kind": kind,
        "layers": list(LAYER_NAMES),
        "comparisons": records,
        "provenance": provenance({"kind": kind, "identities": [dict(i) for i in identities]}),
    }
    write_json(out_path, payload)
    return payload
