"""config/conditions_literature.tsv: a valid, selectable table of real NaV variants that runs
through the HH and mapping stages for real (tiny protocol)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bridge.config import load_conditions, load_config
from bridge.hh.stage import run_condition as run_hh
from bridge.mapping.stage import run_condition as run_mapping
from bridge.mapping.stage import run_reference

REPO = Path(__file__).resolve().parents[1]
TABLE = REPO / "config" / "conditions_literature.tsv"
OVERLAY = REPO / "config" / "literature.yaml"


@pytest.fixture(scope="module")
def config() -> dict:
    return load_config(
        [REPO / "config" / "config.yaml", REPO / "tests" / "configs" / "tiny.yaml", OVERLAY]
    )


@pytest.fixture(scope="module")
def conditions():
    return load_conditions(TABLE)


def test_overlay_selects_the_table_and_its_reference_row(config: dict, conditions) -> None:
    assert (REPO / config["conditions"]).resolve() == TABLE
    names = [c.name for c in conditions]
    assert config["mapping"]["reference_condition"] in names
    control = next(c for c in conditions if c.name == config["mapping"]["reference_condition"])
    assert not control.needs_custom_mechanism and control.gene == ""


def test_rows_name_gene_variant_source_and_check_status(conditions) -> None:
    variants = [c for c in conditions if c.gene]
    assert 4 <= len(variants) <= 8
    assert {c.gene for c in variants} >= {"SCN1A", "SCN2A"}
    for c in variants:
        assert c.variant and c.measured_changes and c.source and c.recording_cell, c.name
        assert c.source_checked in ("yes", "no"), c.name
        if c.source_checked == "yes":
            assert c.doi.startswith("10."), c.name
    assert any(c.source_checked == "yes" for c in variants)
    # heterozygous carriers: a mutant population beside the wild type
    assert any(c.mutant_fraction == 0.5 for c in variants)


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, config: dict, conditions) -> Path:
    root = tmp_path_factory.mktemp("literature")
    for condition in conditions:
        run_hh(condition, config["hh"], root / "hh" / condition.name)
    reference = config["mapping"]["reference_condition"]
    run_reference(root / "hh" / reference, config, root / "mapping" / "reference.json")
    for condition in conditions:
        run_mapping(
            condition,
            root / "hh" / condition.name,
            root / "mapping" / "reference.json",
            config,
            root / "mapping" / f"{condition.name}.json",
        )
    return root


def summary(stage: Path, name: str) -> dict:
    return json.loads((stage / "hh" / name / "summary.json").read_text())


def test_every_row_runs_through_hh_and_mapping(stage: Path, conditions) -> None:
    for condition in conditions:
        s = summary(stage, condition.name)
        assert s["mechanism"] == ("hhx" if condition.needs_custom_mechanism else "hh")
        assert s["params"]["mutant_fraction"] == condition.mutant_fraction
        assert s["params"]["m_slope_factor"] == condition.m_slope_factor
        mapping = json.loads((stage / "mapping" / f"{condition.name}.json").read_text())
        assert mapping["condition"] == condition.name


def test_gain_and_loss_of_function_move_the_hh_cell_apart(stage: Path) -> None:
    """R1882Q (activation 6 mV lower in half the channels) is more excitable than the wild
    type; a heterozygous null allele (T1709I, half gnabar) is less excitable."""
    control = summary(stage, "control")
    gain = summary(stage, "SCN2A_R1882Q_het")
    loss = summary(stage, "SCN1A_T1709I_het")
    assert control["rheobase_single_uA_cm2"] is not None
    gain_fires_more = gain["spontaneous"] or (
        gain["rheobase_single_uA_cm2"] < control["rheobase_single_uA_cm2"]
    )
    assert gain_fires_more, gain["rheobase_single_uA_cm2"]
    assert loss["rheobase_single_uA_cm2"] is not None
    assert loss["rheobase_single_uA_cm2"] > control["rheobase_single_uA_cm2"]
    assert not loss["spontaneous"]


def test_conditions_csv_shows_each_rows_defining_parameters(
    stage: Path, config: dict, conditions
) -> None:
    """The comparison's conditions table carries the shifts, slopes, time-constant factors
    and the mutant fraction, so a variant row no longer looks like the control."""
    from bridge.compare.collect import collect_runs
    from bridge.compare.conditions import conditions_table
    from bridge.config.compare import compare_settings

    names = [c.name for c in conditions]
    settings = compare_settings(config, names)
    found = collect_runs(settings, stage)
    table = conditions_table(found.runs, found.gaps, settings).set_index("condition")
    for c in conditions:
        row = table.loc[c.name]
        assert row["m_shift_mV"] == c.m_shift_mV and row["h_shift_mV"] == c.h_shift_mV
        assert row["m_slope_factor"] == pytest.approx(c.m_slope_factor)
        assert row["h_slope_factor"] == pytest.approx(c.h_slope_factor)
        if c.mutant_fraction is None:
            assert (
                row["mutant_fraction"] is None or row["mutant_fraction"] != row["mutant_fraction"]
            )  # empty cell (None or NaN)
        else:
            assert row["mutant_fraction"] == c.mutant_fraction
    # no gap comes from an optional defining parameter (mutant_fraction empty by design)
    hh_gaps = found.gaps[found.gaps["stage"] == "hh"] if len(found.gaps) else found.gaps
    assert "mutant_fraction" not in set(hh_gaps.get("metric", []))
    a1273v = table.loc["SCN1A_A1273V_37C_het"]
    assert a1273v["gnabar"] == table.loc["control"]["gnabar"]
    assert a1273v["m_shift_mV"] != table.loc["control"]["m_shift_mV"]


@pytest.mark.workflow
def test_workflow_dry_run_schedules_every_literature_row(tmp_path: Path) -> None:
    """The whole workflow (`all`, tiny config) accepts the table: every row gets its HH,
    cross-check and mapping jobs, once each."""
    from workflow_helpers import run_snakemake, scheduled_jobs

    (tmp_path / "conditions.tsv").write_bytes(TABLE.read_bytes())
    result = run_snakemake(REPO, tmp_path, "all", "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    jobs = scheduled_jobs(result.stdout)
    n_rows = len(load_conditions(TABLE))
    for rule in ("hh_simulate", "hh_crosscheck", "mapping_condition"):
        assert jobs.get(rule) == n_rows, (rule, jobs)
