"""run_condition on a tiny config writes every contract file, without NaN, in the right shape."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bridge.config import Condition, ConfigError, load_config
from bridge.contracts import FI_COLUMNS, read_fi_curve, read_hh_summary
from bridge.hh.stage import FEATURES_COLUMNS, OUTPUT_FILES, run_condition
from bridge.io import provenance_sidecar
from tests.hh_helpers import shorten_validation


@pytest.fixture(scope="module")
def tiny_hh(repo_root: Path) -> dict:
    hh = copy.deepcopy(load_config([repo_root / "config" / "config.yaml"])["hh"])
    hh["steps"].update(
        delay_ms=20.0,
        duration_ms=300.0,
        after_ms=20.0,
        amp_segments_uA_cm2=[[-1.0, 0.0, 0.5], [3.0, 11.0, 4.0], [250.0, 250.0, 1.0]],
    )
    hh["spontaneous"]["duration_ms"] = 200.0
    hh["noise"]["duration_ms"] = 300.0
    shorten_validation(hh, 200.0, 20.0, [[5.0, 3.0], [15.0, 5.0]])
    hh["block"]["window_ms"] = 100.0
    hh["rebalance"]["settle_ms"] = 100.0
    return hh


def _reject_nan(token: str) -> None:
    raise AssertionError(f"non-finite JSON value {token}")


def test_run_condition_writes_the_contract(tmp_path: Path, tiny_hh: dict) -> None:
    condition = Condition("control", 0.12, 0.036, 0.0003, description="test")
    run_condition(condition, tiny_hh, tmp_path)
    for name in OUTPUT_FILES:
        assert (tmp_path / name).is_file(), name
    for name in ("fi_curve.csv", "features.csv"):
        text = (tmp_path / name).read_text()
        assert "nan" not in text.lower() and "inf" not in text.lower()
        sidecar = json.loads(provenance_sidecar(tmp_path / name).read_text())
        assert sidecar["table"] == name and sidecar["packages"]["neuron"]

    fi = pd.read_csv(tmp_path / "fi_curve.csv")
    assert tuple(fi.columns) == FI_COLUMNS
    assert list(fi["amp_uA_cm2"]) == [-1.0, -0.5, 0.0, 3.0, 7.0, 11.0, 250.0]
    np.testing.assert_allclose(fi["amp_nA"], fi["amp_uA_cm2"] * 1e-3)
    assert fi["amp_uA_cm2"].is_monotonic_increasing
    np.testing.assert_allclose(fi["rate_hz"], fi["spike_count"] / 0.3)
    assert (fi["n_spikes"] >= fi["spike_count"]).all()
    assert fi.loc[fi.spike_count == 0, "first_spike_latency_ms"].isna().all()
    assert fi.loc[fi.spike_count > 0, "first_spike_latency_ms"].notna().all()
    assert set(fi["block"]) <= {True, False}
    assert fi.set_index("amp_uA_cm2").loc[11.0, "spike_count"] >= 15

    features = pd.read_csv(tmp_path / "features.csv")
    assert tuple(features.columns) == FEATURES_COLUMNS
    assert list(features["protocol"]) == ["step"] * 7 + ["spontaneous", "noise"]
    assert features.loc[features.protocol != "step", "amp_uA_cm2"].isna().all()

    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_reject_nan)
    assert summary["condition"] == "control" and summary["mechanism"] == "hh"
    assert summary["rheobase_single_uA_cm2"] == 3.0
    assert summary["rheobase_single_nA"] == pytest.approx(0.003)
    assert summary["rheobase_repetitive_uA_cm2"] == 7.0
    assert summary["spontaneous"] is False and summary["spontaneous_rate_hz"] == 0.0
    assert summary["v_rest_mV"] == pytest.approx(-64.97, abs=0.05)
    assert 0.8 < summary["tau_m_ms"] < 2.0 and summary["tau_m_reason"] is None
    assert summary["noise"]["n_spikes"] >= 0 and summary["params"]["el_mV"] == -54.3
    assert summary["provenance"]["config_hash"]
    # The files the next stages read parse as their contract records.
    typed = read_hh_summary(tmp_path / "summary.json")
    assert typed.to_dict() == summary and typed.rheobase_repetitive_uA_cm2 == 7.0
    assert typed.gnabar == 0.12 and typed.n_block_sweeps == summary["n_block_sweeps"]
    assert read_fi_curve(tmp_path / "fi_curve.csv").equals(fi)

    traces = np.load(tmp_path / "traces.npz")
    n_t = round(340.0 / 0.1) + 1
    assert traces["v_mV"].shape == (7, n_t) and traces["v_mV"].dtype == np.float32
    assert traces["t_ms"].shape == (n_t,)
    assert traces["spike_times_ms"].shape == traces["spike_sweep_index"].shape
    assert np.bincount(traces["spike_sweep_index"], minlength=7).tolist() == list(fi["n_spikes"])
    assert (
        traces["noise_v_mV"].shape == traces["noise_i_uA_cm2"].shape == traces["noise_t_ms"].shape
    )
    assert float(traces["store_dt_ms"]) == 0.1 and float(traces["delay_ms"]) == 20.0
    for key in traces.files:
        if traces[key].dtype.kind == "f":
            assert np.isfinite(traces[key]).all(), key


def test_outputs_are_deterministic(tmp_path: Path, tiny_hh: dict) -> None:
    condition = Condition("control", 0.12, 0.036, 0.0003)
    run_condition(condition, tiny_hh, tmp_path / "a")
    run_condition(condition, tiny_hh, tmp_path / "b")
    for name in OUTPUT_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_unstable_rebalanced_condition_fails_before_simulating(
    tmp_path: Path, tiny_hh: dict
) -> None:
    condition = Condition("restless", 0.25, 0.036, 0.0003, v_rest_mV=-65.0)
    with pytest.raises(ConfigError, match=r"condition 'restless', column 'v_rest_mV'"):
        run_condition(condition, tiny_hh, tmp_path)
    assert not any(tmp_path.iterdir())


def test_store_dt_not_a_multiple_of_dt_is_rejected(tmp_path: Path, tiny_hh: dict) -> None:
    bad = copy.deepcopy(tiny_hh)
    bad["steps"]["store_dt_ms"] = 0.06
    with pytest.raises(ConfigError, match=r"hh.steps.store_dt_ms"):
        run_condition(Condition("control", 0.12, 0.036, 0.0003), bad, tmp_path)


def test_shifted_condition_uses_hhx(tmp_path: Path, tiny_hh: dict) -> None:
    condition = Condition("shifted", 0.12, 0.036, 0.0003, m_shift_mV=3.0, v_rest_mV=-66.0)
    run_condition(condition, tiny_hh, tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["mechanism"] == "hhx"
    assert summary["rest_check"]["v_target_mV"] == -66.0
    assert summary["v_rest_mV"] == pytest.approx(-66.0, abs=0.05)
