"""The NEURON/Brian2 agreement rule on hand-made tables, and run_crosscheck's outputs."""

from __future__ import annotations

import copy
import json
import logging

import numpy as np
import pandas as pd
import pytest
from neuron_builtin_hh import neuron_builtin_fi

from bridge.config import Condition, load_config
from bridge.hh.crosscheck import (
    CROSSCHECK_COLUMNS,
    CrosscheckError,
    compare_fi,
    failed_table_path,
    read_fi_curve,
    run_crosscheck,
    summarize,
)
from bridge.io import provenance_sidecar
from hh_models.params import params_from_condition, step_protocol_from_config

TOL_HZ = 2.0
JUMP_HZ = 20.0
DURATION_S = 0.8


def fi_table(amps: list[float], counts: list[int], duration_s: float = DURATION_S) -> pd.DataFrame:
    counts_arr = np.asarray(counts)
    return pd.DataFrame(
        {
            "amp_uA_cm2": amps,
            "amp_nA": np.asarray(amps) * 1e-3,
            "spike_count": counts_arr,
            "rate_hz": counts_arr / duration_s,
        }
    )


AMPS = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
#: onset of repetitive firing between 4 and 5 uA/cm2 (1.25 Hz -> 50 Hz)
NEURON_COUNTS = [0, 0, 1, 1, 1, 40, 44, 48]


def test_identical_tables_agree() -> None:
    table = compare_fi(
        fi_table(AMPS, NEURON_COUNTS), fi_table(AMPS, NEURON_COUNTS), TOL_HZ, JUMP_HZ
    )
    assert list(table.columns) == list(CROSSCHECK_COLUMNS)
    assert table["ok"].all()
    summary = summarize(table)
    assert summary.ok and summary.max_abs_rate_diff_hz == 0.0
    assert summary.neuron_onset_uA_cm2 == summary.brian2_onset_uA_cm2 == 2.0
    # The onset jump is reported even when both agree: its two sweeps are excluded.
    assert summary.excluded_amps_uA_cm2 == [4.0, 5.0]
    assert (table.loc[~table["excluded"], "exclusion_reason"] == "").all()


def test_one_spike_apart_is_within_tolerance_two_is_not() -> None:
    brian2 = list(NEURON_COUNTS)
    brian2[6] += 1  # 1.25 Hz
    brian2[7] -= 2  # 2.5 Hz
    table = compare_fi(fi_table(AMPS, NEURON_COUNTS), fi_table(AMPS, brian2), TOL_HZ, JUMP_HZ)
    assert table["rate_diff_hz"].tolist()[6:] == [1.25, -2.5]
    assert table["ok"].tolist() == [True] * 7 + [False]
    summary = summarize(table)
    assert not summary.ok
    assert summary.failed_amps_uA_cm2 == [7.0]
    assert summary.max_abs_rate_diff_hz == 2.5


def test_one_spike_at_the_window_edge_passes_on_a_short_step_two_do_not() -> None:
    short_s = 0.2  # one spike = 5 Hz, above the 2 Hz tolerance
    neuron = [0, 0, 0, 9, 10, 11, 12, 13]
    brian2 = [0, 0, 0, 10, 10, 11, 12, 15]
    table = compare_fi(
        fi_table(AMPS, neuron, short_s), fi_table(AMPS, brian2, short_s), TOL_HZ, JUMP_HZ
    )
    assert table["rate_diff_hz"].tolist()[3] == 5.0
    assert table["ok"].tolist() == [True] * 7 + [False]


