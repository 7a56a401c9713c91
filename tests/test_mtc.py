"""The MTC neuron: firing regimes of the presets, rest state, f-I helper, gradients."""

import math

import numpy as np
import pytest
import torch

from bridge.neurons.mtc import (
    MTC_GAIN_FIELDS,
    MTC_PRESET_STEP,
    MTC_PRESETS,
    MTC_REST_KICK_V,
    MTCLayer,
    MTCParams,
    MTCState,
    mtc_fi_curve,
    mtc_preset,
    mtc_rest_is_stable,
    mtc_rest_state,
    mtc_steady_state_current,
    mtc_step,
    mtc_step_response,
)


def step_response(preset: str, rest_time: float, step_time: float, params=None):
    """Rest at zero input, then the preset's demo step; returns spike times and step onset."""
    response = mtc_step_response(
        params or MTC_PRESETS[preset], MTC_PRESET_STEP[preset], rest_time, step_time
    )
    return response.spike_times.numpy(), response.step_onset


def test_tonic_preset_rests_then_fires_regularly() -> None:
    spikes, onset = step_response("tonic", rest_time=500.0, step_time=3000.0)
    assert not np.any(spikes < onset), "tonic preset must be silent at zero input"
    isi = np.diff(spikes[spikes >= onset])
    # Measured: period about 57 units at I_app = -0.5, so about 52 spikes in 3000 units.
    assert 45 <= len(isi) + 1 <= 60
    assert 50.0 <= np.median(isi) <= 65.0
    assert np.std(isi[1:]) / np.mean(isi[1:]) < 0.02, "tonic firing must be regular"


def test_tonic_period_converges_in_dt() -> None:
    periods = []
    for dt in (0.5, 0.1):
        spikes, onset = step_response(
            "tonic", 100.0, 1000.0, params=MTC_PRESETS["tonic"].replace(dt=dt)
        )
        periods.append(np.median(np.diff(spikes[spikes >= onset])))
    assert periods[0] == pytest.approx(periods[1], rel=0.02)


def test_phasic_preset_fires_one_spike_per_step() -> None:
    p = MTC_PRESETS["phasic"]
    amps = torch.tensor([0.2, 0.6, 1.0, 2.0, 2.4], dtype=torch.float64)
    fi = mtc_fi_curve(amps, p, n_steps=round(2000.0 / p.dt))
    assert fi.spike_count.tolist() == [0, 1, 1, 1, 1]
    onset_spikes = fi.first_spike_time[1:]
    assert torch.all(onset_spikes < 20.0), "the single spike must come at step onset"
    assert math.isinf(fi.first_spike_time[0])
    # A tonic neuron fires throughout the same step: phasic is a property of the preset.
    tonic = mtc_fi_curve(amps[2:3], MTC_PRESETS["tonic"], n_steps=round(2000.0 / p.dt))
    assert tonic.spike_count.item() > 20


def test_bursting_preset_bursts_with_stated_structure() -> None:
    p = MTC_PRESETS["bursting"]
    spikes, onset = step_response("bursting", rest_time=500.0, step_time=10000.0)
    assert not np.any(spikes < onset), "bursting preset must be silent at zero input"
    spikes = spikes[spikes >= onset]
    isi = np.diff(spikes)
    gap = isi > 300.0  # far above the intra-burst ISI, far below the silent phase
    starts = np.r_[spikes[0], spikes[1:][gap]]
    sizes = np.diff(np.r_[0, np.flatnonzero(gap) + 1, len(spikes)])
    complete = sizes[1:-1]  # the first burst starts from rest, the last may be cut off
    # Measured at dt 0.5: about 10 spikes per burst, ISI about 82, bursts every about 1650.
    assert len(starts) >= 5
    assert np.all((complete >= 8) & (complete <= 13)), sizes
    assert 70.0 <= np.median(isi[~gap]) <= 100.0
    period = np.diff(starts)[1:]
    assert np.all((period >= 1400.0) & (period <= 1900.0)), period
    assert np.min(isi[gap]) > 8.0 * np.median(isi[~gap])
    assert p.dt == 0.5


@pytest.mark.parametrize("preset", sorted(MTC_PRESETS))
def test_rest_state_is_a_fixed_point(preset: str) -> None:
    p = MTC_PRESETS[preset]
    rest = mtc_rest_state(p, (3,), 0.0, dtype=torch.float64)
    residual = mtc_steady_state_current(rest.v, p) - p.i_bias
    assert torch.allclose(residual, torch.zeros(3, dtype=torch.float64), atol=1e-9)
    _, after = mtc_step(torch.zeros(3, dtype=torch.float64), rest, p)
    for before_x, after_x in zip(rest, after, strict=True):
        assert torch.allclose(before_x, after_x, atol=1e-9)


