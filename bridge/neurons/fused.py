"""Fused spike trains of snntorch's ``Leaky`` and ``Synaptic`` neurons (all steps in one node).

The autoencoder's training kernel (``engine: fused``). One autograd node per layer replaces T
steps of snntorch's modules. Inputs and outputs are per-step tensors (a tuple of T tensors of
shape (batch, ...)), so each step's convolution reads its spikes and writes its currents with no
stacking or slicing copies.

Leaky: the update equations, spike rule and arctan surrogate of :mod:`bridge.neurons.lif` with
``I_t = x_t + bias``. Synaptic (snntorch ``Synaptic``) puts a decaying synaptic current between
the input and the same membrane; the bias enters the membrane, beside the synaptic current::

    syn_t = alpha * syn_{t-1} + x_t
    U_t   = beta * U_{t-1} + syn_t + bias - threshold * S_{t-1}

Both start from zero state. Why the membrane: ``bias`` is the mapping stage's ``bias_fit``, the
constant drive of a LIF fitted with no synaptic filter (the HH cell's resting drive, not a
synaptic input). Entering the membrane, it gives a Synaptic neuron at zero input exactly the
mapped LIF's membrane (``beta_syn`` is the mapping's ``beta_fit``): silent when the LIF's
resting drive ``bias / (1 - beta)`` is below threshold, the LIF's spikes when above. Fed into
the synaptic current instead, ``alpha`` would integrate it to ``bias / (1 - alpha)`` (with the
control's mapping and alpha 0.9 a silent LIF becomes a neuron firing from step 3). Scaling it by
``1 - alpha`` would match that steady state but not the transient from rest (the current would
ramp up over ~1/(1 - alpha) steps, delaying the first spike), and the transient is the
autoencoder's regime (5 steps from rest); the scaled form is the same as the membrane form only
when the synaptic current starts at its steady state (the identity :mod:`bridge.neurons.stepped`
uses to run it on snntorch's module).

The backward pass is hand-written (the bias is a constant: it adds no term): the surrogate
dS/dU at every step and the exact recurrences dL/dU_t = dL/dS_t * dS/dU_t + beta * dL/dU_{t+1} and
dL/dsyn_t = dL/dU_t + alpha * dL/dsyn_{t+1} (the reset is detached, as in snntorch).
Compared with stepping the modules, the forward pass needs about 3 memory passes per step instead
of about 10, and there is no autograd graph inside a layer. It is a separate implementation
because of that speed: its operation order differs from snntorch's (fused adds), so membranes
agree with snntorch's to float rounding, not bit for bit (``tests/test_lif_implementations.py``).

Precision: the neuron state (synaptic current, membrane) is kept in at least float32 whatever the
currents' dtype, because a bfloat16 membrane (8-bit mantissa) would move threshold crossings;
bfloat16 currents (a convolution under autocast) are read as they are and promoted. Spikes are
written in ``spike_dtype`` (0 and 1 are exact in every float type), the next convolution's
input type, so that no cast pass sits between a layer and the next.

Two kernels compute the same update (``kernel``): ``"eager"``, PyTorch operations in place
(about 3 memory passes per step forward, 4 backward), and ``"compiled"``, the same equations
written as one function of all steps and compiled by ``torch.compile`` (TorchInductor's C++
backend: one loop that keeps the state in registers, reads each step's current once and writes
its spike and membrane once). The compiled one needs a C++ compiler at run time and 20-90 s to
compile on a cold cache (measured: 19 s for a training step's graphs, 85 s for a whole training
run's, evaluation included), ~6 s per process to load them from a warm one
(``TORCHINDUCTOR_CACHE_DIR``); its operation order differs from the eager one's, so they agree
to float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

KERNELS = ("eager", "compiled")


def state_dtype(current: torch.Tensor) -> torch.dtype:
    """The neuron state's dtype for currents of ``current``'s dtype: at least float32."""
    return torch.promote_types(current.dtype, torch.float32)


def spike_train_forward(
    currents: Sequence[torch.Tensor],
    num_steps: int,
    beta: float,
    alpha: float | None,
    threshold: float,
    bias: float,
    spike_dtype: torch.dtype | None = None,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per-step spikes and membranes from per-step currents (one current: static input).

    The eager forward pass of :class:`SpikeTrain`, without autograd bookkeeping; ``beta`` and
    ``alpha`` (None: Leaky) already clipped to [0, 1]. Spikes in ``spike_dtype`` (default: the
    state's dtype), membranes in the state's dtype (module docstring).
    """
    static = len(currents) == 1
    dtype = state_dtype(currents[0])
    spikes: list[torch.Tensor] = []
    membranes: list[torch.Tensor] = []
    syn = mem = None
    for t in range(num_steps):
        drive = currents[0 if static else t]
        if alpha is not None:
            # The bias goes to the membrane (module docstring), not into the synaptic current.
            # Mixed-dtype adds promote to the state's dtype without a separate cast pass.
            syn = drive.to(dtype) if syn is None else torch.add(drive, syn, alpha=alpha)
            drive = syn
        elif bias:
            drive = drive.to(dtype).add_(bias) if drive.dtype != dtype else drive + bias
        if mem is None:
            mem = drive + bias if alpha is not None and bias else drive.to(dtype)
        else:
            mem = torch.add(drive, mem, alpha=beta)
            if alpha is not None and bias:
                mem.add_(bias)
            mem.sub_(spikes[-1], alpha=threshold)
        spike = torch.empty_like(mem, dtype=spike_dtype or dtype)
        torch.gt(mem, threshold, out=spike)
        spikes.append(spike)
        membranes.append(mem)
    return spikes, membranes


