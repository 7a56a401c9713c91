"""Every LIF implementation of the bridge against ``snntorch.Leaky`` on the same random inputs.

The equations are written once, in :mod:`bridge.neurons.lif`; each implementation computes them
with its own arithmetic: the mapping stage's float64 numpy path, the regressor's ``LIFLayer``,
the autoencoder's fused kernel (and its Synaptic variant, against ``snntorch.Synaptic``) and the
autoencoder's snntorch engine. Each must give the same spikes, the same membranes to float
rounding and (the trainable ones) the same input gradients as snntorch with the same surrogate.
The checks are first shown to reject wrong neurons (reset without delay, reset to zero, another
surrogate), so a passing check means something.
"""

from __future__ import annotations

import numpy as np
import pytest
import snntorch as snn
import torch
from snntorch import surrogate

from bridge.mapping import lif as mapping_lif
from bridge.neurons.fused import KERNELS, spike_train, spike_train_forward
from bridge.neurons.lif import LIF_SURROGATE_ALPHA, LIF_THRESHOLD, LIFLayer
from bridge.neurons.stepped import snntorch_neuron, snntorch_step

N_STEPS = 60
N_NEURONS = 24
BATCH = 3
#: Membranes may differ by float rounding only (the fused kernel's fused adds).
MEM_RTOL = 1e-12
MEM_ATOL = 1e-12
GRAD_RTOL = 1e-9
GRAD_ATOL = 1e-12
#: Enough spikes that a wrong reset changes many of them.
MIN_SPIKE_FRACTION = 0.1


def random_betas(rng: np.random.Generator) -> np.ndarray:
    """Per-neuron decays, the edges 0 (no memory) and 1 (no leak) included."""
    return np.concatenate([[0.0, 1.0], rng.uniform(0.3, 1.0, N_NEURONS - 2)])


def leaky_reference(
    currents: torch.Tensor,
    beta: torch.Tensor,
    *,
    alpha: torch.Tensor | None = None,
    bias: float = 0.0,
    reset_mechanism: str = "subtract",
    reset_delay: bool = True,
    surrogate_alpha: float = LIF_SURROGATE_ALPHA,
) -> tuple[torch.Tensor, torch.Tensor]:
    """snntorch ``Leaky`` (or ``Synaptic`` with ``alpha``), stepped over ``currents [T, ...]``
    from zero state: ``(spikes [T, ...], membranes [T, ...])``. ``bias`` drives the membrane
    (Synaptic: snntorch's synaptic current of ``currents``, then a ``Leaky`` membrane driven
    by it plus the bias: the bridge's membrane entry, bridge.neurons.fused). The keyword
    arguments other than ``alpha`` and ``bias`` make the wrong neurons the checks must reject."""
    common = {
        "beta": beta,
        "threshold": LIF_THRESHOLD,
        "spike_grad": surrogate.atan(alpha=surrogate_alpha),
        "reset_mechanism": reset_mechanism,
        "reset_delay": reset_delay,
    }
    neuron = snn.Leaky(**common) if alpha is None else snn.Synaptic(alpha=alpha, **common)
    membrane = snn.Leaky(**common)
    mem = torch.zeros_like(currents[0])
    syn = torch.zeros_like(currents[0])
    spikes, mems = [], []
    for current in currents:
        if alpha is None:
            spk, mem = neuron(current + bias, mem)
        elif bias:
            # Synaptic does not reset its current: it does not depend on the membrane.
            _, syn, _ = neuron(current, syn, torch.zeros_like(current))
            spk, mem = membrane(syn + bias, mem)
        else:
            spk, syn, mem = neuron(current, syn, mem)
        spikes.append(spk)
        mems.append(mem)
    return torch.stack(spikes), torch.stack(mems)


def assert_same_neuron(
    spikes: torch.Tensor | np.ndarray,
    mems: torch.Tensor | np.ndarray | None,
    ref_spikes: torch.Tensor,
    ref_mems: torch.Tensor,
) -> None:
    """Spike for spike equal; membranes (where the implementation has them) to rounding."""
    ref_spikes_np = ref_spikes.detach().numpy().astype(bool)
    assert ref_spikes_np.mean() > MIN_SPIKE_FRACTION, "the inputs must make many spikes"
    np.testing.assert_array_equal(_numpy(spikes).astype(bool), ref_spikes_np)
    if mems is not None:
        np.testing.assert_allclose(_numpy(mems), _numpy(ref_mems), rtol=MEM_RTOL, atol=MEM_ATOL)


def _numpy(values: torch.Tensor | np.ndarray) -> np.ndarray:
    return values.detach().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)


