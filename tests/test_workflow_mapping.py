"""The mapping stage runs through Snakemake on the tiny config in a temporary folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from workflow_helpers import run_snakemake, scheduled_jobs

pytestmark = pytest.mark.workflow

NAMES = ("control", "intermediate", "hyperexcitable")


def _no_nan(token: str) -> None:
    raise AssertionError(f"non-finite JSON value {token}")


@pytest.fixture(scope="module")
def mapping_run(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("wf_mapping")
    shutil.copy(repo_root / "config" / "conditions.tsv", workdir / "conditions.tsv")
    result = run_snakemake(repo_root, workdir, "mapping_all")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return workdir


def test_every_condition_has_a_complete_mapping(mapping_run: Path) -> None:
    out = mapping_run / "results" / "mapping"
    ref = json.loads((out / "reference.json").read_text(), parse_constant=_no_nan)
    assert ref["reference_condition"] == "control"
    for name in NAMES:
        d = json.loads((out / f"{name}.json").read_text(), parse_constant=_no_nan)
        assert d["condition"] == name
        for key in ("beta_analytic", "beta_fit", "alpha_syn", "beta_syn", "objective",
                    "converged", "status", "use_downstream", "mtc", "provenance"):  # fmt: skip
            assert key in d, (name, key)
        assert d["mtc"]["input_scale"] == ref["mtc"]["input_scale"]
        for key in ("a_fast", "i_bias", "objective", "converged", "status", "dt"):
            assert key in d["mtc"], (name, key)
        assert d["provenance"]["config_hash"] == ref["provenance"]["config_hash"]
    hyper = json.loads((out / "hyperexcitable.json").read_text())
    assert hyper["hh"]["spontaneous"] is True and "spontaneous" in hyper["status_flags"]
    assert (mapping_run / "results/logs/mapping_condition/control.log").is_file()
    assert (mapping_run / "results/benchmarks/mapping_reference.tsv").is_file()


def test_mappings_table_and_figures(mapping_run: Path) -> None:
    out = mapping_run / "results" / "mapping"
    text = (out / "mappings.csv").read_text()
    assert "nan" not in text.lower()
    table = pd.read_csv(out / "mappings.csv")
    assert list(table["condition"]) == list(NAMES)
    assert table["beta_fit"].between(0, 1, inclusive="neither").all()
    assert (table["a_fast"] < -1).all()
    assert table["beta_trend_same_direction"].notna().all()
    summary = json.loads((out / "summary.json").read_text(), parse_constant=_no_nan)
    assert summary["conditions"] == list(NAMES)
    for name in ("mapping_fi", "mapping_curves"):
        assert (out / "figures" / f"{name}.png").stat().st_size > 20_000
        assert (out / "figures" / f"{name}.svg").is_file()


def test_nir_export_per_condition(mapping_run: Path) -> None:
    """A graph exactly for the usable LIF mappings; every condition has its sidecar."""
    out = mapping_run / "results" / "mapping"
    for name in NAMES:
        record = json.loads((out / f"{name}.json").read_text())
        sidecar = json.loads((out / "nir" / name / "export.json").read_text())
        assert sidecar["exported"] is record["use_downstream"], name
        assert (out / "nir" / name / "lif.nir").is_file() is record["use_downstream"], name
        if record["use_downstream"]:
            assert sidecar["parameters"]["beta"] == record["beta_fit"]
            assert sidecar["parameters"]["tau_exact_ms"] == pytest.approx(record["tau_fit_ms"])
        else:
            assert record["status"] in sidecar["reason"]
    assert (mapping_run / "results/logs/mapping_nir/control.log").is_file()


def test_new_condition_schedules_only_its_own_mapping(repo_root: Path, mapping_run: Path) -> None:
    """Adding a row re-runs nothing of the existing conditions (dry run after the full run)."""
    table = mapping_run / "conditions.tsv"
    original = table.read_text()
    try:
        table.write_text(original + "extra\t0.5\t0.036\t0.0003\t\t\t\t\t\tadded by a test\n")
        result = run_snakemake(repo_root, mapping_run, "mapping_all", "--dry-run")
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        jobs = scheduled_jobs(result.stdout + result.stderr)
        # the new condition's HH run and mapping, the table across conditions, the target
        expected = {"hh_simulate": 1, "mapping_condition": 1, "mapping_nir": 1,
                    "mapping_collect": 1}  # fmt: skip
        assert jobs == {**expected, "mapping_all": 1}, jobs
        assert "results/mapping/extra.json" in result.stdout + result.stderr
    finally:
        table.write_text(original)