def _compiled_forward_math(
    currents: list[torch.Tensor],
    num_steps: int,
    beta: float,
    alpha: float,
    threshold: float,
    bias: float,
    spike_dtype: torch.dtype,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The forward update of all steps as one pure function (for ``torch.compile``).

    Leaky is ``alpha = 0`` (then ``syn_t = x_t`` exactly and the bias adds to the membrane,
    which is where a Leaky layer's input-current bias ends up too).
    """
    dtype = state_dtype(currents[0])
    spikes: list[torch.Tensor] = []
    membranes: list[torch.Tensor] = []
    syn = mem = spike = currents[0]
    for t in range(num_steps):
        x = currents[0 if len(currents) == 1 else t].to(dtype)
        if t == 0:
            syn = x
            mem = syn + bias
        else:
            syn = alpha * syn + x
            mem = beta * mem + syn + bias - threshold * spike.to(dtype)
        spike = (mem > threshold).to(spike_dtype)
        spikes.append(spike)
        membranes.append(mem)
    return spikes, membranes


def _compiled_backward_math(
    grad_spikes: list[torch.Tensor],
    membranes: list[torch.Tensor],
    beta: float,
    alpha: float,
    threshold: float,
    surrogate_alpha: float,
    static: bool,
) -> list[torch.Tensor]:
    """The backward recurrences of :func:`_backward` as one pure function (``alpha = 0``:
    Leaky)."""
    k = math.pi / 2 * surrogate_alpha
    steps = len(membranes)
    grads: list[torch.Tensor] = list(membranes)
    grad_mem = grad_syn = membranes[0]
    for t in range(steps - 1, -1, -1):
        d = membranes[t] - threshold
        direct = grad_spikes[t].to(d.dtype) * (surrogate_alpha / 2) / (1 + k * k * d * d)
        grad_mem = direct if t == steps - 1 else direct + beta * grad_mem
        grad_syn = grad_mem if t == steps - 1 else grad_mem + alpha * grad_syn
        grads[t] = grad_syn
    if static:
        total = grads[0]
        for grad in grads[1:]:
            total = total + grad
        return [total]
    return grads


_COMPILED: dict[str, Callable[..., object]] = {}
#: Compiled graphs kept per kernel function (each dtype / step count / static combination).
MAX_COMPILED_GRAPHS = 64


def _compiled(name: str) -> Callable[..., object]:
    """The compiled kernel ``"forward"`` or ``"backward"``, compiled once per process."""
    if name not in _COMPILED:
        source = {"forward": _compiled_forward_math, "backward": _compiled_backward_math}[name]
        # dynamic: one kernel for every layer's size; fullgraph: fail loudly, never half-compile.
        compiled = torch.compile(source, dynamic=True, fullgraph=True)

        def outside_autocast(*args: object) -> object:
            # Autocast is part of dynamo's guards; the kernel has no autocast operation, so one
            # compiled graph serves fp32 and bf16 runs. Each (steps, static, dtypes) combination
            # is a graph of its own: a run uses ~3, a test session many more than dynamo's
            # default limit of 8 (which fullgraph turns into an error).
            with (
                torch.autocast("cpu", enabled=False),
                torch._dynamo.config.patch(recompile_limit=MAX_COMPILED_GRAPHS),
            ):
                return compiled(*args)

        _COMPILED[name] = outside_autocast
    return _COMPILED[name]


def _backward(
    grad_spikes: tuple[torch.Tensor | None, ...],
    membranes: tuple[torch.Tensor, ...],
    beta: float,
    alpha: float | None,
    threshold: float,
    surrogate_alpha: float,
    static: bool,
) -> list[torch.Tensor]:
    """Per-step gradients with respect to the currents (one, summed, for a static input)."""
    k = math.pi / 2 * surrogate_alpha
    steps = len(membranes)
    grads: list[torch.Tensor] = [membranes[0]] * steps
    grad_mem = grad_syn = None
    for t in range(steps - 1, -1, -1):
        if grad_spikes[t] is None:
            # No gradient reaches this step's spikes: only the recurrence carries one.
            direct = torch.zeros_like(membranes[t])
        else:
            # g * (a/2) / (1 + k^2 d^2) = g / (2/a + (2/a) k^2 d^2), d = U - threshold
            direct = membranes[t] - threshold
            torch.addcmul(
                direct.new_tensor(2 / surrogate_alpha),
                direct,
                direct,
                value=2 / surrogate_alpha * k * k,
                out=direct,
            )
            torch.div(grad_spikes[t], direct, out=direct)
        if grad_mem is not None:
            direct.add_(grad_mem, alpha=beta)
        grad_mem = direct
        if alpha is not None:
            grad_syn = grad_mem if grad_syn is None else torch.add(grad_mem, grad_syn, alpha=alpha)
            grads[t] = grad_syn
        else:
            grads[t] = grad_mem
    if static:
        total = grads[0].clone()
        for grad in grads[1:]:
            total.add_(grad)
        return [total]
    return grads


#: Arguments of :meth:`SpikeTrain.forward` before the currents (none gets a gradient).
N_CONSTANTS = 8


class SpikeTrain(torch.autograd.Function):
    """All steps of one Leaky (``alpha=None``) or Synaptic layer as one autograd node.

    ``apply(num_steps, beta, alpha, threshold, bias, surrogate_alpha, spike_dtype, kernel,
    *currents)`` returns a tuple of ``num_steps`` spike tensors; the decay constants are plain
    floats (frozen).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        num_steps: int,
        beta: float,
        alpha: float | None,
        threshold: float,
        bias: float,
        surrogate_alpha: float,
        spike_dtype: torch.dtype | None,
        kernel: str,
        *currents: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        ctx.current_shape = currents[0].shape
        if kernel == "compiled":
            # Flat, detached views: one compiled kernel serves every layer's shape.
            spikes, membranes = _compiled("forward")(
                [c.detach().reshape(-1) for c in currents],
                num_steps,
                beta,
                alpha or 0.0,
                threshold,
                bias,
                spike_dtype or state_dtype(currents[0]),
            )
            spikes = [spike.view(ctx.current_shape) for spike in spikes]
        else:
            spikes, membranes = spike_train_forward(
                currents, num_steps, beta, alpha, threshold, bias, spike_dtype
            )
        ctx.save_for_backward(*membranes)
        ctx.constants = (beta, alpha, threshold, surrogate_alpha, len(currents) == 1, kernel)
        return tuple(spikes)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, *grad_spikes: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, ...]:
        beta, alpha, threshold, surrogate_alpha, static, kernel = ctx.constants
        if kernel == "compiled":
            membranes = ctx.saved_tensors
            grads = _compiled("backward")(
                [
                    torch.zeros_like(mem) if grad is None else grad.reshape(-1)
                    for grad, mem in zip(grad_spikes, membranes, strict=True)
                ],
                list(membranes),
                beta,
                alpha or 0.0,
                threshold,
                surrogate_alpha,
                static,
            )
            grads = [grad.view(ctx.current_shape) for grad in grads]
        else:
            grads = _backward(
                grad_spikes, ctx.saved_tensors, beta, alpha, threshold, surrogate_alpha, static
            )
        return (None,) * N_CONSTANTS + tuple(grads)


def spike_train(
    currents: tuple[torch.Tensor, ...] | list[torch.Tensor],
    num_steps: int,
    *,
    beta: torch.Tensor | float,
    alpha: torch.Tensor | float | None,
    threshold: torch.Tensor | float,
    bias: float,
    surrogate_alpha: float,
    spike_dtype: torch.dtype | None = None,
    kernel: str = "eager",
) -> tuple[torch.Tensor, ...]:
    """Spikes of a layer, one (batch, ...) tensor per step, from its per-step currents.

    A single current means the same current at every step (a static input). ``beta``,
    ``alpha`` (None for Leaky) and ``threshold`` are the snntorch neuron's buffers; the decays
    are clipped to [0, 1] as snntorch does. ``spike_dtype`` (default: the state's dtype) and
    ``kernel`` (one of :data:`KERNELS`) as in the module docstring.
    """
    if len(currents) not in (1, num_steps):
        raise ValueError(f"spike_train: {len(currents)} currents for {num_steps} steps")
    if kernel not in KERNELS:
        raise ValueError(f"spike_train: kernel must be one of {KERNELS}, got {kernel!r}")
    beta_v = min(max(float(beta), 0.0), 1.0)
    alpha_v = None if alpha is None else min(max(float(alpha), 0.0), 1.0)
    return SpikeTrain.apply(
        num_steps,
        beta_v,
        alpha_v,
        float(threshold),
        float(bias),
        surrogate_alpha,
        spike_dtype,
        kernel,
        *currents,
    )
