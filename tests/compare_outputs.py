"""Check that two workflow result folders hold the same outputs.

Two uses:
* same commit, two ways of running (.ci/slurm_test.sh: SLURM against local). Tables and JSON
  must be byte-identical; NPZ archives must hold the same arrays (names, dtypes, shapes, values,
  NaN where NaN); any other file must be byte-identical.
* ``--across-commits``: the same config run by two commits, for a change that must not change
  behaviour (a refactor). Only the data files are compared (CSV, TSV, JSON, NPZ); JSON keys that
  record how a run went rather than what it computed (``provenance``, ``timing``) and the
  ``*.provenance.json`` sidecars are left out, as are NPZ provenance arrays, table columns of
  wall-clock seconds (``train_s``), checkpoints, Markdown and HTML (they quote the commit). What is left out is counted in the closing line.

Always excepted, because they legitimately differ between two runs: figures (.png, .svg,
.pdf), logs and benchmarks (folders of those names), and JSON keys that hold a wall-clock
timestamp (TIMESTAMP_KEYS).

Usage: python tests/compare_outputs.py [--across-commits] RESULTS_A RESULTS_B
(exit 0 when equal, 1 otherwise)
"""

from __future__ import annotations

import csv
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FIGURE_SUFFIXES = frozenset({".png", ".svg", ".pdf"})
#: Folders (any depth) whose files record how a run went, not what it computed.
RUN_RECORD_DIRS = frozenset({"logs", "benchmarks"})
#: JSON keys that hold wall-clock time; dropped before the structural comparison.
TIMESTAMP_KEYS = frozenset({"created_utc", "timestamp", "started_utc", "finished_utc"})
#: With --across-commits: JSON keys (and NPZ arrays) that depend on the commit or the
#: machine's speed.
RUN_RECORD_KEYS = frozenset({"provenance", "timing"})
RUN_RECORD_ARRAYS = frozenset({"provenance_json"})
#: With --across-commits: table columns that hold wall-clock seconds.
RUN_RECORD_COLUMNS = frozenset({"train_s"})
#: With --across-commits: the file types compared; sidecars of provenance are left out.
DATA_SUFFIXES = frozenset({".csv", ".tsv", ".json", ".npz"})
PROVENANCE_SIDECAR = ".provenance.json"


def is_excepted(relative: Path) -> bool:
    return relative.suffix.lower() in FIGURE_SUFFIXES or bool(
        RUN_RECORD_DIRS.intersection(relative.parts[:-1])
    )


def is_data_file(relative: Path) -> bool:
    return relative.suffix.lower() in DATA_SUFFIXES and not relative.name.endswith(
        PROVENANCE_SIDECAR
    )


def compared_files(root: Path, across_commits: bool = False) -> set[Path]:
    files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
    kept = {relative for relative in files if not is_excepted(relative)}
    return {p for p in kept if is_data_file(p)} if across_commits else kept


def without_keys(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: without_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [without_keys(v, keys) for v in value]
    return value


def compare_json(a: Path, b: Path, ignored_keys: frozenset[str] = TIMESTAMP_KEYS) -> str | None:
    if a.read_bytes() == b.read_bytes():
        return None
    if without_keys(json.loads(a.read_text()), ignored_keys) == without_keys(
        json.loads(b.read_text()), ignored_keys
    ):
        return None
    return "JSON content differs"


def compare_npz(a: Path, b: Path, ignored: frozenset[str] = frozenset()) -> str | None:
    # allow_pickle=False: object arrays have no business in the workflow's outputs.
    with np.load(a, allow_pickle=False) as za, np.load(b, allow_pickle=False) as zb:
        if sorted(za.files) != sorted(zb.files):
            return f"array names differ: {sorted(za.files)} vs {sorted(zb.files)}"
        for name in sorted(set(za.files) - ignored):
            xa, xb = za[name], zb[name]
            if xa.dtype != xb.dtype or xa.shape != xb.shape:
                return f"array {name!r}: {xa.dtype}{xa.shape} vs {xb.dtype}{xb.shape}"
            nan_ok = xa.dtype.kind in "fc"
            if not np.array_equal(xa, xb, equal_nan=nan_ok):
                return f"array {name!r}: values differ"
    return None


def compare_csv(a: Path, b: Path, ignored: frozenset[str]) -> str | None:
    """Same cells, text for text, once the ``ignored`` columns are dropped."""
    if a.read_bytes() == b.read_bytes():
        return None
    tables = []
    for path in (a, b):
        with open(path, newline="") as fh:
            rows = list(csv.reader(fh))
        keep = [i for i, name in enumerate(rows[0] if rows else []) if name not in ignored]
        tables.append([[row[i] for i in keep if i < len(row)] for row in rows])
    return None if tables[0] == tables[1] else "table cells differ"


def compare_file(a: Path, b: Path, across_commits: bool = False) -> str | None:
    suffix = a.suffix.lower()
    if suffix == ".csv" and across_commits:
        return compare_csv(a, b, RUN_RECORD_COLUMNS)
    if suffix == ".json":
        ignored = TIMESTAMP_KEYS | RUN_RECORD_KEYS if across_commits else TIMESTAMP_KEYS
        return compare_json(a, b, ignored)
    if suffix == ".npz":
        try:
            return compare_npz(a, b, RUN_RECORD_ARRAYS if across_commits else frozenset())
        except (zipfile.BadZipFile, ValueError, OSError) as error:
            return f"unreadable NPZ: {error}"
    return None if a.read_bytes() == b.read_bytes() else "bytes differ"


def compare_trees(
    root_a: Path, root_b: Path, across_commits: bool = False
) -> tuple[list[str], int]:
    """Differences between two result folders, and how many files were compared."""
    files_a = compared_files(root_a, across_commits)
    files_b = compared_files(root_b, across_commits)
    problems = [f"only in {root_a}: {p}" for p in sorted(files_a - files_b)]
    problems += [f"only in {root_b}: {p}" for p in sorted(files_b - files_a)]
    common = sorted(files_a & files_b)
    for relative in common:
        reason = compare_file(root_a / relative, root_b / relative, across_commits)
        if reason is not None:
            problems.append(f"{relative}: {reason}")
    return problems, len(common)


def main(argv: list[str]) -> int:
    across_commits = "--across-commits" in argv[1:]
    args = [a for a in argv[1:] if a != "--across-commits"]
    if len(args) != 2:
        print("\n".join(__doc__.strip().splitlines()[-2:]), file=sys.stderr)
        return 2
    root_a, root_b = Path(args[0]), Path(args[1])
    for root in (root_a, root_b):
        if not root.is_dir():
            print(f"compare_outputs: {root} is not a folder", file=sys.stderr)
            return 2
    problems, n_compared = compare_trees(root_a, root_b, across_commits)
    if n_compared == 0:
        problems.append("no comparable output files")
    for problem in problems:
        print(f"DIFFERENT {problem}")
    if problems:
        return 1
    left_out = ""
    if across_commits:
        n_left = len(compared_files(root_a) - compared_files(root_a, True))
        left_out = f"; {n_left} non-data files not compared (provenance sidecars, checkpoints, …)"
    print(f"compare_outputs: {n_compared} files equal ({root_a} vs {root_b}){left_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
