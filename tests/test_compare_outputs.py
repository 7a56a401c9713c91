"""The output checker (tests/compare_outputs.py) tells equal from different, in both modes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

CHECKER = Path(__file__).resolve().parent / "compare_outputs.py"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compare_outputs", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_tree(root: Path, *, rate: float = 12.5, created: str = "2026-01-01T00:00:00") -> Path:
    folder = root / "hh" / "control"
    folder.mkdir(parents=True)
    (folder / "fi_curve.csv").write_text(f"amp_nA,rate_hz\n0.01,{rate}\n")
    summary = {"rate_hz": rate, "provenance": {"git_commit": "abc", "created_utc": created}}
    (folder / "summary.json").write_text(json.dumps(summary))
    np.savez_compressed(folder / "traces.npz", v_mV=np.array([-65.0, np.nan, rate]))
    (root / "logs").mkdir()
    (root / "logs" / "run.log").write_text(f"started {created}\n")
    (root / "hh" / "overview.png").write_bytes(created.encode())
    return root


def test_equal_runs_pass_despite_figures_logs_timestamps_and_npz_packing(
    checker: ModuleType, tmp_path: Path
) -> None:
    a = write_tree(tmp_path / "a")
    b = write_tree(tmp_path / "b", created="2026-01-01T00:00:09")
    # Same arrays, other archive bytes (stored instead of deflated).
    np.savez(b / "hh/control/traces.npz", v_mV=np.array([-65.0, np.nan, 12.5]))
    assert (a / "hh/control/traces.npz").read_bytes() != (b / "hh/control/traces.npz").read_bytes()
    problems, n_compared = checker.compare_trees(a, b)
    assert problems == []
    assert n_compared == 3
    assert checker.main(["x", str(a), str(b)]) == 0


def test_a_changed_number_is_found_in_every_format(checker: ModuleType, tmp_path: Path) -> None:
    a = write_tree(tmp_path / "a")
    b = write_tree(tmp_path / "b", rate=12.75)
    problems, _ = checker.compare_trees(a, b)
    assert sorted(p.split(":")[0] for p in problems) == [
        "hh/control/fi_curve.csv",
        "hh/control/summary.json",
        "hh/control/traces.npz",
    ]
    assert checker.main(["x", str(a), str(b)]) == 1


def test_missing_file_and_changed_dtype_are_found(checker: ModuleType, tmp_path: Path) -> None:
    a = write_tree(tmp_path / "a")
    b = write_tree(tmp_path / "b")
    (b / "hh/control/fi_curve.csv").unlink()
    np.savez_compressed(b / "hh/control/traces.npz", v_mV=np.array([-65.0, np.nan, 12.5], "f4"))
    problems, _ = checker.compare_trees(a, b)
    assert f"only in {a}: hh/control/fi_curve.csv" in problems
    assert any(p.startswith("hh/control/traces.npz: array 'v_mV': float64") for p in problems)


def test_empty_results_are_not_a_pass(checker: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert checker.main(["x", str(tmp_path / "a"), str(tmp_path / "b")]) == 1


def test_across_commits_ignores_provenance_and_timing_but_not_numbers(
    checker: ModuleType, tmp_path: Path
) -> None:
    a = write_tree(tmp_path / "a")
    b = write_tree(tmp_path / "b")
    for root, commit, seconds in ((a, "abc", 1.5), (b, "def", 9.0)):
        metrics = {"r2": 0.9, "timing": {"total_s": seconds}, "provenance": {"git_commit": commit}}
        (root / "hh/control/metrics.json").write_text(json.dumps(metrics))
        (root / "hh/control/fi_curve.provenance.json").write_text(json.dumps({"c": commit}))
        (root / "hh/control/checkpoint.pt").write_bytes(commit.encode())
        np.savez(
            root / "hh/control/traces.npz",
            v_mV=np.array([-65.0, np.nan, 12.5]),
            provenance_json=np.array(json.dumps({"git_commit": commit})),
        )
    # Same commit required: provenance, sidecar and checkpoint differ.
    assert checker.main(["x", str(a), str(b)]) == 1
    problems, n_compared = checker.compare_trees(a, b, across_commits=True)
    assert problems == []
    assert n_compared == 4  # fi_curve.csv, summary.json, traces.npz, metrics.json
    assert checker.main(["x", "--across-commits", str(a), str(b)]) == 0
    (a / "hh/control/summary.csv").write_text("model,r2,train_s\nmtc,0.9,12.5\n")
    (b / "hh/control/summary.csv").write_text("model,r2,train_s\nmtc,0.9,99.0\n")
    assert checker.main(["x", "--across-commits", str(a), str(b)]) == 0
    (b / "hh/control/summary.csv").write_text("model,r2,train_s\nmtc,0.8,12.5\n")
    assert checker.main(["x", "--across-commits", str(a), str(b)]) == 1
    (b / "hh/control/summary.csv").write_text("model,r2,train_s\nmtc,0.9,12.5\n")
    (b / "hh/control/metrics.json").write_text(
        json.dumps({"r2": 0.91, "timing": {"total_s": 9.0}, "provenance": {}})
    )
    assert checker.main(["x", "--across-commits", str(a), str(b)]) == 1
