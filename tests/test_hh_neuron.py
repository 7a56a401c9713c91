"""The HH cell in real NEURON: known behaviour, hhx == hh, shifts, re-balanced rest, batching."""

from __future__ import annotations

import numpy as np
import pytest

from bridge.config import Condition, ConfigError
from bridge.hh.features import BlockCriterion, rheobase_single, sustained_flags
from hh_models.params import (
    HHParams,
    StepProtocol,
    params_from_condition,
)
from hh_models.protocols import (
    check_rest_stability,
    ou_current,
    run_noise,
    run_spontaneous,
    run_steps,
)

THRESHOLD_mV = -20.0
STORE_DT_ms = 0.1
HH_CFG = {"celsius": 6.3, "cm_uF_cm2": 1.0, "area_um2": 100.0}
#: Short steps keep each test well under a second; the last 100 ms is the "sustained" window.
SHORT = {"delay_ms": 20.0, "duration_ms": 300.0, "after_ms": 20.0}
CRITERION = BlockCriterion(window_ms=100.0, min_spikes=2, v_mean_above_mV=-50.0)


def control(**changes: float) -> HHParams:
    return HHParams(**{"gnabar": 0.12, "gkbar": 0.036, "gl": 0.0003, **changes})


def steps(params: HHParams, amps: tuple[float, ...], mechanism: str | None = None):
    return run_steps(params, StepProtocol(amps, **SHORT), THRESHOLD_mV, STORE_DT_ms, mechanism)


def test_control_silent_at_zero_and_repetitive_above_rheobase() -> None:
    run = steps(control(), (0.0, 3.0, 10.0))
    n = [s.size for s in run.spike_times_ms]
    assert n[0] == 0, "control cell must be silent with no input"
    assert n[1] == 1, "3 uA/cm2 is between single-spike and repetitive onset (~6.2)"
    rate_hz = n[2] / (SHORT["duration_ms"] / 1000.0)
    assert 60.0 < rate_hz < 75.0, f"HH fires ~70 Hz at 10 uA/cm2, got {rate_hz}"
    assert list(sustained_flags(run, CRITERION)) == [False, False, True]
    assert run.v_mV.dtype == np.float32
    assert run.v_mV.shape == (3, round(sum(SHORT.values()) / STORE_DT_ms) + 1)
    # silent sweep stays at the hh rest
    assert abs(run.v_full_mV[0].mean() - (-64.97)) < 0.05


def test_raising_gnabar_lowers_rheobase_and_fires_without_input() -> None:
    amps = tuple(np.round(np.arange(-4.0, 4.01, 0.5), 2))
    low = rheobase_single(steps(control(), amps))
    high = rheobase_single(steps(control(gnabar=0.25), amps))
    assert low.amp_uA_cm2 is not None and high.amp_uA_cm2 is not None
    assert high.amp_uA_cm2 < low.amp_uA_cm2
    assert high.amp_uA_cm2 < 0.0, "gnabar 0.25 fires even against a small hyperpolarising step"
    quiet = run_spontaneous(control(), 300.0, 0.025, THRESHOLD_mV)
    active = run_spontaneous(control(gnabar=0.25), 300.0, 0.025, THRESHOLD_mV)
    assert quiet.spike_times_ms.size == 0
    rate_hz = active.spike_times_ms.size / 0.3
    assert 40.0 < rate_hz < 70.0, f"gnabar 0.25 fires ~50 Hz on its own, got {rate_hz}"


@pytest.mark.parametrize("celsius", [6.3, 16.3])
def test_hhx_with_zero_shifts_reproduces_builtin_hh(celsius: float) -> None:
    params = control(celsius=celsius)
    amps = (0.0, 5.0, 10.0, 50.0, 150.0)
    hh = steps(params, amps, mechanism="hh")
    hhx = steps(params, amps, mechanism="hhx")
    assert sum(s.size for s in hh.spike_times_ms) > 20
    for a, b in zip(hh.spike_times_ms, hhx.spike_times_ms, strict=True):
        assert a.size == b.size
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    np.testing.assert_allclose(hh.v_full_mV, hhx.v_full_mV, rtol=0, atol=1e-9)


