"""Spike-timing validation: coincidence factor, matching, the driven LIF/MTC, held-out data."""

from __future__ import annotations

import numpy as np
import pytest
import snntorch
import torch

from bridge.config import Condition, load_config
from bridge.config.hh import ValidationConfig
from bridge.config.mapping import ValidationScoreConfig
from bridge.contracts import StageFileError
from bridge.hh.validation import FIT_SET, HELDOUT_SET, validation_segments
from bridge.mapping.validation import (
    coincidence_factor,
    fine_lif,
    flags,
    level_scores,
    lif_run,
    match_spikes,
    mtc_run,
    step_average,
)
from bridge.neurons.mtc import mtc_preset
from hh_models.params import params_from_condition
from hh_models.protocols import run_played_currents


@pytest.fixture(scope="module")
def full_config(repo_root) -> dict:
    return load_config([repo_root / "config" / "config.yaml"])


def test_match_spikes_is_one_to_one_within_the_window() -> None:
    data = np.array([10.0, 20.0, 30.0, 40.0])
    model = np.array([11.5, 19.0, 19.5, 33.0])
    pairs = match_spikes(data, model, 2.0)
    # 20 takes 19.0 (earliest in window); 19.5 may not be reused by 30; 33 is 3 ms off.
    assert pairs == [(10.0, 11.5), (20.0, 19.0)]
    assert match_spikes(data, model, 4.0) == [(10.0, 11.5), (20.0, 19.0), (30.0, 33.0)]


def test_coincidence_factor_by_hand() -> None:
    # 10 HH and 10 model spikes in 1000 ms, 8 coincident within 2 ms: chance 2*0.01*2 = 0.04,
    # expected 0.4; Gamma = (8 - 0.4) / 10 / 0.96.
    value, status = coincidence_factor(8, 10, 10, 1000.0, 2.0, 0.5)
    assert status == "ok" and value == pytest.approx(7.6 / 10 / 0.96)
    # A perfect model scores 1; a silent one 0; both silent: not evaluable.
    assert coincidence_factor(10, 10, 10, 1000.0, 2.0, 0.5)[0] == pytest.approx(1.0)
    assert coincidence_factor(0, 10, 0, 1000.0, 2.0, 0.5) == (0.0, "ok")
    assert coincidence_factor(0, 0, 0, 1000.0, 2.0, 0.5) == (None, "no_spikes")
    # 200 Hz at +-4 ms: 2 nu Delta = 1.6, beyond any limit.
    assert coincidence_factor(100, 200, 200, 1000.0, 4.0, 0.5) == (None, "chance_too_high")


def test_level_scores_of_a_shifted_copy(full_config: dict) -> None:
    cfg = ValidationScoreConfig.from_config(full_config["mapping"]["validation"])
    hh = [np.arange(100.0, 1000.0, 50.0)]
    model = [hh[0] + 1.5]  # every spike 1.5 ms late
    scores = level_scores(hh, model, 1000.0, 50.0, cfg)
    assert scores["gamma"]["1"] < 0.1  # outside +-1 ms
    assert scores["gamma"]["2"] > 0.9 and scores["hit_fraction"] == 1.0
    assert scores["timing_offset_ms"] == pytest.approx(1.5)
    assert scores["count_ratio"] == 1.0


def test_driven_lif_matches_snntorch_leaky() -> None:
    """The validation LIF is the snntorch Leaky (reset by subtraction) step for step."""
    rng = np.random.default_rng(3)
    beta, w, bias = 0.8, 40.0, 0.1
    i_nA = rng.normal(0.004, 0.004, size=(3, 400))
    times, _ = lif_run(beta, w, bias, i_nA, 1.0, 0)
    leaky = snntorch.Leaky(beta=beta, threshold=1.0, reset_mechanism="subtract")
    mem = torch.zeros(3, dtype=torch.float64)
    spikes = []
    x = torch.as_tensor(w * i_nA + bias)
    for k in range(400):
        spk, mem = leaky(x[:, k], mem)
        spikes.append(spk.numpy().astype(bool))
    steps = np.array(spikes).T
    for row, t in zip(steps, times, strict=True):
        assert np.array_equal(np.flatnonzero(row), np.floor(t).astype(int))
        assert row.sum() > 5


