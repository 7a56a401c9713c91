"""Mapping stage on real (tiny-protocol) HH outputs: the contract, hard cases, determinism.

The HH stage runs NEURON for three conditions: control (silent at rest, blocks at the top
of the tiny grid), hyperexcitable (fires at rest) and gnabar 0 (never fires). The gnabar-0
cell runs on the tiny grid without its top segment: from ~80 uA/cm2 its passive response
alone crosses the -20 mV spike threshold once, which is a (single-"spike") response, not
the never-firing case.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bridge.config import Condition, load_config
from bridge.contracts import MappingInputError
from bridge.hh.stage import run_condition as run_hh
from bridge.mapping.stage import collect, run_condition, run_reference
from bridge.neurons.mtc import MTCParams

CONDITIONS = (
    Condition("control", 0.12, 0.036, 0.0003),
    Condition("hyperexcitable", 1.0, 0.036, 0.0003),
    Condition("nona", 0.0, 0.036, 0.0003, description="no sodium: never fires"),
)
#: docs/contracts.md, mapping stage: keys of results/mapping/{condition}.json
CONDITION_KEYS = (
    "condition", "gnabar", "status", "use_downstream", "downstream_rule", "dt_ms",
    "mtc_time_unit_ms", "beta_analytic", "beta_analytic_label", "beta_membrane", "beta_fit",
    "tau_fit_ms", "bias_fit", "w_per_nA", "alpha_syn", "alpha_source", "beta_syn",
    "objective", "converged", "intervals", "tradeoff", "residuals", "mtc", "provenance",
)  # fmt: skip
MTC_REPORT_KEYS = ("objective", "converged", "status", "intervals", "residuals")


def _no_nan(token: str) -> None:
    raise AssertionError(f"non-finite JSON value {token}")


def load(path: Path) -> dict:
    return json.loads(path.read_text(), parse_constant=_no_nan)


@pytest.fixture(scope="module")
def config(repo_root: Path) -> dict:
    return load_config(
        [repo_root / "config" / "config.yaml", repo_root / "tests/configs/tiny.yaml"]
    )


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory, config: dict) -> Path:
    root = tmp_path_factory.mktemp("mapping")
    low_grid = copy.deepcopy(config["hh"])
    low_grid["steps"]["amp_segments_uA_cm2"] = low_grid["steps"]["amp_segments_uA_cm2"][:1]
    for condition in CONDITIONS:
        hh = low_grid if condition.name == "nona" else config["hh"]
        run_hh(condition, hh, root / "hh" / condition.name)
    run_reference(root / "hh" / "control", config, root / "mapping" / "reference.json")
    for condition in CONDITIONS:
        run_condition(
            condition,
            root / "hh" / condition.name,
            root / "mapping" / "reference.json",
            config,
            root / "mapping" / f"{condition.name}.json",
        )
    return root


def test_reference_json_holds_the_fixed_gains(stage: Path) -> None:
    ref = load(stage / "mapping" / "reference.json")
    assert ref["reference_condition"] == "control"
    assert ref["lif"]["w_per_nA"] > 0 and ref["lif"]["status"]
    for key in ("input_scale", "input_offset", "a_slow_pos", "status", "objective"):
        assert key in ref["mtc"], key
    assert ref["mtc"]["input_scale"] > 0
    assert ref["provenance"]["config_hash"] and ref["provenance"]["git_commit"]


def test_every_condition_json_has_the_contract(stage: Path, config: dict) -> None:
    ref = load(stage / "mapping" / "reference.json")
    for condition in CONDITIONS:
        d = load(stage / "mapping" / f"{condition.name}.json")
        for key in CONDITION_KEYS:
            assert key in d, (condition.name, key)
        assert d["condition"] == condition.name and d["gnabar"] == condition.gnabar
        assert d["dt_ms"] == config["mapping"]["dt_ms"]
        assert d["mtc_time_unit_ms"] == config["mapping"]["mtc_time_unit_ms"]
        assert d["alpha_source"] == "fixed" and d["beta_syn"] == d["beta_fit"]
        assert d["w_per_nA"] == ref["lif"]["w_per_nA"]
        mtc = d["mtc"]
        for name in MTCParams.__dataclass_fields__:
            assert isinstance(mtc[name], float), (condition.name, name)
        for key in MTC_REPORT_KEYS:
            assert key in mtc, (condition.name, key)
        # the reference's input map and slow gain, held fixed
        for key in ("input_scale", "input_offset", "a_slow_pos"):
            assert mtc[key] == ref["mtc"][key]
        assert mtc["dt"] == config["mapping"]["mtc"]["dt"]
        if d["beta_membrane"] is None:
            assert d["beta_membrane_detail"]["reason"]


def test_statuses_follow_the_hh_cell(stage: Path) -> None:
    control = load(stage / "mapping" / "control.json")
    hyper = load(stage / "mapping" / "hyperexcitable.json")
    nona = load(stage / "mapping" / "nona.json")
    assert control["hh"]["spontaneous"] is False and hyper["hh"]["spontaneous"] is True
    assert "spontaneous" in hyper["status_flags"] and "spontaneous" in hyper["mtc"]["status_flags"]
    # gnabar 0: complete JSON, both mappings skipped downstream, by the documented rule
    assert nona["status"] == "never_fires" and not nona["use_downstream"]
    assert nona["mtc"]["status"] == "never_fires" and not nona["mtc"]["use_downstream"]
    assert (
        "never_fires" in nona["downstream_rule"] and "never_fires" in nona["mtc"]["downstream_rule"]
    )
    assert max(nona["mtc"]["residuals"]["rate_mtc_hz"]) == 0.0
    assert nona["beta_analytic"] == 1.0  # exp(-0)


def test_condition_json_is_deterministic(stage: Path, config: dict, tmp_path: Path) -> None:
    again = tmp_path / "control.json"
    run_condition(
        "control", stage / "hh" / "control", stage / "mapping" / "reference.json", config, again
    )
    assert again.read_bytes() == (stage / "mapping" / "control.json").read_bytes()


def test_collect_writes_table_summary_and_figures(stage: Path) -> None:
    out = stage / "mapping"
    jsons = [out / f"{c.name}.json" for c in CONDITIONS]
    figs = out / "figures"
    collect(
        jsons, out / "mappings.csv", [figs / "fi.png"], [figs / "curves.png"], out / "summary.json"
    )
    table = pd.read_csv(out / "mappings.csv", keep_default_na=False)
    assert list(table["condition"]) == [c.name for c in CONDITIONS]
    assert "nan" not in (out / "mappings.csv").read_text().lower()
    for column in ("beta_fit", "bias_fit", "a_fast", "i_bias", "lif_status", "mtc_status",
                   "beta_trend_same_direction", "lif_objective", "mtc_objective"):  # fmt: skip
        assert column in table.columns, column
    nona = table.set_index("condition").loc["nona"]
    assert not nona["lif_use_downstream"] and not nona["mtc_use_downstream"]
    summary = load(out / "summary.json")
    # the trend needs two usable conditions: control and hyperexcitable
    assert summary["beta_trend"]["n_conditions_used"] == 2
    assert summary["beta_trend"]["skipped"] == {"nona": "never_fires"}
    sidecar = load(out / "mappings.provenance.json")
    assert sidecar["table"] == "mappings.csv" and sidecar["config_hash"]
    for name in ("fi.png", "curves.png"):
        assert (figs / name).stat().st_size > 20_000


def test_bad_inputs_fail_early_naming_the_file(stage: Path, config: dict, tmp_path: Path) -> None:
    ref = stage / "mapping" / "reference.json"
    with pytest.raises(MappingInputError, match="summary.json: key 'condition' is 'control'"):
        run_condition("hyperexcitable", stage / "hh" / "control", ref, config, tmp_path / "x.json")
    with pytest.raises(MappingInputError, match="fi_curve.csv: missing"):
        run_condition("control", tmp_path, ref, config, tmp_path / "x.json")
    changed = json.loads(json.dumps(config))
    changed["mapping"]["alpha_syn"] = 0.5
    with pytest.raises(MappingInputError, match="config_hash.*rerun the reference"):
        run_condition("control", stage / "hh" / "control", ref, changed, tmp_path / "x.json")
    broken = tmp_path / "reference.json"
    shutil.copy(ref, broken)
    payload = json.loads(broken.read_text())
    payload["lif"]["w_per_nA"] = -1.0
    broken.write_text(json.dumps(payload))
    with pytest.raises(MappingInputError, match="lif.w_per_nA"):
        run_condition("control", stage / "hh" / "control", broken, config, tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()