@pytest.mark.parametrize(("shift_mV", "direction"), [(-3.0, -1), (3.0, +1)])
def test_activation_shift_moves_rheobase(shift_mV: float, direction: int) -> None:
    """Na activation at lower V (negative shift) fires at less current, and vice versa.

    With el kept, -3 mV already makes the cell fire on its own (rheobase < 0).
    """
    amps = tuple(np.round(np.arange(-10.0, 12.01, 0.5), 2))
    base = rheobase_single(steps(control(), amps)).amp_uA_cm2
    shifted = rheobase_single(steps(control(m_shift_mV=shift_mV), amps)).amp_uA_cm2
    assert base is not None and shifted is not None
    assert np.sign(shifted - base) == direction, (base, shifted)


def test_rebalanced_leak_rests_at_target_and_survives_kicks() -> None:
    condition = Condition("calm", 0.25, 0.036, 0.0003, v_rest_mV=-70.0)
    params = params_from_condition(condition, HH_CFG)
    check = check_rest_stability(params, 2.0, 200.0, 0.5, condition_name=condition.name)
    assert check.max_deviation_mV < 0.5
    run = run_spontaneous(params, 300.0, 0.025, THRESHOLD_mV)
    assert run.spike_times_ms.size == 0, "re-balanced gnabar 0.25 must no longer fire"
    assert abs(run.v_full_mV.mean() - (-70.0)) < 0.01


def test_unstable_rebalanced_rest_fails_naming_the_condition() -> None:
    condition = Condition("restless", 0.25, 0.036, 0.0003, v_rest_mV=-65.0)
    params = params_from_condition(condition, HH_CFG)
    with pytest.raises(ConfigError, match=r"condition 'restless', column 'v_rest_mV'"):
        check_rest_stability(params, 2.0, 200.0, 0.5, condition_name=condition.name)


def test_batched_sweeps_equal_separate_simulations() -> None:
    """Cells of one simulation do not interact: same spikes as one run per amplitude."""
    amps = (2.0, 7.0, 40.0)
    batched = steps(control(), amps)
    for amp, spikes in zip(amps, batched.spike_times_ms, strict=True):
        alone = steps(control(), (amp,)).spike_times_ms[0]
        np.testing.assert_array_equal(spikes, alone)


def test_ou_current_statistics_and_seed() -> None:
    dt_ms, tau_ms = 0.025, 5.0
    x = ou_current(400_000, dt_ms, 5.0, 3.0, tau_ms, np.random.default_rng(1))
    assert abs(x.mean() - 5.0) < 0.2
    assert abs(x.std() - 3.0) < 0.15
    lag = round(tau_ms / dt_ms)
    assert abs(np.corrcoef(x[:-lag], x[lag:])[0, 1] - np.exp(-1)) < 0.05
    again = ou_current(1000, dt_ms, 5.0, 3.0, tau_ms, np.random.default_rng(1))
    np.testing.assert_array_equal(again, x[:1000])


def test_noise_run_is_seeded_and_applies_the_ou_current() -> None:
    cfg = {"duration_ms": 300.0, "mean_uA_cm2": 8.0, "sigma_uA_cm2": 3.0, "tau_ms": 5.0, "seed": 3}
    a = run_noise(control(), cfg, 0.025, THRESHOLD_mV)
    b = run_noise(control(), cfg, 0.025, THRESHOLD_mV)
    c = run_noise(control(), {**cfg, "seed": 4}, 0.025, THRESHOLD_mV)
    assert a.spike_times_ms.size > 5
    np.testing.assert_array_equal(a.v_full_mV, b.v_full_mV)
    assert not np.array_equal(a.i_uA_cm2, c.i_uA_cm2)
    assert a.i_uA_cm2.size == a.v_full_mV.size
