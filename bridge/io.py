"""Atomic writers for the stage contracts: JSON, CSV (with a provenance sidecar), NPZ.

Every writer goes through a temporary file in the target folder and an atomic rename,
so a killed job never leaves a complete-looking, half-written output.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

_FILE_MODE = 0o666


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; outputs get the usual permissions under the user's umask.
        os.chmod(tmp_path, _FILE_MODE & ~_current_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays to Python; non-finite floats become None (JSON null)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | Path, payload: Mapping[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(to_jsonable(payload), indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path) -> dict[str, Any]:
    with open(path) as fh:
        return json.load(fh)


def provenance_sidecar(path: str | Path) -> Path:
    """Where the provenance of a CSV lives: ``table.csv`` -> ``table.provenance.json``."""
    path = Path(path)
    return path.with_name(path.stem + ".provenance.json")


def write_csv(
    path: str | Path, frame: pd.DataFrame, provenance: Mapping[str, Any] | None = None
) -> None:
    """Write a CSV (NaN as empty cells); provenance goes to a JSON sidecar beside it."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, na_rep="", float_format="%.10g")
    if provenance is not None:
        write_json(provenance_sidecar(path), {"table": Path(path).name, **provenance})


def write_npz(path: str | Path, **arrays: Any) -> None:
    """Compressed NPZ, written atomically. Put units in the key names (``v_mV``, ``t_ms``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
