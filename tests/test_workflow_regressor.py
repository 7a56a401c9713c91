"""The regressor stage runs through Snakemake on a tiny config from hand-made mapping JSONs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bridge.io import write_json
from bridge.neurons.registry import CONDITION_MODELS, REFERENCE_MODEL
from tests.regressor_fixtures import mapping_json
from tests.workflow_helpers import run_snakemake

pytestmark = pytest.mark.workflow

CONDITIONS = ["control", "intermediate", "hyperexcitable"]
#: Only the regressor stage's rules run: the mapping JSONs are given, not rebuilt.
REGRESSOR_RULES = ["regressor_condition", "regressor_reference", "regressor_regimes",
                   "regressor_summary", "regressor_all"]  # fmt: skip


@pytest.fixture(scope="module")
def regressor_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("wf_regressor")
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    for name in CONDITIONS:
        usable = name != "hyperexcitable"
        write_json(
            workdir / "results" / "mapping" / f"{name}.json",
            mapping_json(
                name, use_downstream=usable, status="ok" if usable else "spontaneous_only"
            ),
        )
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
    reference_run = root / "reference" / REFERENCE_MODEL / "seed1"
    reference = json.loads((reference_run / "metrics.json").read_text())
    assert reference["status"] == "ok" and reference["headline"]["r2_one_step"] is not None
    table = pd.read_csv(root / "summary" / "summary.csv")
    assert len(table) == 7 and table["n_skipped"].sum() == 2
    assert set(table["paper_r2"]) == {0.988, 0.66, 0.982}
    for figure in ("mtc_regimes", "predictions", "accuracy_vs_sparsity"):
        assert (root / "figures" / f"{figure}.png").stat().st_size > 20_000
    log = regressor_run / "results" / "logs" / "regressor" / "control" / "mtc" / "seed1.log"
    assert "epoch 3/3" in log.read_text()
    assert (regressor_run / "results" / "benchmarks" / "regressor" / "summary.tsv").exists()