def test_rest_state_picks_the_lowest_root() -> None:
    # Tonic gains make the steady-state I-V the identity: V* = I_app exactly.
    rest = mtc_rest_state(MTC_PRESETS["tonic"], (1,), 0.3, dtype=torch.float64)
    assert rest.v_slow.item() == pytest.approx(-0.7, abs=1e-9)
    # -0.7 lies in the tonic band (unstable), so V starts kicked off the equilibrium.
    assert rest.v.item() == pytest.approx(-0.7 + MTC_REST_KICK_V, abs=1e-9)
    # A strong fast gain makes the curve N-shaped with three roots at I_app = 0: 0 and
    # +-r with r = 5 tanh(r), r = 4.99955; the lowest one is -r.
    p = MTCParams(a_fast=-5.0, a_slow_pos=0.0, i_bias=0.0, dt=0.1)
    v = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    assert (torch.diff(torch.sign(mtc_steady_state_current(v, p))) != 0).sum() == 3
    rest = mtc_rest_state(p, (1,), 0.0, dtype=torch.float64)
    assert rest.v.item() == pytest.approx(-4.999545608576162, abs=1e-9)


def test_rest_stability_matches_the_tonic_band() -> None:
    p = MTC_PRESETS["tonic"]
    v_star = torch.tensor([-1.2, -0.95, -0.8, 0.0, 0.8, 0.95], dtype=torch.float64)
    # Fast-slow trace at V*: -1 + 2 sech^2 V* - 1/tau_s > 0 inside |V*| < 0.87.
    assert mtc_rest_is_stable(v_star, p).tolist() == [True, True, False, False, False, True]


def test_spontaneous_firing_starts_at_once_in_any_precision() -> None:
    # i_bias inside the tonic band: the rest state is unstable and the neuron fires on its
    # own; without the kick the first spike would wait for rounding errors to grow.
    p = MTC_PRESETS["tonic"].replace(i_bias=-0.5)
    first = [
        mtc_fi_curve(torch.zeros(1, dtype=dtype), p, n_steps=400).first_spike_time.item()
        for dtype in (torch.float32, torch.float64)
    ]
    assert first[0] < 40.0 and first[1] < 40.0
    assert first[0] == pytest.approx(first[1], abs=0.5)


def test_fi_curve_batches_over_amplitudes_and_gains() -> None:
    p = MTC_PRESETS["tonic"]
    amps = torch.tensor([0.0, 0.5, 1.0, 2.5], dtype=torch.float64)
    n_steps = 1200
    batch = mtc_fi_curve(amps, p, n_steps=n_steps)
    for i, amp in enumerate(amps):
        single = mtc_fi_curve(amp.reshape(1), p, n_steps=n_steps)
        assert single.spike_count.item() == batch.spike_count[i].item()
        assert single.first_spike_time.item() == batch.first_spike_time[i].item()
    expected_rate = batch.spike_count.to(torch.float64) / (n_steps * p.dt)
    assert torch.equal(batch.rate_per_unit, expected_rate)
    assert batch.spike_count[0] == 0 and math.isinf(batch.first_spike_time[0])
    # Beyond the tonic band (I_app > 0.85) the cell fires once and blocks, like an HH
    # cell in depolarisation block.
    assert batch.spike_count[3] == 1 and batch.spike_count[1] > 5
    # Batching over a gain grid gives the same numbers as one call per gain.
    gains = torch.tensor([-2.0, -2.5, -3.0], dtype=torch.float64)
    amp = torch.full((3,), 0.5, dtype=torch.float64)
    grid = mtc_fi_curve(amp, p.replace(a_fast=gains), n_steps=n_steps)
    for i, gain in enumerate(gains.tolist()):
        single = mtc_fi_curve(amp[:1], p.replace(a_fast=gain), n_steps=n_steps)
        assert single.spike_count.item() == grid.spike_count[i].item()
    assert len(set(grid.spike_count.tolist())) > 1, "the gain must change the rate"
    # A gains x amplitudes grid in one call.
    table = mtc_fi_curve(amps, p.replace(a_fast=gains.reshape(3, 1)), n_steps=n_steps)
    assert table.spike_count.shape == (3, 4)
    assert torch.equal(table.spike_count[0], batch.spike_count)
    assert table.spike_count[:, 1].tolist() == grid.spike_count.tolist()


def test_input_scale_and_offset_map_layer_units() -> None:
    p = MTC_PRESETS["tonic"]
    native = mtc_fi_curve(torch.tensor([0.5], dtype=torch.float64), p, n_steps=1000)
    # 0.5 model units = 2 nA * 0.2 + 0.1 nA-offset -> same drive, same spikes.
    mapped = mtc_fi_curve(
        torch.tensor([2.0], dtype=torch.float64),
        p.replace(input_scale=0.2, input_offset=0.1),
        n_steps=1000,
    )
    assert mapped.spike_count.item() == native.spike_count.item() > 0


