"""SE-AdLIF (Baronig et al.): update equations, published constraints, SLAYER surrogate,
boundedness over a long random input, and a short training that lowers the loss."""

import math

import pytest
import torch

from bridge.neurons.adlif import (
    ADLIF_A_BOUNDS,
    ADLIF_ALPHA_BOUNDS,
    ADLIF_B_BOUNDS,
    ADLIF_BETA_BOUNDS,
    ADLIF_Q,
    ADLIF_TAU_U_BOUNDS,
    ADLIF_TAU_W_BOUNDS,
    AdLIFLayer,
    AdLIFParams,
    AdLIFState,
    SlayerSpike,
    adlif_step,
)


def scalar_state(u: float, w: float, s: float) -> AdLIFState:
    return AdLIFState(*(torch.tensor([v], dtype=torch.float64) for v in (u, w, s)))


def test_published_bounds() -> None:
    assert ADLIF_TAU_U_BOUNDS == (5.0, 25.0) and ADLIF_TAU_W_BOUNDS == (60.0, 300.0)
    assert ADLIF_A_BOUNDS == (0.0, 1.0) and ADLIF_B_BOUNDS == (0.0, 2.0) and ADLIF_Q == 120.0
    assert ADLIF_ALPHA_BOUNDS == pytest.approx((0.8187307531, 0.9607894392))
    assert ADLIF_BETA_BOUNDS == pytest.approx((0.9834714538, 0.9966722160))


@pytest.mark.parametrize(("current", "spikes"), [(2.0, False), (9.0, True)])
def test_step_against_hand_computation(current: float, spikes: bool) -> None:
    tau_u, tau_w, a, b = 10.0, 100.0, 0.5, 1.0
    params = AdLIFParams(tau_u=tau_u, tau_w=tau_w, a=a, b=b, bias=0.2)
    alpha, beta = math.exp(-1 / tau_u), math.exp(-1 / tau_w)
    u0, w0 = 0.6, 0.1
    s, state = adlif_step(
        torch.tensor([current], dtype=torch.float64), scalar_state(u0, w0, 1.0), params
    )
    # The previous spike plays no part: the reset already happened in the previous step.
    u_hat = alpha * u0 + (1 - alpha) * (current + 0.2 - w0)
    assert (u_hat > 1.0) == spikes and s.item() == float(spikes)
    u = 0.0 if spikes else u_hat
    w = beta * w0 + (1 - beta) * ADLIF_Q * (a * u + b * float(spikes))
    assert state.u.item() == pytest.approx(u, abs=1e-12)
    assert state.w.item() == pytest.approx(w, abs=1e-12)


def test_constraints_hold_with_out_of_range_parameters() -> None:
    wild = AdLIFParams(tau_u=1.0, tau_w=1e4, a=-5.0, b=7.0)
    edge = AdLIFParams(tau_u=5.0, tau_w=300.0, a=0.0, b=2.0)
    x = torch.tensor([0.7, 3.0], dtype=torch.float64)
    start = AdLIFState(
        *(torch.tensor([0.4, 0.9], dtype=torch.float64) for _ in range(2)),
        torch.tensor([0.0, 1.0], dtype=torch.float64),
    )
    s_wild, state_wild = adlif_step(x, start, wild)
    s_edge, state_edge = adlif_step(x, start, edge)
    assert torch.equal(state_wild.u, state_edge.u) and torch.equal(state_wild.w, state_edge.w)
    assert torch.equal(s_wild, s_edge)


