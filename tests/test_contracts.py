"""Stage-file contracts: every record re-writes its file byte for byte, a bad field names the
file and the field. :func:`round_trip_problems` checks the real files of a finished run
(tests/test_workflow_all.py calls it on the tiny end-to-end run).
"""

from __future__ import annotations

import copy
import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bridge.contracts import (
    FI_COLUMNS,
    AutoencoderMetrics,
    HHSummary,
    MappingInputError,
    MappingRecord,
    RegressorMetrics,
    StageFileError,
    read_autoencoder_metrics,
    read_fi_curve,
    read_hh_summary,
    read_mapping_record,
    read_regressor_metrics,
    read_stage_json,
    write_fi_curve,
    write_hh_summary,
    write_mapping_record,
    write_run_metrics,
)
from bridge.io import write_csv, write_json
from tests import compare_fixtures, regressor_fixtures

REPO = Path(__file__).resolve().parent.parent


def hh_summary() -> dict[str, Any]:
    """The HH stage's summary dict, every top-level key of the real file."""
    return {
        "condition": "control",
        "description": "test cell",
        "mechanism": "hh",
        "params": {"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, "el_mV": -54.3},
        "v_init_mV": -65.0,
        "spike_threshold_mV": -20.0,
        "protocol": {"delay_ms": 100.0, "duration_ms": 800.0, "n_sweeps": 3},
        "rheobase_single_uA_cm2": 2.5,
        "rheobase_single_nA": 0.0025,
        "rheobase_single_reason": None,
        "rheobase_repetitive_uA_cm2": 6.5,
        "rheobase_repetitive_nA": 0.0065,
        "rheobase_repetitive_reason": None,
        "block_onset_uA_cm2": None,
        "block_onset_nA": None,
        "block_onset_reason": "no sweep in depolarisation block up to 20 uA/cm2",
        "n_block_sweeps": 0,
        "spontaneous": False,
        "spontaneous_rate_hz": 0.0,
        "spontaneous_n_spikes": 0,
        "v_rest_mV": -65.0,
        "v_mean_mV": -65.0,
        "v_min_mV": -65.1,
        "v_max_mV": -64.9,
        "spontaneous_analysed_from_ms": 200.0,
        "tau_m_ms": float("nan"),  # written as null, read back as None
        "tau_m_amp_uA_cm2": -1.0,
        "tau_m_reason": "fit failed",
        "rest_check": None,
        "noise": {"isi_cv": 0.36, "rate_hz": 49.0, "ou": {"seed": 1}},
        "definitions": {"spike": "upward crossing"},
        "provenance": {"git_commit": "test", "config_hash": "0", "packages": {}},
    }


def _same_bytes_as_write_json(
    tmp_path: Path, payload: dict[str, Any], write: Callable[[Path, dict[str, Any]], Any]
) -> str:
    write_json(tmp_path / "before.json", payload)
    write(tmp_path / "after.json", payload)
    before = (tmp_path / "before.json").read_text()
    assert (tmp_path / "after.json").read_text() == before
    return before


def test_hh_summary_is_written_as_before_and_typed(tmp_path: Path) -> None:
    text = _same_bytes_as_write_json(tmp_path, hh_summary(), write_hh_summary)
    summary = read_hh_summary(tmp_path / "after.json")
    assert summary.to_dict() == json.loads(text)
    assert (summary.condition, summary.gnabar, summary.gkbar) == ("control", 0.12, 0.036)
    assert summary.spontaneous is False and summary.n_block_sweeps == 0
    assert summary.tau_m_ms is None and summary.block_onset_uA_cm2 is None
    assert summary.rheobase_repetitive_uA_cm2 == 6.5 and summary.params["el_mV"] == -54.3


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        for key in path[:-1]:
            doc = doc[key]
        del doc[path[-1]]

    return change


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_drop(("params", "gnabar")), r"s\.json \(params\): field 'gnabar' is missing"),
        (_drop(("condition",)), r"s\.json: field 'condition' is missing"),
        (_set("spontaneous", "yes"), r"s\.json: field 'spontaneous' must be true or false"),
        (_set("n_block_sweeps", 1.5), r"s\.json: field 'n_block_sweeps' must be an integer"),
        (_set("v_rest_mV", "low"), r"s\.json: field 'v_rest_mV' must be a finite number"),
        (_drop(("rheobase_single_uA_cm2",)), r"field 'rheobase_single_uA_cm2' is missing"),
    ],
)
def test_hh_summary_bad_field_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = hh_summary()
    change(doc)
    write_json(tmp_path / "s.json", doc)
    with pytest.raises(StageFileError, match=message):
        read_hh_summary(tmp_path / "s.json")
    with pytest.raises(StageFileError, match=message):
        write_hh_summary(tmp_path / "s.json", doc)


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(StageFileError, match=r"absent\.json: file not found") as err:
        read_stage_json(tmp_path / "absent.json")
    assert err.value.reason == "file not found"
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(StageFileError, match=r"list\.json: top level is not a JSON object"):
        read_mapping_record(tmp_path / "list.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(StageFileError, match=r"broken\.json: JSONDecodeError"):
        read_regressor_metrics(tmp_path / "broken.json")


def fi_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amp_uA_cm2": [-1.0, 0.0, 7.5],
            "amp_nA": [-0.001, 0.0, 0.0075],
            "spike_count": [0, 0, 12],
            "n_spikes": [1, 1, 13],
            "rate_hz": [0.0, 0.0, 40.0],
            "first_spike_latency_ms": [None, None, 2.125],
            "block": ["false", "false", "true"],
        },
        columns=list(FI_COLUMNS),
    )


