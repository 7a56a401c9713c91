"""Run the workflow's Snakefile on the tiny test config in a temporary working folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
#: A row of Snakemake's "Job stats" table: rule name and job count.
JOB_STATS_ROW = re.compile(r"^(\w+)\s+(\d+)$")


def run_snakemake(repo_root: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Snakemake on config.yaml + tests/configs/tiny.yaml with workdir/conditions.tsv."""
    cmd = [
        *SNAKEMAKE,
        "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", str(repo_root / "config" / "config.yaml"),
        str(repo_root / "tests" / "configs" / "tiny.yaml"),
        "--config", f"conditions={workdir / 'conditions.tsv'}",
        "--cores", "2",
        *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


def scheduled_jobs(output: str) -> dict[str, int]:
    """Jobs per rule from the "Job stats" table of a (dry) run's output."""
    jobs: dict[str, int] = {}
    in_table = False
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("Job stats"):
            in_table = True
            continue
        match = JOB_STATS_ROW.match(line) if in_table else None
        if match and match.group(1) != "total":
            jobs[match.group(1)] = int(match.group(2))
        elif in_table and match and match.group(1) == "total":
            break
    return jobs
