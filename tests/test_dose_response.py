"""The dose-response conditions table (issue 15, part 3): generator, loader, re-balanced rest
(real NEURON), and the workflow's dry run on the quick overlay with per-rule job counts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from workflow_helpers import run_snakemake, scheduled_jobs

from bridge.config import load_config
from bridge.config.dose_response import (
    CONTROL_GNABAR,
    REBALANCED_SUFFIX,
    control_rest_mV,
    write_table,
)
from bridge.config.loading import load_conditions
from hh_models.params import params_from_condition
from hh_models.protocols import check_rest_stability

#: The dose-response run: full config, quick overlay, dose-response overlay.
OVERLAYS = ("config/config.yaml", "config/quick.yaml", "config/dose_response.yaml")
#: The issue's minimum number of gNa points.
MIN_GNA_POINTS = 15
#: Rows run for real through HH and mapping (tiny config): the control, a gNa that fires at
#: rest with el kept, and its re-balanced twin.
REAL_ROWS = ("control", "gna0p4800", "gna0p4800_rb")


@pytest.fixture(scope="module")
def hh_cfg(repo_root: Path) -> dict:
    return load_config([repo_root / "config" / "config.yaml"])["hh"]


@pytest.fixture(scope="module")
def table(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dose") / "conditions.tsv"
    write_table(path, repo_root / "config" / "config.yaml")
    return path


def test_generated_table_matches_the_committed_one(repo_root: Path, table: Path) -> None:
    assert table.read_text() == (repo_root / "config" / "conditions_dose_response.tsv").read_text()


def test_table_has_the_grid_both_leak_variants_and_the_control(table: Path) -> None:
    conditions = load_conditions(table)
    by_name = {c.name: c for c in conditions}
    plain = [c for c in conditions if c.v_rest_mV is None and c.m_shift_mV == 0.0]
    rebalanced = [c for c in conditions if c.v_rest_mV is not None]
    gna_plain = sorted(c.gnabar for c in plain)
    assert len(gna_plain) >= MIN_GNA_POINTS and len(set(gna_plain)) == len(gna_plain)
    # Every gNa point has its re-balanced twin and vice versa.
    assert sorted(c.gnabar for c in rebalanced) == gna_plain
    assert min(gna_plain) <= 0.06 and max(gna_plain) >= 1.0
    control = by_name["control"]
    assert (control.gnabar, control.v_rest_mV, control.m_shift_mV) == (CONTROL_GNABAR, None, 0.0)
    assert all(c.name.endswith(REBALANCED_SUFFIX) for c in rebalanced)
    assert sorted({c.m_shift_mV for c in conditions} - {0.0}) == [-6.0, -3.0, 3.0, 6.0]


def test_rebalanced_rows_rest_where_the_table_says(table: Path, hh_cfg: dict) -> None:
    """Real NEURON: the control's rest holds below gNa 0.2; above, the lowered one does."""
    v_control = control_rest_mV()
    rebalanced = {c.gnabar: c for c in load_conditions(table) if c.v_rest_mV is not None}
    assert rebalanced[CONTROL_GNABAR].v_rest_mV == v_control
    assert rebalanced[max(g for g in rebalanced if g < 0.2)].v_rest_mV == v_control
    rb = hh_cfg["rebalance"]
    for gnabar in (0.1697, 0.96):
        cond = rebalanced[gnabar]
        check = check_rest_stability(
            params_from_condition(cond, hh_cfg),
            float(rb["perturbation_mV"]),
            float(rb["settle_ms"]),
            float(rb["tolerance_mV"]),
            condition_name=cond.name,
        )
        # Unkicked: silent at rest (the +2 mV kick may fire one spike at high gNa, then V
        # comes back: that is all the HH stage's check asks).
        assert check.n_spikes[2] == 0
        np.testing.assert_allclose(check.v_end_mV, cond.v_rest_mV, atol=float(rb["tolerance_mV"]))


