"""Fast checks of the mapping package: analytic beta, LIF semantics, targets, config checks."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from snntorch import Leaky

from bridge.config import ConfigError, MappingConfig, load_config
from bridge.mapping.analytic import beta_analytic, beta_membrane
from bridge.mapping.lif import simulate_steps, spontaneous_count
from bridge.mapping.objective import StepWindow, TargetError, fit_targets
from bridge.mapping.summary import beta_trend_agreement


@pytest.fixture(scope="module")
def config(repo_root):
    return load_config([repo_root / "config" / "config.yaml"])


@pytest.mark.parametrize(("gnabar", "expected"), [(0.12, 0.8869), (0.25, 0.7788), (1.0, 0.3679)])
def test_beta_analytic_hand_values(gnabar, expected):
    record = beta_analytic(gnabar)
    assert record.beta == pytest.approx(expected, abs=5e-5)
    assert record.value == gnabar
    assert record.name == "gnabar"
    assert record.unit == "S/cm2"
    assert "label mapping" in record.to_dict()["mapping"]


def test_beta_membrane_from_tau_and_null_with_reason():
    rec = beta_membrane(10.0, 1.0)
    assert rec.beta == pytest.approx(math.exp(-0.1))
    undefined = beta_membrane(None, 1.0, "fires at rest")
    assert undefined.beta is None and undefined.reason == "fires at rest"
    assert beta_membrane(None, 1.0).reason
    assert beta_membrane(-3.0, 1.0).beta is None


def _snntorch_counts(beta, drive, n_delay, n_step):
    """Spike count in the step window and first spike step (1-based) from snntorch.Leaky."""
    lif = Leaky(beta=torch.tensor(beta, dtype=torch.float64))
    mem = torch.zeros(1, dtype=torch.float64)
    count, first = 0, None
    for k in range(n_delay + n_step):
        x = torch.tensor([drive[1] if k >= n_delay else drive[0]], dtype=torch.float64)
        spk, mem = lif(x, mem)
        if k >= n_delay and spk.item() > 0:
            count += 1
            if first is None:
                first = k - n_delay + 1
    return count, first


@pytest.mark.parametrize(
    ("beta", "w", "bias"), [(0.9, 5.0, 0.05), (0.6, 12.0, 0.45), (0.97, 2.0, 0.04)]
)
def test_numpy_lif_matches_snntorch_leaky(beta, w, bias):
    """Same spike counts and first-spike steps as snntorch 1.0's Leaky (reset one step late)."""
    amps = np.array([-0.01, 0.0, 0.004, 0.01, 0.03, 0.08])
    n_delay, n_step = 20, 120
    resp = simulate_steps(np.array([beta]), w, np.array([bias]), amps, n_delay, n_step, 1.0)
    for j, amp in enumerate(amps):
        count, first = _snntorch_counts(beta, (bias, w * amp + bias), n_delay, n_step)
        assert resp.spike_count[0, j] == count
        lat = resp.first_latency_ms[0, j]
        if first is None:
            assert np.isnan(lat)
        else:
            # the interpolated crossing lies inside the step that emitted the spike
            assert first - 1 <= lat <= first


def test_reset_subtracts_previous_spike_one_step_late():
    """Hand-computed: beta 0.5, drive 0.8, U[t] = 0.5 U[t-1] + 0.8 - S[t-1].

    U = 0.8, 1.2 S, 0.4, 1.0, 1.3 S, 0.45, 1.025 S, 0.3125, 0.95625, 1.278 S -> 4 spikes in
    10 steps. Resetting at once (U -= S in the same step) would give 5 (steps 2, 4, 6, 8, 10).
    """
    resp = simulate_steps(np.array([0.5]), 0.0, np.array([0.8]), np.array([0.0]), 0, 10, 1.0)
    assert resp.spike_count[0, 0] == 4
    # first crossing between U1 = 0.8 and U2 = 1.2: at 1 + (1 - 0.8) / 0.4 = 1.5 steps
    assert resp.first_latency_ms[0, 0] == pytest.approx(1.5)
    assert spontaneous_count(np.array([0.5]), np.array([0.8]), 10)[0] == 4
    # U exactly at threshold does not fire (strict >, as snntorch): beta 0, drive 1.0
    resp = simulate_steps(np.array([1e-300]), 0.0, np.array([1.0]), np.array([0.0]), 0, 10, 1.0)
    assert resp.spike_count[0, 0] == 0