def test_layer_matches_functional_steps_and_substeps() -> None:
    # The layer fuses multiply-adds, so it may differ from mtc_step in the last bits only.
    torch.manual_seed(0)
    p = MTC_PRESETS["bursting"].replace(dt=0.25)
    layer = MTCLayer(3, p, dtype=torch.float64)
    x = torch.rand(40, 2, 3, dtype=torch.float64) * 2.0
    result = layer(x, record=True)
    state = layer.initial_state(2)
    assert torch.equal(state.v, result.recorded["v"][0])
    for t in range(40):
        out, state = mtc_step(x[t], state, layer.current_params())
        assert torch.allclose(out, result.output[t], rtol=0, atol=1e-12)
        for name in MTCState._fields:
            assert torch.allclose(
                getattr(state, name), result.recorded[name][t + 1], rtol=0, atol=1e-12
            )
    two = MTCLayer(3, p.replace(dt=0.125), substeps=2, dtype=torch.float64)(x)
    manual = []
    state = MTCLayer(3, p.replace(dt=0.125), dtype=torch.float64).initial_state(2)
    params = p.replace(dt=0.125)
    for t in range(40):
        out1, state = mtc_step(x[t], state, params)
        out2, state = mtc_step(x[t], state, params)
        manual.append((out1 + out2) / 2)
    assert torch.allclose(two.output, torch.stack(manual), rtol=0, atol=1e-12)
    # A frozen zero-gain element is left out of the layer's arithmetic, a trainable one not:
    # both give mtc_step's trajectory, and the trainable gain still gets its gradient.
    tonic = MTC_PRESETS["tonic"]
    x_tonic = 0.6 * torch.rand(60, 2, 3, dtype=torch.float64)
    frozen = MTCLayer(3, tonic, dtype=torch.float64)
    free = MTCLayer(3, tonic, trainable=("a_ultraslow",), dtype=torch.float64)
    state = frozen.initial_state(2)
    reference = []
    for t in range(60):
        out, state = mtc_step(x_tonic[t], state, tonic)
        reference.append(out)
    reference = torch.stack(reference)
    for candidate in (frozen, free):
        assert torch.allclose(candidate(x_tonic).output, reference, rtol=0, atol=1e-12)
    free(x_tonic).output.sum().backward()
    assert free.a_ultraslow.grad is not None and torch.any(free.a_ultraslow.grad != 0)


def test_trainable_selection() -> None:
    frozen = MTCLayer(4, MTC_PRESETS["tonic"])
    assert list(frozen.parameters()) == []
    assert frozen.a_fast.shape == (4,) and frozen.a_fast[0].item() == -2.0
    trained = MTCLayer(4, MTC_PRESETS["tonic"], trainable=MTC_GAIN_FIELDS)
    assert sorted(name for name, _ in trained.named_parameters()) == sorted(MTC_GAIN_FIELDS)
    with pytest.raises(ValueError, match="cannot train \\['tau_slow'\\]"):
        MTCLayer(4, trainable=("tau_slow",))
    with pytest.raises(KeyError, match="unknown MTC preset 'chaotic'"):
        mtc_preset("chaotic")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dt": 0.7, "a_fast": 2.0}, "Euler limit"),
        ({"tau_slow": 0.0}, "tau_slow must be > 0"),
        ({"v_sat": -1.0}, "v_sat must be greater"),
        ({"dt": 0.0}, "dt must be > 0"),
    ],
)
def test_invalid_params_are_rejected(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MTCParams(**changes)


def _driven_layer(trainable=MTC_GAIN_FIELDS) -> tuple[MTCLayer, torch.Tensor]:
    # Bursting gains (all four elements active), a drive that makes every neuron spike.
    p = MTC_PRESETS["bursting"].replace(dt=0.5, i_bias=-2.0)
    layer = MTCLayer(2, p, trainable=trainable, dtype=torch.float64)
    t = torch.arange(120, dtype=torch.float64)
    x = (0.4 + 0.3 * torch.sin(t / 9.0)).reshape(120, 1, 1).expand(120, 1, 2).clone()
    x[:, :, 1] += 0.5
    return layer, x


def test_gradients_reach_every_trainable_gain() -> None:
    layer, x = _driven_layer()
    result = layer(x)
    assert (result.output > 0).any() and (result.output < 1).any()
    result.output.sum().backward()
    for name in MTC_GAIN_FIELDS:
        grad = getattr(layer, name).grad
        assert grad is not None and torch.isfinite(grad).all(), name
        assert torch.all(grad.abs() > 0), f"{name} got a zero gradient: {grad}"


def test_gradients_match_finite_differences() -> None:
    layer, x = _driven_layer(trainable=())
    base = layer.current_params()
    weights = torch.linspace(0.5, 1.5, x.numel(), dtype=torch.float64).reshape(x.shape)
    rest = layer.initial_state(1)

    def loss(a_fast, a_slow_pos, a_slow_neg, a_ultraslow):
        params = base.replace(
            a_fast=a_fast, a_slow_pos=a_slow_pos, a_slow_neg=a_slow_neg, a_ultraslow=a_ultraslow
        )
        state = MTCState(*rest)
        total = torch.zeros((), dtype=torch.float64)
        for t in range(x.shape[0]):
            out, state = mtc_step(x[t], state, params)
            total = total + (weights[t] * out).sum()
        return total + state.v_ultraslow.sum()

    gains = tuple(getattr(base, name).clone().requires_grad_(True) for name in MTC_GAIN_FIELDS)
    assert torch.autograd.gradcheck(loss, gains, eps=1e-6, atol=1e-5, rtol=1e-4)