def _dry_run(repo_root: Path, workdir: Path, conditions: Path) -> dict[str, int]:
    cmd = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(repo_root / "Snakefile"),
        "--directory", str(workdir),
        "--configfile", *(str(repo_root / p) for p in OVERLAYS),
        "--config", f"conditions={conditions}",
        "--cores", "2", "all", "--dry-run",
        # The cluster profile the overlay's header names: its executor and resources parse.
        "--workflow-profile", str(repo_root / "profiles" / "slurm"),
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return scheduled_jobs(result.stdout + result.stderr)


@pytest.mark.workflow
def test_dry_run_job_counts(repo_root: Path, table: Path, tmp_path: Path) -> None:
    n = len(load_conditions(table))
    one = tmp_path / "one.tsv"
    one.write_text(
        "".join(table.read_text().splitlines(keepends=True)[:1])
        + "".join(
            line
            for line in table.read_text().splitlines(keepends=True)
            if line.startswith("control\t")
        )
    )
    jobs = _dry_run(repo_root, tmp_path / "full", table)
    jobs_one = _dry_run(repo_root, tmp_path / "one", one)
    config = load_config([repo_root / p for p in OVERLAYS])
    ae, reg = config["autoencoder"], config["regressor"]
    n_arms = len(ae["condition_offsets"])
    per_condition = {
        "hh_simulate": 1,
        "hh_crosscheck": 1,
        "mapping_condition": 1,
        "mapping_nir": 1,
        "autoencoder_condition_run": len(ae["noise"]["sigmas"]) * len(ae["seeds"]) * n_arms,
        "autoencoder_msel": n_arms,
        "regressor_condition": 2 * len(reg["seeds"]),  # mapped MTC and LIF
    }
    for rule, count in per_condition.items():
        # Each condition adds exactly its own jobs (the rest is condition-independent).
        assert jobs[rule] - jobs_one[rule] == (n - 1) * count, rule
    for rule in ("hh_simulate", "mapping_condition", "regressor_condition"):
        assert jobs[rule] == n * per_condition[rule], rule
    assert {r: c for r, c in jobs.items() if r not in per_condition} == {
        r: c for r, c in jobs_one.items() if r not in per_condition
    }


def test_overlay_selects_the_table_and_its_control(repo_root: Path) -> None:
    config = load_config([repo_root / p for p in OVERLAYS])
    names = [c.name for c in load_conditions(repo_root / config["conditions"])]
    assert config["conditions"] == "config/conditions_dose_response.tsv"
    assert config["mapping"]["reference_condition"] in names


@pytest.mark.workflow
def test_hh_and_mapping_run_for_real_on_three_rows(
    repo_root: Path, table: Path, tmp_path: Path
) -> None:
    lines = table.read_text().splitlines(keepends=True)
    rows = [line for line in lines[1:] if line.split("\t")[0] in REAL_ROWS]
    (tmp_path / "conditions.tsv").write_text(lines[0] + "".join(rows))
    targets = [f"results/mapping/{name}.json" for name in REAL_ROWS]
    result = run_snakemake(repo_root, tmp_path, *targets)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    hh = {n: json.loads((tmp_path / f"results/hh/{n}/summary.json").read_text()) for n in REAL_ROWS}
    # el kept: fires without input; re-balanced: silent, resting where the table says.
    assert hh["gna0p4800"]["spontaneous"] is True
    assert hh["gna0p4800_rb"]["excitability"] == "silent_at_rest"
    target = next(c for c in load_conditions(tmp_path / "conditions.tsv") if c.name == REAL_ROWS[2])
    assert hh["gna0p4800_rb"]["v_rest_mV"] == pytest.approx(target.v_rest_mV, abs=0.1)
    for name in REAL_ROWS:
        record = json.loads((tmp_path / f"results/mapping/{name}.json").read_text())
        assert record["condition"] == name and record["reference_condition"] == "control"