def test_mapping_section_in_config(config):
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    assert settings.dt_ms == 1.0
    assert settings.reference_condition == "control"
    assert settings.alpha_syn == 0.9
    assert settings.lif.profile.max_tau_ratio == 2.0


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("lif", "tau_bounds_ms"), [5.0, 1.0], "mapping.lif.tau_bounds_ms"),
        (("objective", "weights", "rate"), "a", "mapping.objective.weights.rate"),
        (("alpha_syn",), 1.5, "mapping.alpha_syn"),
        (("lif", "profile", "points"), 2, "mapping.lif.profile.points"),
        # relations the fits rely on
        (("lif", "profile", "max_tau_ratio"), 1.0, "mapping.lif.profile.max_tau_ratio"),
        (("mtc", "profile", "max_gain_ratio"), 0.9, "mapping.mtc.profile.max_gain_ratio"),
        (("mtc", "a_fast_bounds"), [-4.0, -0.5], "mapping.mtc.a_fast_bounds"),
        (("mtc", "condition_gains"), ["a_slow_pos"], "mapping.mtc.condition_gains"),
        (("mtc", "condition_gains"), ["a_fast", "a_fast"], "mapping.mtc.condition_gains"),
    ],
)
def test_bad_mapping_config_names_the_key(config, path, value, message):
    cfg = copy.deepcopy(config["mapping"])
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        MappingConfig.from_config(cfg, "mapping")


def _fi_rows():
    return pd.DataFrame(
        {
            "amp_uA_cm2": [0.0, 5.0, 10.0],
            "amp_nA": [0.0, 0.005, 0.01],
            "spike_count": [0, 3, 10],
            "rate_hz": [0.0, 7.5, 25.0],
            "first_spike_latency_ms": [np.nan, 12.0, 5.0],
            "block": ["false", "false", "true"],
        }
    )


SUMMARY = {
    "condition": "c",
    "params": {"gnabar": 0.12},
    "spontaneous": False,
    "spontaneous_rate_hz": 0.0,
    "tau_m_ms": 2.0,
    "block_onset_uA_cm2": None,
}
WINDOW = StepWindow(delay_ms=50.0, duration_ms=400.0, spontaneous_ms=400.0)


def test_targets_exclude_block_and_select_latencies(config):
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    t = fit_targets(_fi_rows(), SUMMARY, settings.objective, WINDOW)
    assert t.in_fit.tolist() == [True, True, False]
    assert t.latency_in_fit.tolist() == [False, True, False]
    assert t.n_excluded_block == 1


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("rate_hz", "x", "row 1, column 'rate_hz'"),
        ("first_spike_latency_ms", np.nan, "row 1, column 'first_spike_latency_ms'"),
        ("block", "maybe", "row 1, column 'block'"),
        ("amp_nA", 0.0, "row 1, column 'amp_nA'"),
    ],
)
def test_bad_fi_table_names_row_and_column(config, column, value, message):
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    fi = _fi_rows().astype({column: object})
    fi.loc[1, column] = value
    with pytest.raises(TargetError, match=message):
        fit_targets(fi, SUMMARY, settings.objective, WINDOW)


def test_missing_column_and_summary_key(config):
    settings = MappingConfig.from_config(config["mapping"], "mapping")
    with pytest.raises(TargetError, match="missing column"):
        fit_targets(_fi_rows().drop(columns="block"), SUMMARY, settings.objective, WINDOW)
    summary = {k: v for k, v in SUMMARY.items() if k != "spontaneous"}
    with pytest.raises(TargetError, match="spontaneous"):
        fit_targets(_fi_rows(), summary, settings.objective, WINDOW)
    with pytest.raises(TargetError, match="multiple"):
        StepWindow(50.5, 400.0, 400.0).n_steps(1.0)


def _record(name, gnabar, beta_fit, usable=True):
    return {
        "condition": name,
        "beta_analytic": beta_analytic(gnabar).beta,
        "beta_fit": beta_fit,
        "use_downstream": usable,
        "status": "ok" if usable else "never_fires",
    }


def test_beta_trend_agreement():
    # analytic beta falls with gnabar; a fit that rises with it is discordant
    rising = [_record("a", 0.12, 0.60), _record("b", 0.25, 0.70), _record("c", 1.0, 0.80)]
    out = beta_trend_agreement(rising)
    assert out["same_direction"] is False and out["discordant_pairs"] == 3
    falling = [_record("a", 0.12, 0.9), _record("b", 0.25, 0.8), _record("c", 1.0, 0.1, False)]
    out = beta_trend_agreement(falling)
    assert out["same_direction"] is True and out["concordant_pairs"] == 1
    assert out["skipped"] == {"c": "never_fires"}
    assert beta_trend_agreement(falling[:1])["same_direction"] is None