def test_onset_jump_one_step_later_excludes_its_neighbours_and_passes() -> None:
    brian2 = [0, 0, 1, 1, 1, 1, 44, 48]  # jumps between 5 and 6 instead of 4 and 5
    table = compare_fi(fi_table(AMPS, NEURON_COUNTS), fi_table(AMPS, brian2), TOL_HZ, JUMP_HZ)
    assert table["excluded"].tolist() == [False] * 4 + [True] * 3 + [False]
    reasons = table.set_index("amp_uA_cm2")["exclusion_reason"]
    assert "neuron rate jump 4 -> 5 uA/cm2" in reasons[4.0]
    assert "neuron rate jump 4 -> 5" in reasons[5.0] and "brian2 rate jump 5 -> 6" in reasons[5.0]
    assert "brian2 rate jump 5 -> 6 uA/cm2" in reasons[6.0]
    # 5 uA/cm2 differs by ~48 Hz, far beyond tolerance, yet is fine: the jump moved one step.
    assert table["ok"].all()
    summary = summarize(table)
    assert summary.ok and summary.n_excluded == 3
    assert summary.excluded_amps_uA_cm2 == [4.0, 5.0, 6.0]


def test_onset_jump_two_steps_later_fails() -> None:
    brian2 = [0, 0, 1, 1, 1, 1, 1, 48]  # jumps between 6 and 7: two steps after NEURON
    table = compare_fi(fi_table(AMPS, NEURON_COUNTS), fi_table(AMPS, brian2), TOL_HZ, JUMP_HZ)
    failing = table.loc[~table["ok"], "amp_uA_cm2"].tolist()
    # 4 and 7 uA/cm2 are next to an unreproduced jump but their rates agree: only 5, 6 fail.
    assert failing == [5.0, 6.0]
    assert "not reproduced" in table.set_index("amp_uA_cm2")["exclusion_reason"][5.0]
    assert not summarize(table).ok


def test_jump_just_below_threshold_in_the_other_simulator_is_matched_by_agreement() -> None:
    neuron = [0, 0, 0, 0, 17, 17, 17, 17]  # 21.25 Hz jump: counts as one
    brian2 = [0, 0, 0, 0, 16, 16, 16, 16]  # 20 Hz: no jump, but the rates agree within 2 Hz
    table = compare_fi(fi_table(AMPS, neuron), fi_table(AMPS, brian2), TOL_HZ, JUMP_HZ)
    assert table["excluded"].tolist() == [False] * 3 + [True, True] + [False] * 3
    assert table["ok"].all()


def test_onset_two_steps_apart_fails_even_within_rate_tolerance() -> None:
    neuron = [0, 1, 1, 1, 1, 1, 1, 1]
    brian2 = [0, 0, 0, 1, 1, 1, 1, 1]  # single spikes: 1.25 Hz, within tolerance per sweep
    table = compare_fi(fi_table(AMPS, neuron), fi_table(AMPS, brian2), TOL_HZ, JUMP_HZ)
    assert table["ok"].all()
    summary = summarize(table)
    assert summary.onset_step_difference == 2 and not summary.onset_ok and not summary.ok


def test_onset_missing_in_one_simulator_fails() -> None:
    table = compare_fi(fi_table(AMPS, [0] * 7 + [1]), fi_table(AMPS, [0] * 8), TOL_HZ, JUMP_HZ)
    summary = summarize(table)
    assert summary.brian2_onset_uA_cm2 is None and summary.onset_step_difference is None
    assert not summary.ok


def test_different_grids_rejected() -> None:
    with pytest.raises(CrosscheckError, match="amplitude grids"):
        compare_fi(fi_table(AMPS, NEURON_COUNTS), fi_table(AMPS[1:], NEURON_COUNTS[1:]), 2, 20)


def test_read_fi_curve_names_file_row_and_column(tmp_path) -> None:
    path = tmp_path / "fi_curve.csv"
    fi_table(AMPS, NEURON_COUNTS).drop(columns="rate_hz").to_csv(path, index=False)
    with pytest.raises(CrosscheckError, match=r"fi_curve.csv: missing column\(s\) \['rate_hz'\]"):
        read_fi_curve(path)
    frame = fi_table(AMPS, NEURON_COUNTS).astype({"rate_hz": object})
    frame.loc[3, "rate_hz"] = "fast"
    frame.to_csv(path, index=False)
    with pytest.raises(CrosscheckError, match=r"fi_curve.csv: row 3, column 'rate_hz': 'fast'"):
        read_fi_curve(path)
    with pytest.raises(CrosscheckError, match="not found"):
        read_fi_curve(tmp_path / "missing.csv")


