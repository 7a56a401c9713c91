"""Multi-timescale conductance (MTC) neuron: Ribar & Sepulchre's circuit in discrete time.

Continuous model (Ribar & Sepulchre 2019, "Neuromodulation of neuromorphic circuits"; made
trainable in the MTC paper, ``/work/shared/papers/multi-timescale-conductance-snn.txt``)::

    C dV/dt       = I_app - V - sum_x a_x tanh(V_x - delta_x)
    tau_x dV_x/dt = V - V_x

with four current elements: fast (tau 0, so V_fast is V itself), slow positive and slow
negative (both read the same slow filter V_s, tau_slow), ultra-slow (tau_ultraslow). A
negative gain is a negative conductance (positive feedback, Na-like), a positive gain a
restoring one (K-like). Voltages, currents and time are in the model's own units (the
passive conductance is 1, so current and voltage share a unit); ``dt`` is in model time
units and the mapping stage converts with ``mtc_time_unit_ms``.

Discrete time: one forward-Euler step (the published code's integrator) per ``dt``::

    V[k+1]   = V[k]   + dt / C * (I_app[k] - V[k] - I_int(V[k], V_s[k], V_us[k]))
    V_x[k+1] = V_x[k] + dt / tau_x * (V[k] - V_x[k])
    out[k+1] = min(max(V[k+1] - V_th, 0) / (V_sat - V_th), 1)

with ``I_app = input_scale * x + input_offset + i_bias`` (x: the layer input, e.g. nA).
Every operation is differentiable almost everywhere, so BPTT needs no surrogate gradient.

Engines of :class:`MTCLayer` (``engine=``): ``reference`` steps these equations with one
autograd operation per term and substep; ``fused`` (the default) runs all ``T * substeps``
Euler steps of a window as one autograd node with a hand-written backward pass
(:class:`MTCSubsteps`). It integrates the same equations in shifted coordinates, one row per
active current element, ``Y_e = V_x(e) - delta_e`` (plus a row for V, V_s or V_us where no
element reads it; ``Y_V`` is V's row), each row relaxing towards its goal at its rate::

    Y[k+1] = Y[k] + r * (G[k] - Y[k])
    G[k]   = m * Y_V[k] + c_t - e_V * sum_e a_e tanh(Y_e[k])

(``r`` = dt/C on V's row, dt/tau_x on a filter's; ``m`` = 1 on a filter's row, 0 on V's;
``c_t`` = I_app(x_t) - delta_V on V's row and delta_V - delta_e on a filter's, for input
step t; ``e_V`` selects V's row). The backward pass is the exact adjoint of that map, one
batched vector-matrix product per substep with the substep's Jacobian (built for all
substeps at once from the stored tanh)::

    lam[k] = g[k] + lam[k+1] @ J[k],   J[k] = diag(1 - r) + (r m) e_V^T - e_V (r_V a sech^2(Y[k]))^T

(``g[k]``: the gradient reaching the rows after substep k from outside, ``lam[k]``: the total
one; the last term fills V's row in the element columns). The gradients of ``c_t`` (hence of
x, i_bias, the offsets) and of the gains are sums over the stored ``lam`` and ``tanh``: no
autograd graph per substep. Outputs, final and recorded states are read off the stored rows
with ordinary (vectorised) autograd operations. The two engines differ by rounding only
(``tests/test_mtc_fused.py``: forward and gradients).

Output threshold: V_th = 0 is the centre of the fast element's negative-conductance band
|V| < acosh(sqrt(2)) (where the fast I-V slope 1 - 2 sech^2 V is negative for a_fast = -2);
V_sat = acosh(sqrt(2)) is the band's upper edge, so the output is graded only on the fast
up/downstroke and saturates on the upper (spiking) branch: a semi-digital output as in the
MTC paper (whose exact V_th/V_sat are not public).

Presets (:data:`MTC_PRESETS`) rest at zero layer input and show their regime in response
to a step of :data:`MTC_PRESET_STEP` (model current units); the regimes were measured by
simulation at ``dt = 0.5`` (see ``tests/test_mtc.py``):

- ``tonic``: fast -2, slow+ +2 (MODELS.md section 4). With these gains the steady-state
  I-V curve is the identity, so the equilibrium is V* = I_app; it is unstable (tonic
  firing, period about 57 units at I_app = -0.5) for I_app between about -0.85 and +0.85,
  stable below, and above it the cell fires once and stays depolarised (a depolarisation
  block). i_bias = -1 (MODELS.md's "I_app about -1") therefore rests just below the
  firing band; a step of +0.5 fires tonically.
- ``phasic``: our own choice, not from a publication: a class-3-excitable circuit built
  with the I-V reasoning of Ribar & Sepulchre. The slow restoring element is shifted to
  hyperpolarised voltages (delta = -1.2) and doubled (a = +4), so the equilibrium reached
  from rest stays below the fast fold for steps up to about +2.6; a step moves the fast
  I-V curve before the slow current catches up, so the cell fires exactly one spike at
  onset and then rests (measured for steps +0.6 to +2.6; tonic from about +2.8).
  i_bias = -1, demo step +1.
- ``bursting``: fast -2, slow+ +2, slow- -1.5 (delta -0.88), ultra-slow +2 (delta 0)
  (MODELS.md section 4). MODELS.md's I_app about -2.6 is silent here (at dt 1, 0.5 and
  0.1 alike): bursting was measured for I_app from about -2.5 to -1.6. So i_bias = -2.6
  is the resting operating point and the demo step +0.6 (I_app = -2.0) gives bursts of
  about 10 spikes (intra-burst ISI about 82 units) every about 1650 units.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Literal, NamedTuple, get_args

import torch
from torch import nn

from bridge.neurons.base import LayerOutput, check_time_major_input, stack_recorded

Scalar = float | torch.Tensor

#: Default Euler step in model time units, a fifth of the cost of 0.1 at nearly its
#: accuracy: tonic ISI 57.0 vs 56.5 units (tests/test_mtc.py checks 2 %), and the bursting
#: preset fires the same 121 spikes in 20000 units at I_app = -2 with either step.
MTC_DEFAULT_DT = 0.5
#: Timescales of the slow and ultra-slow filters (MODELS.md section 4), model time units.
MTC_TAU_SLOW = 50.0
MTC_TAU_ULTRASLOW = 2500.0
#: Upper edge of the fast negative-conductance band for a_fast = -2: 1 - 2 sech^2 V = 0.
MTC_FAST_FOLD_V = math.acosh(math.sqrt(2.0))
#: Offset of the slow negative element (MODELS.md: about -0.88, i.e. -MTC_FAST_FOLD_V).
MTC_SLOW_NEG_OFFSET = -0.88
#: A spike is an upward crossing of this V (model units) in :func:`mtc_fi_curve`.
MTC_SPIKE_THRESHOLD_V = 0.0
#: Output nonlinearity: graded between V_th and V_sat (see the module docstring).
MTC_OUTPUT_V_TH = 0.0
MTC_OUTPUT_V_SAT = MTC_FAST_FOLD_V
#: Fields a layer may make trainable. Timescales, C, dt and the output window stay fixed.
MTC_GAIN_FIELDS = ("a_fast", "a_slow_pos", "a_slow_neg", "a_ultraslow")
MTC_OFFSET_FIELDS = ("delta_fast", "delta_slow_pos", "delta_slow_neg", "delta_ultraslow")
MTC_TRAINABLE_FIELDS = MTC_GAIN_FIELDS + MTC_OFFSET_FIELDS + ("i_bias",)
#: Fraction of forward Euler's stability bound on dt * (1 + a_fast) / C (which is 2) that a
#: trained a_fast may reach (:meth:`MTCLayer.clamp_parameters_`): MTCParams refuses a layer at
#: the bound itself, and a step that crossed it would stop a training run.
MTC_EULER_SAFETY = 0.9
#: Implementations of :class:`MTCLayer` (module docstring): fused (one autograd node per
#: window, hand-written backward) or reference (one autograd operation per term and substep).
MTCEngine = Literal["fused", "reference"]
MTC_ENGINES: tuple[str, ...] = get_args(MTCEngine)
#: Displacement of V (model units) that starts an unstable rest state off its equilibrium.
MTC_REST_KICK_V = 1e-3
#: Grid points used to bracket the most hyperpolarised root of the steady-state I-V curve.
REST_SEARCH_POINTS = 4001
REST_BISECTION_ITERATIONS = 60


def _max_value(value: Scalar) -> float:
    return float(torch.as_tensor(value).detach().max())


def _min_value(value: Scalar) -> float:
    return float(torch.as_tensor(value).detach().min())


@dataclass(frozen=True)
class MTCParams:
    """Parameters of the MTC neuron (model units; ``dt`` and taus in model time units).

    Every field but ``dt`` may be a float or a tensor broadcastable against the state
    (e.g. ``[N]`` for per-neuron values, or ``[n]`` to batch an f-I curve over gains).
    """

    a_fast: Scalar = -2.0
    delta_fast: Scalar = 0.0
    a_slow_pos: Scalar = 2.0
    delta_slow_pos: Scalar = 0.0
    a_slow_neg: Scalar = 0.0
    delta_slow_neg: Scalar = MTC_SLOW_NEG_OFFSET
    a_ultraslow: Scalar = 0.0
    delta_ultraslow: Scalar = 0.0
    tau_slow: Scalar = MTC_TAU_SLOW
    tau_ultraslow: Scalar = MTC_TAU_ULTRASLOW
    c_membrane: Scalar = 1.0
    i_bias: Scalar = -1.0
    input_scale: Scalar = 1.0
    input_offset: Scalar = 0.0
    v_th: Scalar = MTC_OUTPUT_V_TH
    v_sat: Scalar = MTC_OUTPUT_V_SAT
    dt: float = MTC_DEFAULT_DT

    def __post_init__(self) -> None:
        for name in ("tau_slow", "tau_ultraslow", "c_membrane"):
            if _min_value(getattr(self, name)) <= 0.0:
                raise ValueError(f"MTCParams.{name} must be > 0; got {getattr(self, name)}")
        if not self.dt > 0.0:
            raise ValueError(f"MTCParams.dt must be > 0; got {self.dt}")
        if _min_value(torch.as_tensor(self.v_sat) - torch.as_tensor(self.v_th)) <= 0.0:
            raise ValueError("MTCParams.v_sat must be greater than v_th")
        # Forward Euler on C dV/dt = -(1 + a_fast sech^2) V + ...: stable while
        # dt < 2 C / (1 + max(a_fast, 0)); the filters need dt < 2 tau.
        limit = 2.0 * _min_value(self.c_membrane) / (1.0 + max(_max_value(self.a_fast), 0.0))
        if self.dt >= limit:
            raise ValueError(f"MTCParams.dt = {self.dt} is at or above the Euler limit {limit:.3g}")
        if self.dt >= 2.0 * _min_value(self.tau_slow):
            raise ValueError(f"MTCParams.dt = {self.dt} is not below 2 * tau_slow")

    def replace(self, **changes: Scalar) -> MTCParams:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, float | list[float]]:
        """JSON-ready values (tensors become floats or lists)."""
        out: dict[str, float | list[float]] = {}
        for f in fields(self):
            key, value = f.name, getattr(self, f.name)
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu()
                out[key] = value.item() if value.numel() == 1 else value.tolist()
            else:
                out[key] = float(value)
        return out


#: Regime presets (see the module docstring for sources and measured behaviour).
MTC_PRESETS: dict[str, MTCParams] = {
    "tonic": MTCParams(i_bias=-1.0),
    "phasic": MTCParams(a_slow_pos=4.0, delta_slow_pos=-1.2, i_bias=-1.0),
    "bursting": MTCParams(
        a_slow_neg=-1.5,
        delta_slow_neg=MTC_SLOW_NEG_OFFSET,
        a_ultraslow=2.0,
        delta_ultraslow=0.0,
        i_bias=-2.6,
    ),
}
#: Step in layer input (model current units, input_scale 1) that shows each regime.
MTC_PRESET_STEP: dict[str, float] = {"tonic": 0.5, "phasic": 1.0, "bursting": 0.6}


def mtc_preset(name: str) -> MTCParams:
    """The named preset; raises ``KeyError`` naming the known ones."""
    try:
        return MTC_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown MTC preset {name!r}; known: {sorted(MTC_PRESETS)}") from None


class MTCState(NamedTuple):
    """Membrane V and the slow and ultra-slow filtered voltages (model units)."""

    v: torch.Tensor
    v_slow: torch.Tensor
    v_ultraslow: torch.Tensor


def mtc_internal_current(
    v: torch.Tensor, v_slow: torch.Tensor, v_ultraslow: torch.Tensor, params: MTCParams
) -> torch.Tensor:
    """Sum of the four element currents ``sum_x a_x tanh(V_x - delta_x)`` (model units)."""
    p = params
    return (
        p.a_fast * torch.tanh(v - p.delta_fast)
        + p.a_slow_pos * torch.tanh(v_slow - p.delta_slow_pos)
        + p.a_slow_neg * torch.tanh(v_slow - p.delta_slow_neg)
        + p.a_ultraslow * torch.tanh(v_ultraslow - p.delta_ultraslow)
    )


def mtc_applied_current(input_current: Scalar, params: MTCParams) -> Scalar:
    """``I_app = input_scale * x + input_offset + i_bias`` (model current units)."""
    return params.input_scale * input_current + params.input_offset + params.i_bias


def mtc_output(v: torch.Tensor, params: MTCParams) -> torch.Tensor:
    """Normalised saturated ReLU ``min(max(V - V_th, 0) / (V_sat - V_th), 1)``."""
    return torch.clamp((v - params.v_th) / (params.v_sat - params.v_th), 0.0, 1.0)


def mtc_step(
    input_current: torch.Tensor, state: MTCState, params: MTCParams
) -> tuple[torch.Tensor, MTCState]:
    """One forward-Euler step; returns the output of the new V and the new state."""
    v, v_slow, v_ultraslow = state
    i_app = mtc_applied_current(input_current, params)
    i_int = mtc_internal_current(v, v_slow, v_ultraslow, params)
    v_new = v + params.dt / params.c_membrane * (i_app - v - i_int)
    v_slow_new = v_slow + params.dt / params.tau_slow * (v - v_slow)
    v_ultraslow_new = v_ultraslow + params.dt / params.tau_ultraslow * (v - v_ultraslow)
    return mtc_output(v_new, params), MTCState(v_new, v_slow_new, v_ultraslow_new)


def mtc_steady_state_current(v: torch.Tensor, params: MTCParams) -> torch.Tensor:
    """Steady-state I-V curve (all filters at V): the I_app that holds V (model units)."""
    return v + mtc_internal_current(v, v, v, params)


@torch.no_grad()
def mtc_rest_state(
    params: MTCParams,
    shape: tuple[int, ...],
    input_current: torch.Tensor | float = 0.0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> MTCState:
    """Equilibrium state for a constant input: the most hyperpolarised steady-state root.

    Solves ``mtc_steady_state_current(V) = I_app(x)`` elementwise (grid bracketing, then
    bisection in float64) and sets V = V_s = V_us to the lowest root. Where that root is
    unstable (:func:`mtc_rest_is_stable`; the neuron fires at this input) V is displaced by
    :data:`MTC_REST_KICK_V`, so firing starts at once instead of after rounding errors
    have grown (which would take a precision-dependent 50-150 time units). Gradients do not
    flow through the initial state.
    """
    dtype = dtype or torch.get_default_dtype()
    p64 = MTCParams(
        **{
            f.name: (
                getattr(params, f.name)
                if f.name == "dt"
                else torch.as_tensor(getattr(params, f.name), dtype=torch.float64)
                .detach()
                .to(device=device)
            )
            for f in fields(MTCParams)
        }
    )
    target = mtc_applied_current(
        torch.as_tensor(input_current, dtype=torch.float64, device=device), p64
    )
    target = torch.broadcast_to(target, shape)
    gain_sum = sum(torch.as_tensor(getattr(p64, name)).abs() for name in MTC_GAIN_FIELDS)
    # |sum a tanh| <= sum |a|, so the roots lie in [I - sum|a|, I + sum|a|].
    half_width = torch.broadcast_to(gain_sum + 1.0, shape)
    fractions = torch.linspace(-1.0, 1.0, REST_SEARCH_POINTS, dtype=torch.float64, device=device)
    grid = target + half_width * fractions.view(-1, *([1] * len(shape)))
    residual = mtc_steady_state_current(grid, p64) - target
    first_above = torch.argmax((residual >= 0.0).to(torch.int8), dim=0)
    first_above = first_above.clamp(min=1)
    upper = torch.gather(grid, 0, first_above.unsqueeze(0)).squeeze(0)
    lower = torch.gather(grid, 0, (first_above - 1).unsqueeze(0)).squeeze(0)
    for _ in range(REST_BISECTION_ITERATIONS):
        mid = 0.5 * (lower + upper)
        above = mtc_steady_state_current(mid, p64) - target >= 0.0
        upper = torch.where(above, mid, upper)
        lower = torch.where(above, lower, mid)
    v_rest = 0.5 * (lower + upper)
    stable = mtc_rest_is_stable(v_rest, p64)
    v = torch.where(stable, v_rest, v_rest + MTC_REST_KICK_V).to(dtype)
    v_rest = v_rest.to(dtype)
    return MTCState(v, v_rest, v_rest.clone())


def mtc_jacobian(v_rest: torch.Tensor, params: MTCParams) -> torch.Tensor:
    """Jacobian ``[..., 3, 3]`` of the continuous (V, V_s, V_us) flow at V = V_s = V_us = v_rest."""
    p = params

    def slope(gain: Scalar, offset: Scalar) -> torch.Tensor:
        return gain * (1.0 - torch.tanh(v_rest - offset) ** 2)

    c, tau_s, tau_us = p.c_membrane, p.tau_slow, p.tau_ultraslow
    zero = torch.zeros_like(v_rest)

    def full(value: Scalar) -> torch.Tensor:
        return torch.broadcast_to(torch.as_tensor(value, dtype=v_rest.dtype), v_rest.shape)

    rows = [
        [
            -(1.0 + slope(p.a_fast, p.delta_fast)) / c,
            -(slope(p.a_slow_pos, p.delta_slow_pos) + slope(p.a_slow_neg, p.delta_slow_neg)) / c,
            -slope(p.a_ultraslow, p.delta_ultraslow) / c,
        ],
        [full(1.0 / tau_s) + zero, full(-1.0 / tau_s) + zero, zero],
        [full(1.0 / tau_us) + zero, zero, full(-1.0 / tau_us) + zero],
    ]
    return torch.stack([torch.stack(row, dim=-1) for row in rows], dim=-2)


def mtc_rest_is_stable(v_rest: torch.Tensor, params: MTCParams) -> torch.Tensor:
    """True where the equilibrium at ``v_rest`` is linearly stable (all eigenvalues Re < 0)."""
    eigenvalues = torch.linalg.eigvals(mtc_jacobian(v_rest.to(torch.float64), params))
    return eigenvalues.real.max(dim=-1).values < 0.0


def mtc_simulate(
    input_current: torch.Tensor, params: MTCParams, state: MTCState | None = None
) -> LayerOutput:
    """Run independent neurons over ``input_current [T, n]`` (layer-input units).

    Starts from :func:`mtc_rest_state` at the first input unless ``state`` is given.
    Returns outputs ``[T, n]`` and the recorded state ``[T + 1, n]`` (for voltage traces).
    """
    if input_current.dim() != 2:
        raise ValueError(f"mtc_simulate: input must be [T, n]; got {tuple(input_current.shape)}")
    if state is None:
        state = mtc_rest_state(
            params,
            tuple(input_current.shape[1:]),
            input_current[0],
            dtype=input_current.dtype,
            device=input_current.device,
        )
    record: dict[str, list[torch.Tensor]] = {name: [getattr(state, name)] for name in state._fields}
    outputs = []
    for x_t in input_current:
        out, state = mtc_step(x_t, state, params)
        outputs.append(out)
        for name in state._fields:
            record[name].append(getattr(state, name))
    return LayerOutput(torch.stack(outputs), state, stack_recorded(record))


@dataclass(frozen=True)
class MTCStepResponse:
    """One neuron's response to rest then a step (time in model units, float64).

    ``time`` and the state traces have T + 1 samples (index 0 the rest state); ``input``
    and ``output`` have T (step k covers time[k] to time[k + 1]); ``spike_times`` are the
    sample times at which V first reaches the spike threshold (upward crossings).
    """

    time: torch.Tensor
    input: torch.Tensor
    v: torch.Tensor
    v_slow: torch.Tensor
    v_ultraslow: torch.Tensor
    output: torch.Tensor
    spike_times: torch.Tensor
    step_onset: float


def mtc_step_response(
    params: MTCParams,
    step_amp: float,
    rest_time: float,
    step_time: float,
    spike_threshold_v: float = MTC_SPIKE_THRESHOLD_V,
) -> MTCStepResponse:
    """Zero layer input for ``rest_time``, then ``step_amp`` for ``step_time`` (model units).

    With a preset and its :data:`MTC_PRESET_STEP` this is the regime figure's trace.
    """
    n_rest, n_step = round(rest_time / params.dt), round(step_time / params.dt)
    if n_step < 1 or n_rest < 0:
        raise ValueError(f"mtc_step_response: need step_time >= dt ({step_time=}, dt={params.dt})")
    x = torch.zeros(n_rest + n_step, 1, dtype=torch.float64)
    x[n_rest:] = step_amp
    result = mtc_simulate(x, params)
    v = result.recorded["v"][:, 0]
    time = params.dt * torch.arange(len(v), dtype=torch.float64)
    crossed = (v[:-1] < spike_threshold_v) & (v[1:] >= spike_threshold_v)
    return MTCStepResponse(
        time=time,
        input=x[:, 0],
        v=v,
        v_slow=result.recorded["v_slow"][:, 0],
        v_ultraslow=result.recorded["v_ultraslow"][:, 0],
        output=result.output[:, 0],
        spike_times=time[1:][crossed],
        step_onset=n_rest * params.dt,
    )


@dataclass(frozen=True)
class MTCFICurve:
    """Spike statistics per input amplitude (model time units).

    ``first_spike_time`` is ``+inf`` where the neuron did not spike during the step.
    ``mean_output`` is the mean normalised output over the step, a smooth rate proxy.
    """

    input_amp: torch.Tensor
    spike_count: torch.Tensor
    rate_per_unit: torch.Tensor
    first_spike_time: torch.Tensor
    mean_output: torch.Tensor
    duration: float


def mtc_fi_curve(
    input_amp: torch.Tensor,
    params: MTCParams,
    n_steps: int,
    dt: float | None = None,
    settle_steps: int = 0,
    baseline_input: float = 0.0,
    spike_threshold_v: float = MTC_SPIKE_THRESHOLD_V,
) -> MTCFICurve:
    """f-I curve of single MTC neurons, batched over amplitudes and any tensor params.

    The result has the broadcast shape of ``input_amp`` and the tensor fields of
    ``params``: gains ``[g, 1]`` against amplitudes ``[n]`` give a ``[g, n]`` grid.

    Each neuron starts at :func:`mtc_rest_state` for ``baseline_input``, runs
    ``settle_steps`` at the baseline, then ``n_steps`` with the layer input set to
    ``input_amp[i]`` (layer-input units: I_app = input_scale * x + input_offset + i_bias,
    so with the default scale 1 and offset 0 the amplitude is a model current step on top
    of ``i_bias``). A spike is an upward crossing of ``spike_threshold_v``
    (``V[k-1] < thr <= V[k]``), counted during the step; the first spike time is linearly
    interpolated between the two samples and measured from step onset.
    """
    if input_amp.dim() != 1:
        raise ValueError(f"mtc_fi_curve: input_amp must be 1-D [n]; got {tuple(input_amp.shape)}")
    if n_steps < 1 or settle_steps < 0:
        raise ValueError(f"mtc_fi_curve: need n_steps >= 1, settle_steps >= 0 ({n_steps=})")
    if dt is not None:
        params = params.replace(dt=dt)
    shape = tuple(torch.broadcast_shapes(input_amp.shape, *_tensor_shapes(params)))
    amp = torch.broadcast_to(input_amp, shape)
    baseline = torch.full(shape, baseline_input, dtype=amp.dtype, device=amp.device)
    # The rest state depends on the parameters and the baseline only: solve it on the
    # parameters' shape (elementwise, so the same values) and broadcast over amplitudes.
    rest_shape = tuple(torch.broadcast_shapes((1,) * len(shape), *_tensor_shapes(params)))
    rest = mtc_rest_state(params, rest_shape, baseline_input, dtype=amp.dtype, device=amp.device)
    state = MTCState(*(torch.broadcast_to(x, shape) for x in rest))
    for _ in range(settle_steps):
        _, state = mtc_step(baseline, state, params)
    count = torch.zeros(shape, dtype=torch.int64, device=amp.device)
    first = torch.full(shape, math.inf, dtype=amp.dtype, device=amp.device)
    output_sum = torch.zeros(shape, dtype=amp.dtype, device=amp.device)
    v_prev = state.v
    for k in range(n_steps):
        out, state = mtc_step(amp, state, params)
        output_sum = output_sum + out
        v = state.v
        crossed = (v_prev < spike_threshold_v) & (v >= spike_threshold_v)
        fraction = (spike_threshold_v - v_prev) / torch.where(crossed, v - v_prev, 1.0)
        time = (k + fraction.detach()) * params.dt
        first = torch.where(crossed & torch.isinf(first), time, first)
        count = count + crossed.to(torch.int64)
        v_prev = v
    duration = n_steps * params.dt
    return MTCFICurve(
        input_amp=amp,
        spike_count=count,
        rate_per_unit=count.to(amp.dtype) / duration,
        first_spike_time=first,
        mean_output=output_sum / n_steps,
        duration=duration,
    )


def _tensor_shapes(params: MTCParams) -> Iterable[torch.Size]:
    for f in fields(MTCParams):
        value = getattr(params, f.name)
        if isinstance(value, torch.Tensor):
            yield value.shape


def mtc_substeps_forward(
    y0: torch.Tensor,
    target: torch.Tensor,
    rate: torch.Tensor,
    follows_v: torch.Tensor,
    gain: torch.Tensor,
    substeps: int,
    v_row: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euler substeps of the fused engine's rows (module docstring), without autograd.

    ``y0 [R, B, N]`` initial rows (element rows first), ``target [T, R, B, N]`` the constant
    part ``c_t`` of each input step's goals, ``rate`` and ``follows_v [R, 1, N]`` (``r``,
    ``m``), ``gain [E, 1, N]`` the element gains a_e. Returns the rows after every substep
    ``[T * substeps + 1, R, B, N]`` (index 0 is ``y0``) and the element tanh values of every
    substep ``[T * substeps, E, B, N]``.
    """
    n_elements = gain.shape[0]
    n_total = target.shape[0] * substeps
    rows = y0.new_empty((n_total + 1, *y0.shape))
    rows[0] = y0
    tanh = y0.new_empty((n_total, n_elements, *y0.shape[1:]))
    goal = torch.empty_like(y0)
    goal_v = goal[v_row]
    # Views made in bulk: at these sizes making a view costs about as much as the arithmetic.
    row_views, v_views = rows.unbind(0), rows[:, v_row].unbind(0)
    element_views, tanh_views = rows[:, :n_elements].unbind(0), tanh.unbind(0)
    target_views = target.unbind(0)
    for k in range(n_total):
        torch.addcmul(target_views[k // substeps], follows_v, v_views[k], out=goal)
        if n_elements:
            torch.tanh(element_views[k], out=tanh_views[k])
            goal_v.sub_(torch.linalg.vecdot(gain, tanh_views[k], dim=0))
        # Y + r (goal - Y): the increment form keeps a slow filter's unit DC gain exact (in
        # the form (1 - r) Y + r goal, rounding 1 - r errs by up to 3e-4 of the ultra-slow r
        # in float32).
        torch.lerp(row_views[k], goal, rate, out=row_views[k + 1])
    return rows, tanh


def mtc_substeps_backward(
    grad_rows: torch.Tensor,
    tanh: torch.Tensor,
    rate: torch.Tensor,
    follows_v: torch.Tensor,
    gain: torch.Tensor,
    v_row: int,
    need_gain: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The adjoint recurrence of :func:`mtc_substeps_forward` (module docstring).

    ``grad_rows [K + 1, R, B, N]`` is the loss gradient with respect to the returned rows.
    Returns ``adjoint [K + 1, R, B, N]`` (index k: the total gradient with respect to the
    rows after substep k, index 0 the initial rows) and the gradient with respect to
    ``gain`` (None unless ``need_gain``).
    """
    n_total, n_elements = tanh.shape[0], tanh.shape[1]
    n_rows, batch, n_neurons = grad_rows.shape[1:]
    rate_rows = rate.squeeze(1).T  # [N, R]
    # Jacobian of every substep for every sequence and neuron, [K, B * N, R, R] (entry i, j:
    # dY_i[k + 1] / dY_j[k]): 1 - r on the diagonal, r m in V's column, and in V's row the
    # elements' -r_V a_e sech^2(Y_e[k]). With it the recurrence is one batched
    # vector-matrix product per substep.
    linear = torch.diag_embed(1.0 - rate_rows)
    linear[:, :, v_row] += rate_rows * follows_v.squeeze(1).T
    jacobian = linear.expand(n_total, batch, n_neurons, n_rows, n_rows).clone()
    v_rate_gain = rate[v_row] * gain  # [E, 1, N]: r_V a_e
    if n_elements:
        sensitivity = torch.addcmul(-v_rate_gain, v_rate_gain, tanh * tanh)
        jacobian[:, :, :, v_row, :n_elements] += sensitivity.permute(0, 2, 3, 1)
    jacobian = jacobian.reshape(n_total, batch * n_neurons, n_rows, n_rows)
    # Row-vector form, rows last: lam[k] = g[k] + lam[k + 1] @ jacobian[k].
    grad = grad_rows.permute(0, 2, 3, 1).reshape(n_total + 1, batch * n_neurons, 1, n_rows)
    adjoint = torch.empty_like(grad)
    adjoint[n_total] = grad[n_total]
    adjoint_views, grad_views = adjoint.unbind(0), grad.unbind(0)
    jacobian_views = jacobian.unbind(0)
    for k in range(n_total - 1, -1, -1):
        torch.baddbmm(grad_views[k], adjoint_views[k + 1], jacobian_views[k], out=adjoint_views[k])
    adjoint = adjoint.reshape(n_total + 1, batch, n_neurons, n_rows).permute(0, 3, 1, 2)
    grad_gain = None
    if need_gain:
        # d(V row after substep k) / d(a_e) = -r_V tanh(Y_e[k]).
        grad_gain = -rate[v_row] * (adjoint[1:, v_row].unsqueeze(1) * tanh).sum(dim=(0, 2))
        grad_gain = grad_gain.unsqueeze(1)
    return adjoint, grad_gain


class MTCSubsteps(torch.autograd.Function):
    """All Euler substeps of a window as one autograd node (the fused engine's kernel).

    ``apply(substeps, v_row, y0, target, rate, follows_v, gain)`` returns the rows of
    :func:`mtc_substeps_forward`; gradients flow to ``y0``, ``target`` and ``gain`` (the
    rates come from dt, C and the taus, which no layer trains).
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        substeps: int,
        v_row: int,
        y0: torch.Tensor,
        target: torch.Tensor,
        rate: torch.Tensor,
        follows_v: torch.Tensor,
        gain: torch.Tensor,
    ) -> torch.Tensor:
        rows, tanh = mtc_substeps_forward(y0, target, rate, follows_v, gain, substeps, v_row)
        ctx.save_for_backward(tanh, rate, follows_v, gain)
        ctx.constants = (substeps, v_row)
        return rows

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad_rows: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        substeps, v_row = ctx.constants
        tanh, rate, follows_v, gain = ctx.saved_tensors
        _, _, need_y0, need_target, _, _, need_gain = ctx.needs_input_grad
        adjoint, grad_gain = mtc_substeps_backward(
            grad_rows, tanh, rate, follows_v, gain, v_row, need_gain
        )
        grad_target = None
        if need_target:
            # c_t enters every substep of input step t, scaled by the row's rate.
            per_substep = adjoint[1:]
            grad_target = rate * per_substep.reshape(-1, substeps, *per_substep.shape[1:]).sum(
                dim=1
            )
        return (None, None, adjoint[0] if need_y0 else None, grad_target, None, None, grad_gain)


class _FusedRows(NamedTuple):
    """Row layout of the fused engine: which state variable each row holds, and offsets."""

    state_of_row: list[int]
    offsets: torch.Tensor  # [R, N]: delta_e on element rows, 0 on the others
    gains: list[Scalar]  # one per element row (the first len(gains) rows)
    row_of_state: list[int]  # first row holding V, V_s, V_us

    @property
    def v_row(self) -> int:
        return self.row_of_state[0]


class MTCLayer(nn.Module):
    """A layer of ``n_neurons`` MTC neurons: input ``[T, B, N]`` -> output ``[T, B, N]``.

    Every parameter is stored per neuron (shape ``[N]``); the fields named in
    ``trainable`` (a subset of :data:`MTC_TRAINABLE_FIELDS`) are ``nn.Parameter``, the
    rest buffers (frozen, e.g. a condition's mapped gains). ``substeps`` Euler steps run
    per input step with the input held, so one input step lasts ``substeps * dt`` model
    time units; the output of an input step is the mean of its substeps' outputs (non-zero
    iff any substep's output is). The default initial state is the rest state at zero
    input (:func:`mtc_rest_state`), computed without gradient. ``dtype`` defaults to torch's
    default dtype (build float64 layers with it rather than ``.double()``, which would
    round the float parameters through float32 first). ``engine`` picks the implementation
    (:data:`MTC_ENGINES`, module docstring); both compute the same equations.
    """

    def __init__(
        self,
        n_neurons: int,
        params: MTCParams | None = None,
        trainable: Iterable[str] = (),
        substeps: int = 1,
        dtype: torch.dtype | None = None,
        engine: MTCEngine = "fused",
    ) -> None:
        super().__init__()
        if engine not in MTC_ENGINES:
            raise ValueError(f"MTCLayer: unknown engine {engine!r}; known: {MTC_ENGINES}")
        self.engine = engine
        params = params or MTC_PRESETS["tonic"]
        dtype = dtype or torch.get_default_dtype()
        trainable = tuple(trainable)
        unknown = sorted(set(trainable) - set(MTC_TRAINABLE_FIELDS))
        if unknown:
            raise ValueError(
                f"MTCLayer: cannot train {unknown}; trainable fields are {MTC_TRAINABLE_FIELDS}"
            )
        if n_neurons < 1 or substeps < 1:
            raise ValueError(f"MTCLayer: need n_neurons >= 1 and substeps >= 1 ({substeps=})")
        self.n_neurons = n_neurons
        self.substeps = substeps
        self.dt = params.dt
        self.trainable = trainable
        # (dt, parameter values, rest state [N]) of the last initial_state solve.
        self._rest_cache: tuple[float, torch.Tensor, MTCState] | None = None
        for f in fields(MTCParams):
            if f.name == "dt":
                continue
            value = torch.as_tensor(getattr(params, f.name), dtype=dtype).detach()
            value = torch.broadcast_to(value, (n_neurons,)).clone()
            if f.name in trainable:
                setattr(self, f.name, nn.Parameter(value))
            else:
                self.register_buffer(f.name, value)

    def current_params(self) -> MTCParams:
        """The layer's parameters as an :class:`MTCParams` of ``[N]`` tensors."""
        values = {f.name: getattr(self, f.name) for f in fields(MTCParams) if f.name != "dt"}
        return MTCParams(dt=self.dt, **values)

    def initial_state(self, batch_size: int) -> MTCState:
        """The rest state at zero input (:func:`mtc_rest_state`), ``[batch_size, N]`` each.

        It depends on the parameters only, not on the batch: it is solved once per neuron
        and reused until a parameter's value changes (with frozen parameters, once per layer;
        a solve costs about as much as a training step of the fused engine).
        """
        values = torch.stack(
            [getattr(self, f.name).detach() for f in fields(MTCParams) if f.name != "dt"]
        )
        cached = self._rest_cache
        if not (
            cached is not None
            and cached[0] == self.dt
            and cached[1].dtype == values.dtype
            and cached[1].device == values.device
            and torch.equal(cached[1], values)
        ):
            rest = mtc_rest_state(
                self.current_params(),
                (self.n_neurons,),
                0.0,
                dtype=values.dtype,
                device=values.device,
            )
            cached = self._rest_cache = (self.dt, values, rest)
        return MTCState(*(s.expand(batch_size, -1).clone() for s in cached[2]))

    @torch.no_grad()
    def clamp_parameters_(self) -> None:
        """Keep a trained ``a_fast`` inside forward Euler's stability bound (after an optimiser
        step): ``dt * (1 + a_fast) / C <= 2 * MTC_EULER_SAFETY``. The other trainable fields
        have no such bound (their Euler limits involve only C, tau and dt, never trained)."""
        if "a_fast" in self.trainable:
            ceiling = MTC_EULER_SAFETY * 2.0 * self.c_membrane / self.dt - 1.0
            self.a_fast.copy_(torch.minimum(self.a_fast, ceiling))

    def _active_elements(self, params: MTCParams) -> list[tuple[Scalar, Scalar, int]]:
        """(gain, offset, state index) of the current elements that can be non-zero.

        A frozen element whose gain is zero for every neuron adds exactly 0 to the current;
        leaving it out changes nothing and saves its tanh.
        """
        elements = []
        for gain_name, offset_name, index in (
            ("a_fast", "delta_fast", 0),
            ("a_slow_pos", "delta_slow_pos", 1),
            ("a_slow_neg", "delta_slow_neg", 1),
            ("a_ultraslow", "delta_ultraslow", 2),
        ):
            gain = getattr(params, gain_name)
            if gain_name in self.trainable or bool(torch.as_tensor(gain).ne(0).any()):
                elements.append((gain, getattr(params, offset_name), index))
        return elements

    def forward(
        self, x: torch.Tensor, state: MTCState | None = None, record: bool = False
    ) -> LayerOutput:
        """Run the layer over ``x [T, B, N]`` from ``state`` (default: the rest state).

        ``record`` adds the state after every input step (:class:`LayerOutput`).
        """
        check_time_major_input(x, self.n_neurons, "MTCLayer")
        if state is None:
            state = self.initial_state(x.shape[1])
        if self.engine == "fused":
            return self._forward_fused(x, state, record)
        return self._forward_reference(x, state, record)

    def _fused_rows(self, params: MTCParams) -> _FusedRows:
        elements = self._active_elements(params)
        state_of_row = [index for _, _, index in elements]
        offsets = [torch.as_tensor(offset) for _, offset, _ in elements]
        # A state variable no element reads still evolves (V drives the filters; all three
        # are returned): it gets a row of its own, offset 0.
        for index in range(len(MTCState._fields)):
            if index not in state_of_row:
                state_of_row.append(index)
                offsets.append(torch.zeros_like(self.v_th))
        return _FusedRows(
            state_of_row=state_of_row,
            offsets=torch.stack([torch.broadcast_to(o, (self.n_neurons,)) for o in offsets]),
            gains=[gain for gain, _, _ in elements],
            row_of_state=[state_of_row.index(index) for index in range(len(MTCState._fields))],
        )

    def _forward_fused(self, x: torch.Tensor, state: MTCState, record: bool) -> LayerOutput:
        """The fused engine (module docstring): one :class:`MTCSubsteps` node per call."""
        p = self.current_params()
        layout = self._fused_rows(p)
        v_row, offsets = layout.v_row, layout.offsets
        n_steps, batch = x.shape[0], x.shape[1]
        # Per state variable: dt / C for V, dt / tau for the filters ([N], never trained).
        rate = torch.stack(
            [
                torch.as_tensor(p.dt / p.c_membrane),
                torch.as_tensor(p.dt / p.tau_slow),
                torch.as_tensor(p.dt / p.tau_ultraslow),
            ]
        ).detach()
        row_rate = rate[layout.state_of_row].unsqueeze(1)
        follows_v = torch.ones_like(row_rate)
        follows_v[v_row] = 0.0
        gain = (
            torch.stack([torch.as_tensor(g) for g in layout.gains]).unsqueeze(1)
            if layout.gains
            else x.new_zeros((0, 1, self.n_neurons))
        )
        # c_t: I_app - offset_V on V's row, offset_V - offset_row on a filter's.
        filter_target = (offsets[v_row] - offsets).unsqueeze(1)
        v_target = mtc_applied_current(x, p) - offsets[v_row]
        target_rows = [
            v_target if row == v_row else filter_target[row].expand(n_steps, batch, -1)
            for row in range(len(layout.state_of_row))
        ]
        target = torch.stack(target_rows, dim=1)
        start = torch.stack(tuple(state))[layout.state_of_row] - offsets.unsqueeze(1)
        rows = MTCSubsteps.apply(self.substeps, v_row, start, target, row_rate, follows_v, gain)
        # out = clamp((V - V_th) / (V_sat - V_th), 0, 1) per substep, averaged per step.
        out_gain = 1.0 / (p.v_sat - p.v_th)
        v_all = rows[1:, v_row] + offsets[v_row]
        out = torch.clamp((v_all - p.v_th) * out_gain, 0.0, 1.0)
        out = out.reshape(n_steps, self.substeps, batch, self.n_neurons).mean(dim=1)

        def state_at(row_index: torch.Tensor | int, index: int) -> torch.Tensor:
            row = layout.row_of_state[index]
            return rows[row_index, row] + offsets[row]

        final = MTCState(*(state_at(-1, i) for i in range(len(MTCState._fields))))
        recorded = None
        if record:
            after_steps = slice(self.substeps, None, self.substeps)
            recorded = {
                name: torch.cat([initial.unsqueeze(0), state_at(after_steps, i)])
                for i, (name, initial) in enumerate(zip(MTCState._fields, state, strict=True))
            }
        return LayerOutput(out, final, recorded)

    def _forward_reference(self, x: torch.Tensor, state: MTCState, record: bool) -> LayerOutput:
        """The reference engine: :func:`mtc_step`'s equations, with the per-step constants
        hoisted out of the substep loop and fused multiply-adds (``addcmul``, ``lerp``), which
        round differently from :func:`mtc_step` only in the last bits (tests: 1e-12 in
        float64) and halve the number of tensor operations, the cost of these small tensors."""
        p = self.current_params()
        trajectories: dict[str, list[torch.Tensor]] | None = None
        if record:
            trajectories = {name: [getattr(state, name)] for name in MTCState._fields}
        elements = self._active_elements(p)
        k_v = torch.as_tensor(p.dt / p.c_membrane)
        k_slow = torch.as_tensor(p.dt / p.tau_slow)
        k_ultraslow = torch.as_tensor(p.dt / p.tau_ultraslow)
        # out = clamp((V - V_th) / (V_sat - V_th), 0, 1) = clamp(V * g - V_th * g, 0, 1).
        out_gain = 1.0 / (p.v_sat - p.v_th)
        out_shift = -p.v_th * out_gain
        v, v_slow, v_ultraslow = state
        outputs = []
        for x_t in x:
            i_app = mtc_applied_current(x_t, p)
            out = None
            for _ in range(self.substeps):
                states = (v, v_slow, v_ultraslow)
                drive = i_app - v
                for gain, offset, index in elements:
                    drive = torch.addcmul(drive, gain, torch.tanh(states[index] - offset), value=-1)
                v, v_slow, v_ultraslow = (
                    torch.addcmul(v, k_v, drive),
                    torch.lerp(v_slow, v, k_slow),
                    torch.lerp(v_ultraslow, v, k_ultraslow),
                )
                out_sub = torch.clamp(torch.addcmul(out_shift, v, out_gain), 0.0, 1.0)
                out = out_sub if out is None else out + out_sub
            if self.substeps > 1:
                out = out / self.substeps
            outputs.append(out)
            if trajectories is not None:
                for name, value in zip(MTCState._fields, (v, v_slow, v_ultraslow), strict=True):
                    trajectories[name].append(value)
        recorded = stack_recorded(trajectories) if trajectories is not None else None
        return LayerOutput(torch.stack(outputs), MTCState(v, v_slow, v_ultraslow), recorded)

    def extra_repr(self) -> str:
        return (
            f"n_neurons={self.n_neurons}, dt={self.dt}, substeps={self.substeps}, "
            f"trainable={self.trainable}, engine={self.engine!r}"
        )
