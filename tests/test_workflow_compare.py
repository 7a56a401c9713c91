"""The comparison stage through Snakemake (tiny config) on hand-made stage outputs, and the
self-contained report."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import run_snakemake

from bridge.config import load_config
from tests.compare_fixtures import CONDITIONS, write_stage_outputs

pytestmark = pytest.mark.workflow

#: Only the comparison stage runs: every other stage's files are given.
COMPARE_RULES = ["compare_collect", "compare_conditions", "compare_stats", "compare_paper",
                 "compare_summary", "compare_figures", "compare_all"]  # fmt: skip


def tiny_config(repo_root: Path) -> dict:
    return load_config(
        [repo_root / "config" / "config.yaml", repo_root / "tests" / "configs" / "tiny.yaml"]
    )


@pytest.fixture(scope="module")
def compare_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("wf_compare")
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    config = tiny_config(repo_root)
    write_stage_outputs(workdir / "results", config)
    result = run_snakemake(
        repo_root, workdir, "--allowed-rules", *COMPARE_RULES, "--", "compare_all"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_tables_summary_and_figures(repo_root: Path, compare_run: Path) -> None:
    config = tiny_config(repo_root)
    results = compare_run / "results"
    table = pd.read_csv(results / "compare" / "conditions.csv")
    assert list(table["condition"]) == list(CONDITIONS)
    n_ae, n_reg = len(config["autoencoder"]["seeds"]), len(config["regressor"]["seeds"])
    assert (table["ae_test_mse_noiseless_n"] == n_ae).all()
    assert (table["reg_mtc_s_comm_one_step_n"] == n_reg).all() and (table["n_gaps"] <= 3).all()
    summary = (results / "summary.md").read_text()
    for name in CONDITIONS:
        assert f"**{name}**" in summary
    # One seed for the regressor (tiny config): verdicts say they rest on a point estimate.
    assert "point estimate" in summary
    claims = pd.read_csv(results / "compare" / "claims.csv")
    assert set(claims["claim"]) == {"overfiring_degrades", "redistributed_not_raised",
                                    "noise_compensates", "mtc_accurate_sparse",
                                    "beta_follows_label_mapping"}  # fmt: skip
    for name in ("dose_response_parameters", "dose_response_beta"):
        assert (results / "compare" / "figures" / f"{name}.png").stat().st_size > 20_000
        assert (results / "compare" / "figures" / f"{name}.svg").exists()
    assert (results / "logs" / "compare" / "summary.log").read_text()
    assert (results / "benchmarks" / "compare" / "collect.tsv").exists()
    assert (results / "compare" / "conditions.provenance.json").exists()


def test_report_is_self_contained_and_grouped(repo_root: Path, compare_run: Path) -> None:
    result = run_snakemake(repo_root, compare_run, "--allowed-rules", *COMPARE_RULES,
                           "--report", "results/report.html", "--", "compare_all")  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    page = (compare_run / "results" / "report.html").read_text()
    categories = re.search(r"var categories = (\{.*?\});", page)
    assert categories and '"5. Compare": {"All conditions": [' in categories.group(1)
    for item in ("summary.html", "conditions.html", "stats.html", "dose_response_parameters.png",
                 "paper_vs_ours_autoencoder.html"):  # fmt: skip
        assert item in categories.group(1)
    # Everything embedded: no file or network references.
    assert not re.search(r'(src|href)="(http|results/)', page)
    assert page.count("data:text/html") >= 5