def test_layer_ranges_and_projection_after_an_optimizer_step() -> None:
    layer = AdLIFLayer(50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.all((layer.tau_u >= 5.0) & (layer.tau_u <= 25.0))
    assert torch.all((layer.tau_w >= 60.0) & (layer.tau_w <= 300.0))
    assert torch.all((layer.a >= 0.0) & (layer.a <= 1.0))
    assert torch.all((layer.b >= 0.0) & (layer.b <= 2.0))
    # Spread over the ranges, not a point.
    assert layer.tau_u.max() - layer.tau_u.min() > 10.0
    with torch.no_grad():
        layer.tau_u_fraction.fill_(3.0)
        layer.a.fill_(-7.0)
    # Out-of-range stored values are clamped where they are used ...
    assert torch.all(layer.tau_u == 25.0)
    x = torch.rand(20, 2, 50, dtype=torch.float64) * 3
    out = layer(x).output
    layer.clamp_parameters_()
    # ... and projected back by clamp_parameters_, with the same simulation.
    assert torch.all(layer.tau_u_fraction == 1.0) and torch.all(layer.a == 0.0)
    assert torch.equal(out, layer(x).output)


def test_slayer_surrogate_gradient() -> None:
    x = torch.tensor([-0.8, 0.0, 0.3], dtype=torch.float64, requires_grad=True)
    spikes = SlayerSpike.apply(x)
    assert spikes.tolist() == [0.0, 0.0, 1.0]
    spikes.sum().backward()
    expected = [0.5 * 0.4 * 5.0 * math.exp(-5.0 * abs(v)) for v in (-0.8, 0.0, 0.3)]
    assert x.grad.tolist() == pytest.approx(expected)


@pytest.mark.parametrize("corner", ["random", "fast_strong", "slow_weak"])
def test_state_stays_bounded_over_a_long_random_input(corner: str) -> None:
    # 10 000 steps of a strong random drive (uniform in [-5, 5], redrawn every step) over
    # parameters spread through the published box and at two of its corners.
    n = 64
    layer = AdLIFLayer(
        n, trainable=False, generator=torch.Generator().manual_seed(3), dtype=torch.float64
    )
    with torch.no_grad():
        if corner == "fast_strong":
            layer.tau_u_fraction.zero_(), layer.tau_w_fraction.zero_()
            layer.a.fill_(1.0), layer.b.fill_(2.0)
        elif corner == "slow_weak":
            layer.tau_u_fraction.fill_(1.0), layer.tau_w_fraction.fill_(1.0)
            layer.a.fill_(0.0), layer.b.fill_(0.0)
    g = torch.Generator().manual_seed(4)
    x = (torch.rand(10_000, 1, n, generator=g, dtype=torch.float64) - 0.5) * 10.0
    result = layer(x, record=True)
    u, w = result.recorded["u"], result.recorded["w"]
    assert torch.isfinite(u).all() and torch.isfinite(w).all()
    # u is a convex mix of its past and I - w, reset to 0 above threshold; w averages
    # q (a u + b s). Neither may grow: the second half's RMS is within 20 % of the first's
    # (a run-away state grows geometrically), and both stay within a fixed box.
    half = u.shape[0] // 2
    for trace in (u, w):
        rms = [
            trace[span].pow(2).mean().sqrt().item() for span in (slice(1, half), slice(half, None))
        ]
        assert rms[1] <= 1.2 * rms[0], rms
    assert u.max() <= 1.0 + 1e-12
    assert u.abs().max() < 50.0 and w.abs().max() < ADLIF_Q * 3.0
    assert result.output.sum() > 0  # the drive is strong enough to fire


def test_initialisation_is_seeded_and_parameters_train() -> None:
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    first, second = AdLIFLayer(8, generator=g1), AdLIFLayer(8, generator=g2)
    assert all(
        torch.equal(p, q) for p, q in zip(first.parameters(), second.parameters(), strict=True)
    )
    assert sorted(n for n, _ in first.named_parameters()) == [
        "a",
        "b",
        "tau_u_fraction",
        "tau_w_fraction",
    ]
    assert list(AdLIFLayer(8, trainable=False).parameters()) == []
    x = torch.rand(40, 3, 8) * 4
    first(x).output.sum().backward()
    assert all(p.grad is not None and torch.any(p.grad != 0) for p in first.parameters())
