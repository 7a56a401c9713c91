"""The regressor stage runs through Snakemake on a tiny config from hand-made mapping JSONs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bridge.config import load_config
from bridge.io import write_json
from bridge.neurons.registry import CONDITION_MODELS, MODEL_NAMES
from tests.regressor_fixtures import mapping_json
from tests.workflow_helpers import run_snakemake, scheduled_jobs

pytestmark = pytest.mark.workflow

CONDITIONS = ["control", "intermediate", "hyperexcitable"]
#: Only the regressor stage's rules run: the mapping JSONs are given, not rebuilt.
REGRESSOR_RULES = ["regressor_condition", "regressor_reference", "regressor_regimes",
                   "regressor_summary", "regressor_all"]  # fmt: skip


def _workdir_with_mappings(repo_root: Path, workdir: Path) -> Path:
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    for name in CONDITIONS:
        usable = name != "hyperexcitable"
        write_json(
            workdir / "results" / "mapping" / f"{name}.json",
            mapping_json(
                name, use_downstream=usable, status="ok" if usable else "spontaneous_only"
            ),
        )
    return workdir


def test_dag_has_a_trained_arm_per_model_and_seed(
    repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    workdir = _workdir_with_mappings(repo_root, tmp_path_factory.mktemp("wf_regressor_dry"))
    result = run_snakemake(repo_root, workdir, "--allowed-rules", *REGRESSOR_RULES, "--dry-run",
                           "--", "regressor_all")  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    output = result.stdout + result.stderr
    n_seeds = len(load_config([repo_root / "config" / "config.yaml",
                               repo_root / "tests" / "configs" / "tiny.yaml"])["regressor"]["seeds"])  # fmt: skip
    assert scheduled_jobs(output) == {
        "regressor_condition": len(CONDITIONS) * len(CONDITION_MODELS) * n_seeds,
        "regressor_reference": len(MODEL_NAMES) * n_seeds,  # MTC, LIF, AdLIF trained
        "regressor_regimes": 1,
        "regressor_summary": 1,
        "regressor_all": 1,
    }
    for model in MODEL_NAMES:
        assert f"results/regressor/reference/{model}/seed1/metrics.json" in output


@pytest.fixture(scope="module")
def regressor_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = _workdir_with_mappings(repo_root, tmp_path_factory.mktemp("wf_regressor"))
    result = run_snakemake(
        repo_root, workdir, "--allowed-rules", *REGRESSOR_RULES, "--", "regressor_all"
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_every_run_and_the_summary(regressor_run: Path) -> None:
    root = regressor_run / "results" / "regressor"
    for name in CONDITIONS:
        for model in CONDITION_MODELS:
            metrics = json.loads((root / name / model / "seed1" / "metrics.json").read_text())
            expected = "skipped" if name == "hyperexcitable" else "ok"
            assert metrics["status"] == expected, (name, model)
            assert metrics["provenance"]["config_hash"]
    for model in MODEL_NAMES:  # the trained arms
        trained = json.loads((root / "reference" / model / "seed1" / "metrics.json").read_text())
        assert trained["status"] == "ok" and trained["headline"]["r2_one_step"] is not None
        assert trained["neuron"]["frozen"] is False and trained["neuron"]["trained_parameters"]
    table = pd.read_csv(root / "summary" / "summary.csv")
    assert len(table) == 9 and table["n_skipped"].sum() == 2
    trained_rows = table[table["arm"] == "trained"]
    assert dict(zip(trained_rows["model"], trained_rows["paper_r2"], strict=True)) == {
        "mtc": 0.988, "lif": 0.66, "adlif": 0.982}  # fmt: skip
    assert table[table["arm"] == "mapped"]["paper_r2"].isna().all()
    for figure in ("mtc_regimes", "predictions", "accuracy_vs_sparsity"):
        assert (root / "figures" / f"{figure}.png").stat().st_size > 20_000
    log = regressor_run / "results" / "logs" / "regressor" / "control" / "mtc" / "seed1.log"
    assert "epoch 3/3" in log.read_text()
    assert (regressor_run / "results" / "benchmarks" / "regressor" / "summary.tsv").exists()