def test_fine_lif_keeps_time_constant_and_steady_state() -> None:
    beta, w, bias = 0.7, 50.0, 0.2
    beta_f, w_f, bias_f = fine_lif(beta, w, bias, 1.0, 0.1)
    assert beta_f**10 == pytest.approx(beta)
    assert bias_f / (1 - beta_f) == pytest.approx(bias / (1 - beta))
    assert w_f / (1 - beta_f) == pytest.approx(w / (1 - beta))


def test_step_average_rejects_a_step_that_does_not_divide(tmp_path) -> None:
    current = np.arange(41.0).reshape(1, -1)  # 40 intervals of 0.025 ms = 1 ms
    assert step_average(current, 0.025, 0.1, "x").shape == (1, 10)
    assert step_average(current, 0.025, 0.1, "x")[0, 0] == pytest.approx(1.5)
    with pytest.raises(StageFileError, match="not a multiple"):
        step_average(current, 0.025, 0.03, "x")
    with pytest.raises(StageFileError, match="whole number"):
        step_average(current, 0.025, 0.3, "x")


def test_mtc_run_rests_at_zero_input_and_fires_with_drive() -> None:
    params = mtc_preset("tonic")
    quiet, _ = mtc_run(params, np.zeros((1, 2000)), 0.125, 100)
    assert quiet[0].size == 0
    firing, v = mtc_run(params, np.full((1, 2000), 0.5), 0.125, 100)
    assert firing[0].size >= 3 and v.shape == (1, 2001)


def test_heldout_seed_leaves_fit_segments_identical(full_config: dict) -> None:
    """A new held-out seed changes only the held-out currents and HH spikes."""
    hh = full_config["hh"]
    base = dict(
        hh["validation"], segment_ms=100.0, warmup_ms=10.0, fit_segments=1, heldout_segments=1
    )
    a = validation_segments(ValidationConfig.from_config(base), hh["dt_ms"])
    b = validation_segments(
        ValidationConfig.from_config({**base, "heldout_seed": base["heldout_seed"] + 7}),
        hh["dt_ms"],
    )
    fit = a.set_code == FIT_SET
    assert np.array_equal(a.current_uA_cm2[fit], b.current_uA_cm2[fit])
    held = a.set_code == HELDOUT_SET
    assert not np.array_equal(a.current_uA_cm2[held], b.current_uA_cm2[held])
    params = params_from_condition(Condition("control", 0.12, 0.036, 0.0003), hh)
    run_a = run_played_currents(params, a.current_uA_cm2, hh["dt_ms"], -20.0)
    run_b = run_played_currents(params, b.current_uA_cm2, hh["dt_ms"], -20.0)
    for i in np.flatnonzero(fit):
        assert np.array_equal(run_a.v_full_mV[i], run_b.v_full_mV[i])
    with pytest.raises(ValueError, match="must differ"):
        ValidationConfig.from_config({**base, "heldout_seed": base["fit_seed"]})


def test_flags_follow_the_floor_and_both_transients(full_config: dict) -> None:
    cfg = ValidationScoreConfig.from_config(full_config["mapping"]["validation"])
    limit = cfg.transient_max_count_mae

    def model(gamma: float | None, rest: float, zero: float | None = None) -> dict:
        out = {
            "evaluable": True,
            "summary": {"gamma_2ms": gamma},
            "transient": {"count_mae_5ms": rest},
        }
        if zero is not None:
            out["transient_from_zero"] = {"count_mae_5ms": zero}
        return out

    results = {
        "lif": model(cfg.gamma_floor + 0.1, limit / 2, limit * 2),
        "lif_fine": model(cfg.gamma_floor - 0.1, 0.0),
        "mtc": model(None, limit * 2),
    }
    found = flags(results, cfg, [5.0, 20.0])
    assert found["lif"] == ["transient_mismatch_from_zero"]
    assert found["lif_fine"] == ["timing_below_floor"]
    assert found["mtc"] == ["timing_not_evaluable", "transient_mismatch"]
    results["lif"] = {"evaluable": False}
    assert flags(results, cfg, [5.0, 20.0])["lif"] == ["timing_not_evaluable"]


def test_segment_set_codes_agree_between_writer_and_reader() -> None:
    """validation.npz's segment_set codes: written by the HH stage, read by the mapping."""
    from bridge.hh import validation as writer
    from bridge.mapping import validation as reader

    assert (writer.FIT_SET, writer.HELDOUT_SET) == (reader.FIT_SET, reader.HELDOUT_SET)
    assert writer.FIT_SET != writer.HELDOUT_SET