# --- run_crosscheck: real NEURON (built-in hh) table, real Brian2 twin -----------------------

CONTROL = Condition(name="control", gnabar=0.12, gkbar=0.036, gl=0.0003)


@pytest.fixture(scope="module")
def small_hh_cfg(repo_root) -> dict:
    hh = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"])["hh"])
    hh["steps"].update(
        delay_ms=20.0, duration_ms=200.0, after_ms=10.0, amp_segments_uA_cm2=[[0.0, 20.0, 10.0]]
    )
    return hh


@pytest.fixture(scope="module")
def neuron_fi(small_hh_cfg) -> pd.DataFrame:
    params = params_from_condition(CONTROL, small_hh_cfg)
    protocol = step_protocol_from_config(small_hh_cfg)
    table, _ = neuron_builtin_fi(params, protocol, small_hh_cfg["spike_threshold_mV"])
    return table


def test_run_crosscheck_writes_table_or_only_the_failed_one(
    tmp_path, small_hh_cfg, neuron_fi, caplog
) -> None:
    fi_csv = tmp_path / "fi_curve.csv"
    out_csv = tmp_path / "crosscheck.csv"
    neuron_fi.to_csv(fi_csv, index=False)
    with caplog.at_level(logging.INFO, logger="bridge.hh.crosscheck"):
        table = run_crosscheck(CONTROL, small_hh_cfg, fi_csv, out_csv)
    assert table["ok"].all() and table["brian2_spike_count"].tolist()[0] == 0
    written = pd.read_csv(out_csv, keep_default_na=False)
    assert list(written.columns) == list(CROSSCHECK_COLUMNS)
    assert written["neuron_spike_count"].tolist() == neuron_fi["spike_count"].tolist()
    sidecar = json.loads(provenance_sidecar(out_csv).read_text())
    assert {"git_commit", "config_hash", "packages"} <= set(sidecar)
    assert sidecar["crosscheck"]["ok"] is True and sidecar["condition"] == "control"
    assert "excluded" in caplog.text or sidecar["crosscheck"]["n_excluded"] == 0
    assert not failed_table_path(out_csv).exists()

    # A NEURON table that fires 5 spikes more at 20 uA/cm2: the check must fail, leave only
    # crosscheck_failed.csv for diagnosis and remove the earlier crosscheck.csv.
    bad = neuron_fi.copy()
    bad.loc[2, "spike_count"] += 5
    bad.loc[2, "rate_hz"] = bad.loc[2, "spike_count"] / 0.2
    bad.to_csv(fi_csv, index=False)
    with pytest.raises(CrosscheckError, match=r"condition 'control'.*\n  20 uA/cm2: neuron"):
        run_crosscheck(CONTROL, small_hh_cfg, fi_csv, out_csv)
    assert not out_csv.exists() and not provenance_sidecar(out_csv).exists()
    failed = pd.read_csv(failed_table_path(out_csv), keep_default_na=False)
    assert failed["ok"].tolist() == [True, True, False]
    assert "not reproduced" in failed["exclusion_reason"].tolist()[2]
    assert json.loads(provenance_sidecar(failed_table_path(out_csv)).read_text())["crosscheck"][
        "failed_amps_uA_cm2"
    ] == [20.0]


def test_run_crosscheck_rejects_a_table_on_another_grid_before_simulating(
    tmp_path, small_hh_cfg, neuron_fi
) -> None:
    fi_csv = tmp_path / "fi_curve.csv"
    neuron_fi.iloc[:2].to_csv(fi_csv, index=False)
    with pytest.raises(CrosscheckError, match=r"fi_curve.csv: amplitudes \(2 rows\)"):
        run_crosscheck(CONTROL, small_hh_cfg, fi_csv, tmp_path / "crosscheck.csv")
    assert not (tmp_path / "crosscheck.csv").exists()
