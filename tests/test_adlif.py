"""AdLIF (Bittar & Garner 2022): update equations, clamped constraints, boxcar surrogate."""

import math

import pytest
import torch

from bridge.neurons.adlif import (
    ADLIF_A_BOUNDS,
    ADLIF_ALPHA_BOUNDS,
    ADLIF_B_BOUNDS,
    ADLIF_BETA_BOUNDS,
    AdLIFLayer,
    AdLIFParams,
    AdLIFState,
    BoxcarSpike,
    adlif_step,
)


def scalar_state(u: float, w: float, s: float) -> AdLIFState:
    return AdLIFState(*(torch.tensor([v], dtype=torch.float64) for v in (u, w, s)))


def test_published_bounds() -> None:
    assert ADLIF_ALPHA_BOUNDS == pytest.approx((0.8187307531, 0.9607894392))
    assert ADLIF_BETA_BOUNDS == pytest.approx((0.9672161004, 0.9917012207))
    assert ADLIF_A_BOUNDS == (-1.0, 1.0) and ADLIF_B_BOUNDS == (0.0, 2.0)


def test_step_against_hand_computation() -> None:
    alpha, beta, a, b = math.exp(-1 / 10), math.exp(-1 / 60), 0.5, 1.0
    params = AdLIFParams(alpha=alpha, beta=beta, a=a, b=b, bias=0.2)
    u0, w0, s0, current = 1.3, 0.1, 1.0, 2.0
    s, state = adlif_step(
        torch.tensor([current], dtype=torch.float64), scalar_state(u0, w0, s0), params
    )
    w = beta * w0 + a * u0 + b * s0
    u = alpha * (u0 - s0) + (1 - alpha) * (current + 0.2 - w)
    assert state.w.item() == pytest.approx(w, abs=1e-12)
    assert state.u.item() == pytest.approx(u, abs=1e-12)
    assert s.item() == float(u > 1.0)


def test_constraints_hold_after_a_step_with_out_of_range_parameters() -> None:
    wild = AdLIFParams(alpha=1.7, beta=-0.4, a=5.0, b=-3.0)
    edge = AdLIFParams(
        alpha=ADLIF_ALPHA_BOUNDS[1],
        beta=ADLIF_BETA_BOUNDS[0],
        a=ADLIF_A_BOUNDS[1],
        b=ADLIF_B_BOUNDS[0],
    )
    x = torch.tensor([0.7, 3.0], dtype=torch.float64)
    start = AdLIFState(
        *(torch.tensor([0.4, 0.9], dtype=torch.float64) for _ in range(2)),
        torch.tensor([0.0, 1.0], dtype=torch.float64),
    )
    s_wild, state_wild = adlif_step(x, start, wild)
    s_edge, state_edge = adlif_step(x, start, edge)
    assert torch.equal(state_wild.u, state_edge.u) and torch.equal(state_wild.w, state_edge.w)
    assert torch.equal(s_wild, s_edge)
    used = wild.constrained()
    assert ADLIF_ALPHA_BOUNDS[0] <= used.alpha <= ADLIF_ALPHA_BOUNDS[1]
    assert ADLIF_BETA_BOUNDS[0] <= used.beta <= ADLIF_BETA_BOUNDS[1]
    assert -1.0 <= used.a <= 1.0 and 0.0 <= used.b <= 2.0


def test_layer_clamps_after_an_optimizer_step_pushes_parameters_out() -> None:
    torch.manual_seed(0)
    layer = AdLIFLayer(5, dtype=torch.float64)
    for name, (low, high) in {
        "alpha": ADLIF_ALPHA_BOUNDS,
        "beta": ADLIF_BETA_BOUNDS,
        "a": ADLIF_A_BOUNDS,
        "b": ADLIF_B_BOUNDS,
    }.items():
        value = getattr(layer, name)
        assert torch.all((value >= low) & (value <= high)), name
    with torch.no_grad():
        layer.alpha.fill_(3.0)
        layer.a.fill_(-7.0)
    x = torch.rand(20, 2, 5, dtype=torch.float64) * 3
    out = layer(x).output
    reference = AdLIFLayer(5, dtype=torch.float64)
    with torch.no_grad():
        for name in ("beta", "b"):
            getattr(reference, name).copy_(getattr(layer, name))
        reference.alpha.fill_(ADLIF_ALPHA_BOUNDS[1])
        reference.a.fill_(-1.0)
    assert torch.equal(out, reference(x).output)
    layer.clamp_parameters_()
    assert torch.all(layer.alpha == ADLIF_ALPHA_BOUNDS[1]) and torch.all(layer.a == -1.0)


def test_boxcar_surrogate_gradient() -> None:
    x = torch.tensor([-0.8, -0.4, 0.0, 0.3, 0.49, 0.6], requires_grad=True)
    spikes = BoxcarSpike.apply(x)
    assert spikes.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    spikes.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_initialisation_is_seeded_and_parameters_train() -> None:
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    first, second = AdLIFLayer(8, generator=g1), AdLIFLayer(8, generator=g2)
    assert all(
        torch.equal(p, q) for p, q in zip(first.parameters(), second.parameters(), strict=True)
    )
    assert sorted(n for n, _ in first.named_parameters()) == ["a", "alpha", "b", "beta"]
    assert list(AdLIFLayer(8, trainable=False).parameters()) == []
    x = torch.rand(40, 3, 8) * 2
    first(x).output.sum().backward()
    assert all(p.grad is not None and torch.any(p.grad != 0) for p in first.parameters())
