"""The HH stage of the workflow runs through Snakemake on a tiny config in a temporary folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from workflow_helpers import run_snakemake

pytestmark = pytest.mark.workflow


@pytest.fixture(scope="module")
def hh_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("wf")
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    result = run_snakemake(repo_root, workdir, "hh_all")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_hh_outputs_for_every_condition(hh_run: Path) -> None:
    for name in ["control", "intermediate", "hyperexcitable"]:
        folder = hh_run / "results" / "hh" / name
        fi = pd.read_csv(folder / "fi_curve.csv")
        assert {"amp_nA", "amp_uA_cm2", "spike_count", "n_spikes", "rate_hz"} <= set(fi.columns)
        assert np.allclose(fi["amp_nA"], fi["amp_uA_cm2"] * 1e-3)
        assert not fi[["spike_count", "rate_hz"]].isna().any().any()
        features = pd.read_csv(folder / "features.csv")
        assert len(features) >= len(fi)
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["provenance"]["config_hash"]
        crosscheck = pd.read_csv(folder / "crosscheck.csv")
        assert crosscheck["ok"].all()
        with np.load(folder / "traces.npz") as traces:
            assert traces["v_mV"].shape[0] == len(fi)
    control = json.loads((hh_run / "results/hh/control/summary.json").read_text())
    hyper = json.loads((hh_run / "results/hh/hyperexcitable/summary.json").read_text())
    assert control["spontaneous"] is False and hyper["spontaneous"] is True
    assert (hh_run / "results/hh/figures/hh_overview.png").stat().st_size > 10_000


def test_bad_conditions_row_stops_before_any_job(repo_root: Path, tmp_path: Path) -> None:
    table = (repo_root / "config" / "conditions.tsv").read_text()
    (tmp_path / "conditions.tsv").write_text(table + "broken\tfast\t0.036\t0.0003\n")
    result = run_snakemake(repo_root, tmp_path, "hh_all")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "line 5 (condition 'broken'), column 'gnabar': 'fast' is not a number" in output
    assert not (tmp_path / "results").exists()