def input_gradient(
    inputs: torch.Tensor, spikes: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """d(sum(weights * spikes)) / d inputs: the surrogate's gradient through the whole train."""
    (grad,) = torch.autograd.grad((weights * spikes).sum(), inputs)
    return grad


def random_drive(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen, dtype=torch.float64) * 0.9 - 0.1


def loss_weights(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """Random weights of the spikes in the loss, exact in float32: snntorch's spikes are float32,
    so their gradient is rounded to float32 before its surrogate sees it."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(-8, 9, shape, generator=gen).to(torch.float64) / 8


# -- the checks reject wrong neurons ------------------------------------------------------------


@pytest.mark.parametrize(
    "wrong",
    [{"reset_delay": False}, {"reset_mechanism": "zero"}],
    ids=["reset_without_delay", "reset_to_zero"],
)
@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
def test_check_rejects_a_wrong_reset(wrong: dict, synaptic: bool) -> None:
    rng = np.random.default_rng(0)
    beta = torch.tensor(random_betas(rng))
    alpha = torch.tensor(0.6, dtype=torch.float64) if synaptic else None
    drive = random_drive(0, (N_STEPS, BATCH, N_NEURONS)) * (0.5 if synaptic else 1.0)
    ref = leaky_reference(drive, beta, alpha=alpha)
    bad = leaky_reference(drive, beta, alpha=alpha, **wrong)
    with pytest.raises(AssertionError):
        assert_same_neuron(*bad, *ref)


def test_check_rejects_another_surrogate() -> None:
    beta = torch.tensor(random_betas(np.random.default_rng(1)))
    drive = random_drive(1, (N_STEPS, BATCH, N_NEURONS)).requires_grad_(True)
    weights = loss_weights(2, drive.shape)
    good = input_gradient(drive, leaky_reference(drive, beta)[0], weights)
    bad = input_gradient(drive, leaky_reference(drive, beta, surrogate_alpha=4.0)[0], weights)
    with pytest.raises(AssertionError):
        torch.testing.assert_close(bad, good, rtol=GRAD_RTOL, atol=GRAD_ATOL)


# -- the implementations ------------------------------------------------------------------------


def test_mapping_float64_path_equals_leaky() -> None:
    """``bridge.mapping.lif``: the no-input run and the step protocol of the fits.

    Its functions return summaries (final membrane, spike counts, first latency), so the
    trajectory is read off runs of every length 1..T.
    """
    rng = np.random.default_rng(2)
    beta = random_betas(rng)
    bias = rng.uniform(0.05, 0.6, N_NEURONS)
    w_per_nA, amp_nA, n_delay = 0.4, 0.5, N_STEPS // 3
    n_step = N_STEPS - n_delay
    # The reference sees bias alone during the delay, then w * I + bias (one column per set).
    drive = np.repeat(bias[None, :], N_STEPS, axis=0)
    drive[n_delay:] = w_per_nA * amp_nA + bias
    ref_spikes, ref_mems = leaky_reference(torch.tensor(drive), torch.tensor(beta))

    rest = [mapping_lif.rest_run(beta, bias, n) for n in range(1, n_delay + 1)]
    rest_mems = np.array([u for u, _, _ in rest])
    rest_spikes = np.array([spike for _, spike, _ in rest])
    counts = np.array(
        [
            mapping_lif.simulate_steps(
                beta, w_per_nA, bias, np.array([amp_nA]), n_delay, k, dt_ms=1.0
            ).spike_count[:, 0]
            for k in range(1, n_step + 1)
        ]
    )
    step_spikes = np.diff(counts, axis=0, prepend=0)
    spikes = np.concatenate([rest_spikes, step_spikes])
    mems = np.concatenate([rest_mems, ref_mems[n_delay:].numpy()])  # no membrane in the window
    assert_same_neuron(spikes, mems, ref_spikes, ref_mems)
    # The first latency reads the membranes: the crossing between the two updates around the
    # first spike of the window, placed by linear interpolation (bridge.mapping.lif.StepResponse).
    latency = mapping_lif.simulate_steps(
        beta, w_per_nA, bias, np.array([amp_nA]), n_delay, n_step, dt_ms=1.0
    ).first_latency_ms[:, 0]
    window = ref_spikes[n_delay:].numpy().astype(bool)
    u = ref_mems.numpy()
    assert window.any(axis=0).sum() > N_NEURONS // 2, "most neurons must fire in the window"
    for n in range(N_NEURONS):
        if not window[:, n].any():
            assert np.isnan(latency[n]), n
            continue
        k = int(np.argmax(window[:, n]))
        before, after = u[n_delay + k - 1, n], u[n_delay + k, n]
        rise = after - before if after > before else 1.0  # U can start above threshold
        frac = min(max((LIF_THRESHOLD - before) / rise, 0.0), 1.0)
        assert latency[n] == pytest.approx(k + frac, rel=1e-12), n


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_regressor_lif_layer_equals_leaky(dtype: torch.dtype) -> None:
    rng = np.random.default_rng(3)
    beta = torch.tensor(random_betas(rng), dtype=dtype)
    bias = torch.tensor(rng.uniform(-0.1, 0.2, N_NEURONS), dtype=dtype)
    layer = LIFLayer(N_NEURONS, beta=beta, bias=bias, dtype=dtype)
    x = random_drive(3, (N_STEPS, BATCH, N_NEURONS)).to(dtype).requires_grad_(True)
    out = layer(x, record=True)
    x_ref = x.detach().clone().requires_grad_(True)
    ref_spikes, ref_mems = leaky_reference(x_ref + bias, beta)
    assert_same_neuron(out.output, out.recorded["mem"][1:], ref_spikes, ref_mems)
    weights = loss_weights(4, x.shape).to(dtype)
    torch.testing.assert_close(
        input_gradient(x, out.output, weights),
        input_gradient(x_ref, ref_spikes, weights),
        rtol=GRAD_RTOL,
        atol=GRAD_ATOL,
    )


@pytest.mark.parametrize("static", [False, True], ids=["per_step", "static"])
@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
@pytest.mark.parametrize("kernel", KERNELS)
def test_autoencoder_fused_kernel_equals_snntorch(
    synaptic: bool, static: bool, kernel: str
) -> None:
    """The fused Leaky kernel against snntorch.Leaky, its Synaptic variant against Synaptic."""
    beta, bias = 0.85, 0.05
    alpha = 0.6 if synaptic else None
    scale = 0.5 if synaptic else 1.0
    drive = random_drive(5, (1 if static else N_STEPS, BATCH, N_NEURONS)) * scale
    currents = [c.clone().requires_grad_(True) for c in drive]
    spikes = spike_train(
        currents,
        N_STEPS,
        beta=beta,
        alpha=alpha,
        threshold=LIF_THRESHOLD,
        bias=bias,
        surrogate_alpha=LIF_SURROGATE_ALPHA,
        kernel=kernel,
    )
    _, mems = spike_train_forward(
        [c.detach() for c in currents], N_STEPS, beta, alpha, LIF_THRESHOLD, bias
    )
    ref_in = drive.clone().requires_grad_(True)
    ref_drive = ref_in.expand(N_STEPS, -1, -1) if static else ref_in
    ref_spikes, ref_mems = leaky_reference(
        ref_drive,
        torch.tensor(beta, dtype=torch.float64),
        alpha=None if alpha is None else torch.tensor(alpha, dtype=torch.float64),
        bias=bias,
    )
    assert_same_neuron(torch.stack(spikes), torch.stack(mems), ref_spikes, ref_mems)
    weights = loss_weights(6, (N_STEPS, BATCH, N_NEURONS))
    (weights * torch.stack(spikes)).sum().backward()
    torch.testing.assert_close(
        torch.stack([c.grad for c in currents]),
        input_gradient(ref_in, ref_spikes, weights),
        rtol=GRAD_RTOL,
        atol=GRAD_ATOL,
    )


@pytest.mark.parametrize("synaptic", [False, True], ids=["leaky", "synaptic"])
def test_autoencoder_snntorch_engine_equals_snntorch(synaptic: bool) -> None:
    """The reference engine's neuron (built and stepped as the autoencoder does) against a
    snntorch neuron configured explicitly with the bridge's semantics."""
    beta, alpha, bias = 0.85, 0.6, 0.05
    neuron = snntorch_neuron(synaptic, LIF_THRESHOLD, surrogate.atan(alpha=LIF_SURROGATE_ALPHA))
    neuron.beta.fill_(beta)
    if synaptic:
        neuron.alpha.fill_(alpha)
    drive = random_drive(7, (N_STEPS, BATCH, N_NEURONS)) * (0.5 if synaptic else 1.0)
    x = drive.clone().requires_grad_(True)
    state, spikes, mems = None, [], []
    for current in x:
        spk, state = snntorch_step(neuron, current, state, bias)
        spikes.append(spk)
        mems.append(state[-1])
    ref_in = drive.clone().requires_grad_(True)
    # The engine's decays are float32 buffers (the autoencoder's dtype): the same values here.
    ref_spikes, ref_mems = leaky_reference(
        ref_in,
        neuron.beta.clone(),
        alpha=neuron.alpha.clone() if synaptic else None,
        bias=bias,
    )
    assert_same_neuron(torch.stack(spikes), torch.stack(mems), ref_spikes, ref_mems)
    weights = loss_weights(8, drive.shape)
    torch.testing.assert_close(
        input_gradient(x, torch.stack(spikes), weights),
        input_gradient(ref_in, ref_spikes, weights),
        rtol=GRAD_RTOL,
        atol=GRAD_ATOL,
    )