def test_fi_curve_is_written_as_before_and_read_back(tmp_path: Path) -> None:
    prov = {"git_commit": "test"}
    write_csv(tmp_path / "before.csv", fi_frame(), prov)
    write_fi_curve(tmp_path / "fi_curve.csv", fi_frame(), prov)
    assert (tmp_path / "fi_curve.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()
    table = read_fi_curve(tmp_path / "fi_curve.csv")
    assert tuple(table.columns) == FI_COLUMNS
    assert table["rate_hz"].tolist() == [0.0, 0.0, 40.0]
    assert math.isnan(table["first_spike_latency_ms"].iloc[0])
    with pytest.raises(StageFileError, match=r"x\.csv: columns .*expected"):
        write_fi_curve(tmp_path / "x.csv", fi_frame().drop(columns=["block"]))
    assert not (tmp_path / "x.csv").exists()
    fi_frame().drop(columns=["rate_hz"]).to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(StageFileError, match=r"short\.csv: missing column\(s\) \['rate_hz'\]"):
        read_fi_curve(tmp_path / "short.csv")
    assert "amp_nA" in read_fi_curve(tmp_path / "short.csv", columns=("amp_nA",))
    with pytest.raises(StageFileError, match="f-I table not found"):
        read_fi_curve(tmp_path / "none.csv")


def test_mapping_record_is_written_as_before_with_both_parts(tmp_path: Path) -> None:
    payload = regressor_fixtures.mapping_json("control", mtc_use_downstream=False)
    payload["mtc"]["objective"] = float("inf")  # written as null, as write_json does
    text = _same_bytes_as_write_json(tmp_path, payload, write_mapping_record)
    record = read_mapping_record(tmp_path / "after.json", "control")
    assert record.to_dict() == json.loads(text)
    assert record.condition == "control" and record.mtc_time_unit_ms == 0.5
    lif, mtc = record.lif, record.mtc
    assert (lif.model, lif.use_downstream, lif.status) == ("lif", True, "ok")
    assert lif.number("beta_fit") == 0.85 and lif.downstream_rule.startswith("use beta_fit")
    assert (mtc.model, mtc.use_downstream) == ("mtc", False)
    assert mtc.number("a_fast") == -2.1 and record.part("mtc") == mtc
    assert mtc.source.endswith("after.json (mtc)")


def test_mapping_record_bad_fields_name_file_and_part(tmp_path: Path) -> None:
    path = tmp_path / "control.json"
    skipped = regressor_fixtures.mapping_json(use_downstream=False, status="never_fires")
    write_json(path, skipped)
    record = read_mapping_record(path)
    assert record.lif.use_downstream is False and record.lif.status == "never_fires"
    with pytest.raises(MappingInputError, match=r"control\.json: field 'beta_fit' must be a fin"):
        record.lif.number("beta_fit")
    with pytest.raises(StageFileError, match=r"field 'condition' is 'control', expected 'hyp'"):
        read_mapping_record(path, "hyp")
    no_flag = regressor_fixtures.mapping_json()
    del no_flag["mtc"]["use_downstream"]
    with pytest.raises(StageFileError, match=r"\(mtc\): field 'use_downstream' is missing"):
        write_mapping_record(path, no_flag)
    with pytest.raises(StageFileError, match=r"\(mtc\): field 'use_downstream' is missing"):
        MappingRecord.from_dict(no_flag, str(path)).mtc  # noqa: B018
    no_mtc = {k: v for k, v in regressor_fixtures.mapping_json().items() if k != "mtc"}
    with pytest.raises(StageFileError, match="field 'mtc' is missing or not a mapping"):
        MappingRecord.from_dict(no_mtc, "m.json").mtc  # noqa: B018
    assert MappingRecord.from_dict(no_mtc, "m.json").lif.use_downstream  # LIF part alone is fine
    with pytest.raises(StageFileError, match=r"m\.json: field 'use_downstream' must be true"):
        MappingRecord.from_dict({**no_mtc, "use_downstream": "yes"}, "m.json").lif  # noqa: B018


def test_run_metrics_are_written_as_before(tmp_path: Path) -> None:
    rates = {"EC_Lk1": 0.2, "EC_Syn1": float("nan")}
    ae = compare_fixtures.ae_metrics("s1_benchmark", 0.2, 123, 0.03, rates)
    text = _same_bytes_as_write_json(
        tmp_path, ae, lambda p, d: write_run_metrics(p, d, AutoencoderMetrics)
    )
    record = read_autoencoder_metrics(tmp_path / "after.json")
    assert record.to_dict() == json.loads(text)
    assert (record.scenario, record.sigma, record.seed, record.ok) == (
        "s1_benchmark",
        0.2,
        123,
        True,
    )
    assert record.data["firing_rate_final_epoch_test"]["EC_Syn1"] is None
    for status in ("ok", "skipped"):
        reg = compare_fixtures.reg_metrics("control", "mtc", 2, 0.4, 15.0, 0.002, 0.9, status)
        _same_bytes_as_write_json(
            tmp_path, reg, lambda p, d: write_run_metrics(p, d, RegressorMetrics)
        )
        record = read_regressor_metrics(tmp_path / "after.json")
        assert (record.condition, record.model, record.seed, record.status) == (
            "control", "mtc", 2, status,
        )  # fmt: skip
    # A skipped run states why and holds no metric.
    assert record.reason == "mapping use_downstream is false" and "evaluation" not in record.data


def test_run_metrics_bad_identity_names_file_and_field(tmp_path: Path) -> None:
    reg = compare_fixtures.reg_metrics("control", "mtc", 2, 0.4, 15.0, 0.002, 0.9)
    path = tmp_path / "metrics.json"
    for key, value, message in (
        ("status", "lost", r"metrics\.json: field 'status' is 'lost', not one of"),
        ("seed", "2", r"metrics\.json: field 'seed' must be an integer"),
        ("model", "", r"metrics\.json: field 'model' must be a non-empty string"),
    ):
        write_json(path, {**reg, key: value})
        with pytest.raises(StageFileError, match=message) as err:
            read_regressor_metrics(path)
        assert not str(err.value.reason).startswith(str(path))
    ae = compare_fixtures.ae_metrics("s1_benchmark", 0.0, 1, 0.03, {"EC_Lk1": 0.2})
    del ae["sigma"]
    with pytest.raises(StageFileError, match=r"out\.json: field 'sigma' is missing"):
        write_run_metrics(tmp_path / "out.json", ae, AutoencoderMetrics)
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(ValueError, match="kind must be a run-metrics record"):
        write_run_metrics(path, reg, HHSummary)  # type: ignore[arg-type]


def test_one_error_type_for_every_stage_file() -> None:
    assert MappingInputError is StageFileError and issubclass(StageFileError, ValueError)


# --- every real file of a finished run ------------------------------------------------------


def _rewrite_hh(path: Path, out: Path) -> None:
    write_hh_summary(out, read_hh_summary(path).to_dict())


def _rewrite_mapping(path: Path, out: Path) -> None:
    write_mapping_record(out, read_mapping_record(path, path.stem).to_dict())


def _rewrite_ae(path: Path, out: Path) -> None:
    write_run_metrics(out, read_autoencoder_metrics(path).to_dict(), AutoencoderMetrics)


def _rewrite_reg(path: Path, out: Path) -> None:
    write_run_metrics(out, read_regressor_metrics(path).to_dict(), RegressorMetrics)


def _rewrite_fi(path: Path, out: Path) -> None:
    provenance = json.loads(path.with_name("fi_curve.provenance.json").read_text())
    provenance.pop("table")
    frame = read_fi_curve(path, FI_COLUMNS)
    # The stage writes block as true/false text; pandas reads it back as bool.
    frame["block"] = ["true" if v else "false" for v in frame["block"]]
    write_fi_curve(out, frame, provenance)


#: JSON files of the mapping folder that are not condition records (they stay in the stage).
MAPPING_STAGE_OWN = ("reference.json", "summary.json")
REAL_FILES = (
    ("hh/*/summary.json", _rewrite_hh),
    ("hh/*/fi_curve.csv", _rewrite_fi),
    ("mapping/*.json", _rewrite_mapping),
    ("autoencoder/*/sigma*/seed*/metrics.json", _rewrite_ae),
    ("regressor/*/*/seed*/metrics.json", _rewrite_reg),
)


def round_trip_problems(results: Path) -> tuple[int, list[str]]:
    """How many stage files of a finished run's ``results`` folder were read and written back
    through their contract, and those whose bytes came out different."""
    checked, problems = 0, []
    with tempfile.TemporaryDirectory() as scratch:
        for pattern, rewrite in REAL_FILES:
            for path in sorted(results.glob(pattern)):
                if path.name in MAPPING_STAGE_OWN or path.name.endswith(".provenance.json"):
                    continue
                out = Path(scratch) / f"{checked}{path.suffix}"
                rewrite(path, out)
                checked += 1
                if out.read_bytes() != path.read_bytes():
                    problems.append(str(path.relative_to(results)))
    return checked, problems


def test_a_changed_file_does_not_round_trip(tmp_path: Path) -> None:
    """The round-trip check above would see a writer that changes a value."""
    doc = copy.deepcopy(hh_summary())
    write_json(tmp_path / "summary.json", doc)
    doc["v_rest_mV"] = -64.0
    write_hh_summary(tmp_path / "changed.json", doc)
    assert (tmp_path / "changed.json").read_bytes() != (tmp_path / "summary.json").read_bytes()
