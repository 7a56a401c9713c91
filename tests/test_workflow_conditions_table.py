"""Conditions tables as spreadsheet programs save them schedule the same jobs as the plain one.

A UTF-8 table with a byte-order mark and one with CRLF line ends are dry-run through the whole
workflow (`all`, tiny config): the job list (rule and wildcards of every job) must equal the
plain table's. A reserved name stops the workflow before any job, naming its line.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from workflow_helpers import run_snakemake

pytestmark = pytest.mark.workflow

#: A job's header and its wildcards in Snakemake's dry-run listing.
JOB_BLOCK = re.compile(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$", re.M)
UTF8_BOM = b"\xef\xbb\xbf"


def dry_run_jobs(repo_root: Path, workdir: Path, table: bytes) -> list[tuple[str, str]]:
    """Sorted (rule, wildcards) of every job a dry run of `all` schedules for ``table``."""
    workdir.mkdir()
    (workdir / "conditions.tsv").write_bytes(table)
    result = run_snakemake(repo_root, workdir, "all", "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    jobs = []
    for rule, body in JOB_BLOCK.findall(result.stdout):
        match = WILDCARDS.search(body)
        jobs.append((rule, match.group(1) if match else ""))
    return sorted(jobs)


def test_bom_and_crlf_tables_give_the_plain_tables_dag(repo_root: Path, tmp_path: Path) -> None:
    plain = (repo_root / "config" / "conditions.tsv").read_bytes()
    expected = dry_run_jobs(repo_root, tmp_path / "plain", plain)
    # Every condition of the table reaches the per-condition stages.
    assert {w for rule, w in expected if rule == "hh_simulate"} == {
        "condition=control",
        "condition=intermediate",
        "condition=hyperexcitable",
    }
    assert len(expected) > 20
    bom_crlf = UTF8_BOM + plain.replace(b"\n", b"\r\n")
    assert dry_run_jobs(repo_root, tmp_path / "bom", UTF8_BOM + plain) == expected
    assert dry_run_jobs(repo_root, tmp_path / "crlf", plain.replace(b"\n", b"\r\n")) == expected
    assert dry_run_jobs(repo_root, tmp_path / "bom_crlf", bom_crlf) == expected


def test_reserved_name_stops_before_any_job(repo_root: Path, tmp_path: Path) -> None:
    shutil.copy(repo_root / "config" / "conditions.tsv", tmp_path / "conditions.tsv")
    with (tmp_path / "conditions.tsv").open("a") as fh:
        fh.write("reference\t0.2\t0.036\t0.0003\t\t\t\t\t\tclashes with the trained arms\n")
    result = run_snakemake(repo_root, tmp_path, "hh_all")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "line 5 (condition 'reference'), column 'name': 'reference' is reserved" in output
    assert not (tmp_path / "results").exists()
