"""The whole workflow (`all`) on the tiny config, then a new conditions row as a user adds it.

The end-to-end run is real (NEURON, Brian2, the fits, snntorch and torch training, compare);
the new row is checked with a dry run: exactly the new condition's jobs are scheduled through
every stage (HH -> mapping -> autoencoder -> regressor -> compare), plus the tables and
figures that span all conditions, and nothing already computed for the other conditions.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from workflow_helpers import run_snakemake, scheduled_jobs

from bridge.config import load_config
from tests.test_contracts import round_trip_problems

pytestmark = pytest.mark.workflow

NEW_ROW = "extra\t0.5\t0.036\t0.0003\t\t\t\t\t\tadded by a test\n"
#: Rules that run once per condition (or per condition-derived scenario) and their run keys.
PER_CONDITION_RULES = {"hh_simulate", "hh_crosscheck", "mapping_condition", "mapping_nir",
                       "autoencoder_condition_run", "autoencoder_msel",
                       "regressor_condition"}  # fmt: skip
#: Rules whose single job spans every condition: a new row must re-run them.
ACROSS_CONDITIONS = {"hh_figure", "mapping_collect", "autoencoder_summary", "autoencoder_figures",
                     "regressor_summary", "compare_collect", "compare_conditions",
                     "compare_stats", "compare_paper", "compare_summary", "compare_figures",
                     "all"}  # fmt: skip
#: A job's header and its wildcards in Snakemake's dry-run listing.
JOB_BLOCK = re.compile(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", re.M | re.S)
WILDCARDS = re.compile(r"^\s+wildcards: (.*)$", re.M)


@pytest.fixture(scope="module")
def full_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("wf_all")
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    result = run_snakemake(repo_root, workdir, "all")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_all_ends_with_the_summary_and_every_stage(full_run: Path) -> None:
    results = full_run / "results"
    summary = (results / "summary.md").read_text()
    for name in ("control", "intermediate", "hyperexcitable"):
        assert name in summary
        assert (results / "mapping" / f"{name}.json").is_file()
        assert (results / "autoencoder" / f"cond_{name}" / "sigma0" / "seed123").is_dir()
        assert (results / "regressor" / name / "mtc" / "seed1" / "metrics.json").is_file()
    assert (results / "compare" / "conditions.csv").is_file()


def test_every_stage_file_round_trips_through_its_contract(full_run: Path) -> None:
    # 3 HH summaries + 3 f-I tables + 3 mapping records + autoencoder and regressor runs.
    checked, problems = round_trip_problems(full_run / "results")
    assert checked >= 9 + 10 and problems == []


def test_nothing_left_to_do_after_all(repo_root: Path, full_run: Path) -> None:
    result = run_snakemake(repo_root, full_run, "all", "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_new_row_schedules_only_its_own_jobs(repo_root: Path, full_run: Path) -> None:
    table = full_run / "conditions.tsv"
    original = table.read_text()
    try:
        table.write_text(original + NEW_ROW)
        result = run_snakemake(repo_root, full_run, "all", "--dry-run")
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        output = result.stdout + result.stderr
    finally:
        table.write_text(original)
    jobs = scheduled_jobs(output)
    config = load_config(
        [repo_root / "config" / "config.yaml", repo_root / "tests" / "configs" / "tiny.yaml"]
    )
    ae, reg = config["autoencoder"], config["regressor"]
    # One autoencoder arm per offset mode (cond_extra, cond_extra.frozen), each with its MSEl.
    n_arms = len(ae["condition_offsets"])
    n_ae_runs = len(ae["noise"]["sigmas"]) * len(ae["seeds"]) * n_arms
    expected = {
        "hh_simulate": 1,
        "hh_crosscheck": 1,
        "mapping_condition": 1,
        "mapping_nir": 1,
        "autoencoder_condition_run": n_ae_runs,
        "autoencoder_msel": n_arms,
        "regressor_condition": 2 * len(reg["seeds"]),  # MTC and LIF
        **{rule: 1 for rule in ACROSS_CONDITIONS},
    }
    assert jobs == expected, jobs
    # Every per-condition job is the new condition's (no existing condition re-runs).
    for rule, body in JOB_BLOCK.findall(output):
        if rule in PER_CONDITION_RULES:
            wildcards = WILDCARDS.search(body)
            assert wildcards and "extra" in wildcards.group(1), (rule, body)
