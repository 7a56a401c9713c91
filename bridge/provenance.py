"""Provenance stamped on every table and JSON the workflow writes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from importlib import metadata
from typing import Any

from bridge import REPO_ROOT

#: Packages whose versions change numbers; recorded in every provenance block.
TRACKED_PACKAGES = (
    "neuron",
    "brian2",
    "efel",
    "numpy",
    "scipy",
    "pandas",
    "torch",
    "snntorch",
    "snakemake",
)


def config_hash(*parts: Any) -> str:
    """Stable SHA-256 (first 16 hex digits) of JSON-serialisable parts."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def git_commit() -> str:
    """Commit of the working tree, with '-dirty' when it has changes; 'unknown' outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def provenance(config_section: Any, *, timestamp: bool = False) -> dict[str, Any]:
    """Provenance block: git commit, hash of the config that made the output, versions.

    Timestamps are off by default so that reruns give byte-identical files.
    """
    block: dict[str, Any] = {
        "git_commit": git_commit(),
        "config_hash": config_hash(config_section),
        "packages": package_versions(),
    }
    if timestamp:
        block["created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    return block
