"""Activity metrics of the regressor's hidden spiking layer that count events and can differ.

The regressor is ``Linear(n_inputs, N)`` -> one hidden spiking layer (MTC, LIF or SE-AdLIF)
-> ``Linear(N, n_outputs)``, run over T steps with batch B. Every function takes numpy arrays
or torch tensors (time-major ``[T, B, N]``; state trajectories ``[T + 1, B, N]`` with the
initial state first, as :class:`bridge.neurons.base.LayerOutput` records them), works in
float64, and imports no torch (the compare stage runs without it).

Definitions (the same for every model):

- :func:`event_raster`: one event per spike. LIF and SE-AdLIF: a step whose output spike is
  1. MTC: its graded output ``clamp((V - V_th) / (V_sat - V_th), 0, 1)`` stays non-zero for
  the whole spike (about 5 steps in the mapped layers), so an event is the spike's onset, the
  upward crossing of V_th by the membrane: event at step t iff ``V[t] < V_th <= V[t + 1]``
  (``V[t]`` the state before step t, ``V[t + 1]`` after it). A spike already above V_th at
  the first recorded state is not counted (its onset lies before the window). The layer's
  output of a step is the mean of its Euler substeps, the recorded V the state at the step's
  end, so a spike that rises and falls back within one input step is missed; none does in
  the mapped layers (spikes last several steps).
- :func:`s_comm`: events per neuron-step, the spike communication probability the MTC paper
  reports (S_comm ~ 2e-3 for MTC, 4e-2 for AdLIF; MODELS.md section 6).
- :func:`activation_sparsity`: NeuroBench's ActivationSparsity (Yik et al. 2025, "The
  neurobench framework for benchmarking neuromorphic computing algorithms and systems",
  Nature Communications 16, 1545; code: neurobench 2.3.0,
  ``neurobench/metrics/workload/activation_sparsity.py``): the number of zero activations
  over the number of activations of the spiking layers, over all steps and samples. The
  activations are the hidden layer's outputs: spikes for LIF/AdLIF, the graded saturated
  ReLU for MTC (a spike of MTC is non-zero for every step it lasts, unlike S_comm).
- :func:`synaptic_ops`: NeuroBench's SynapticOperations (same paper; code
  ``neurobench/metrics/workload/synaptic_operations.py`` and
  ``neurobench/metrics/utils/layers/{input,macs}.py``), per sample-step. For each connection
  layer and step, effective operations = (number of non-zero inputs) x fan-out (all weights
  taken as non-zero; bias additions are not counted, as in NeuroBench); dense operations =
  every input x fan-out. The step's operations are ACs when every input of the step is in
  {-1, 0, 1} (binary spikes), MACs otherwise (NeuroBench's rule, applied per layer call,
  i.e. per step over the batch): a step at which every MTC activation of the batch is 0 or
  saturated at exactly 1 counts as ACs, as NeuroBench would count it. Not counted: neuron
  state updates (membrane, adaptation, MTC's slow variables), which NeuroBench reports
  separately and which every neuron does at every step here (see :func:`s_comp`).
- :func:`s_comp`: computational inactivity = the fraction of the dense network's synaptic
  operations that event-driven execution skips, ``1 - effective / dense``.

Why S_comp is defined on synaptic operations, and what it can and cannot show. The earlier
S_comp (formerly ``bridge.regressor.metrics.s_comp``) counted neuron-steps that receive no input
and whose state does not move. A dense projection of an analog series gives every hidden
neuron a non-zero current at every step, so no neuron-step is ever skippable and S_comp is 0
for every model; a state-change tolerance alone is no better, since the same drive moves
every state at every step. Under this architecture the only computation an event-driven
implementation can skip is the fan-out of a neuron whose activation is 0. That depends on
each model's own activity, so the measure differs between models. It cannot show more than
that: with the input projection dense and identical for all models,
``S_comp = activation_sparsity * n_outputs / (n_inputs + n_outputs)``, exactly (so a
rescaling of activation sparsity, ranking the models the same way) and at most
``n_outputs / (n_inputs + n_outputs)``, 0.5 for the regressor's 1 -> N -> 1. The paper's
values (> 0.9 for MTC, about 0.7 for AdLIF, definition not published) therefore cannot be
reached by this architecture under this definition; compare the models' order and ratio,
not the magnitude. It also weighs an AC and a MAC alike; the split is reported by
:func:`synaptic_ops`.

Why the ``neurobench`` package is not used: ``pip install -c constraints.txt neurobench``
(2.3.0) resolves without changing a pin, but pulls in about 20 packages the project does not
use (tonic, librosa, numba, llvmlite, h5py, soundfile, torchaudio, ...) and among them
torchaudio 2.11.1, the newest on the index, which is built for torch 2.11: with the pinned
torch 2.13.0 (CPU) ``import torchaudio`` fails (``OSError: Could not load this library:
.../torchaudio/lib/_torchaudio.so``, ``libc10_cuda.so`` missing). Its metrics also need a
model wrapped in NeuroBench's hooks (the MTC layer is not one of its activation modules).
The definitions are written here from its source, and were cross-checked against
``single_layer_MACs`` and ``ActivationSparsity`` of neurobench 2.3.0 in a throwaway venv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from bridge.neurons.registry import MODEL_NAMES

#: Models whose output is a graded activation; their events are upward crossings of this
#: recorded state (the membrane V) through the spike threshold V_th.
THRESHOLD_CROSSING_STATE: dict[str, str] = {"mtc": "v"}
#: Models whose output is a binary spike (0/1); a spike is an event.
SPIKING_OUTPUT_MODELS: tuple[str, ...] = ("lif", "adlif")
#: Input values NeuroBench counts as spikes: a layer call whose inputs all lie in this set
#: costs accumulates (ACs), any other value makes its operations multiply-accumulates (MACs).
BINARY_INPUT_VALUES: tuple[float, ...] = (-1.0, 0.0, 1.0)

ArrayLike = Any  # numpy array, torch tensor or nested sequence of floats


def _as_float64(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a float64 numpy array (a torch tensor is detached and moved to the CPU)."""
    if hasattr(values, "detach"):  # a torch tensor; no torch import needed
        values = values.detach().cpu().double().numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}: not an array of numbers ({error})") from error


def _time_major(values: np.ndarray, name: str) -> None:
    if values.ndim != 3:
        raise ValueError(f"{name}: expected shape [T, B, N]; got {values.shape}")
    if values.size == 0:
        raise ValueError(f"{name}: empty (shape {values.shape})")


def event_raster(
    model: str,
    output: ArrayLike,
    states: Mapping[str, ArrayLike],
    v_threshold: float | ArrayLike | None = None,
) -> np.ndarray:
    """Boolean ``[T, B, N]`` raster of spike events of the hidden layer (module docstring).

    ``model``: ``"mtc"``, ``"lif"`` or ``"adlif"``. ``output``: the layer's output
    ``[T, B, N]``. ``states``: recorded trajectories ``[T + 1, B, N]`` (MTC needs ``"v"``;
    LIF/AdLIF use none). ``v_threshold``: MTC's V_th (model units), a float or per-neuron
    values broadcastable against ``[B, N]`` (``MTCParams.v_th``); required for MTC.
    """
    out = _as_float64(output, f"event_raster({model!r}) output")
    _time_major(out, f"event_raster({model!r}) output")
    if model in SPIKING_OUTPUT_MODELS:
        if not np.isin(out, (0.0, 1.0)).all():
            bad = out[~np.isin(out, (0.0, 1.0))][0]
            raise ValueError(
                f"event_raster({model!r}): output must be spikes (0 or 1); found {bad!r}"
            )
        return out == 1.0
    if model not in THRESHOLD_CROSSING_STATE:
        raise ValueError(f"event_raster: unknown model {model!r}; known: {MODEL_NAMES}")
    state_name = THRESHOLD_CROSSING_STATE[model]
    if state_name not in states:
        raise ValueError(
            f"event_raster({model!r}): states lack {state_name!r} (the membrane V); "
            f"given {sorted(states)}"
        )
    if v_threshold is None:
        raise ValueError(f"event_raster({model!r}): v_threshold (MTCParams.v_th) is required")
    v = _as_float64(states[state_name], f"event_raster({model!r}) state {state_name!r}")
    expected = (out.shape[0] + 1, *out.shape[1:])
    if v.shape != expected:
        raise ValueError(
            f"event_raster({model!r}): state {state_name!r} has shape {v.shape}; expected "
            f"{expected} (= output's [T, B, N] with T + 1 steps, the initial state first)"
        )
    threshold = _as_float64(v_threshold, f"event_raster({model!r}) v_threshold")
    try:
        threshold = np.broadcast_to(threshold, out.shape[1:])
    except ValueError as error:
        raise ValueError(
            f"event_raster({model!r}): v_threshold of shape {threshold.shape} does not "
            f"broadcast against [B, N] = {out.shape[1:]}"
        ) from error
    # NaN compares False: a neuron whose V is not finite emits no event.
    return (v[:-1] < threshold) & (v[1:] >= threshold)


def s_comm(events: ArrayLike) -> float:
    """Spike communication probability: events per neuron-step of a boolean (or 0/1) raster
    from :func:`event_raster`. Graded values are refused (count events, not active steps)."""
    raster = events
    if not (isinstance(raster, np.ndarray) and raster.dtype == bool):
        values = _as_float64(events, "s_comm events")
        if not np.isin(values, (0.0, 1.0)).all():
            raise ValueError(
                "s_comm: events must be a boolean or 0/1 raster (event_raster), not graded "
                "activations"
            )
        raster = values == 1.0
    if raster.size == 0:
        raise ValueError("s_comm: empty event raster")
    return float(np.mean(raster))


def activation_sparsity(activations: ArrayLike) -> float:
    """NeuroBench's ActivationSparsity: zero activations / all activations of the hidden
    layer (``[T, B, N]`` outputs; a non-finite value counts as non-zero, as in NeuroBench)."""
    values = _as_float64(activations, "activation_sparsity activations")
    if values.size == 0:
        raise ValueError("activation_sparsity: no activations")
    return float(np.mean(values == 0.0))


@dataclass(frozen=True)
class SynapticOps:
    """Synaptic operations of the regressor per sample and step (NeuroBench's definitions,
    module docstring); multiply by T for NeuroBench's per-sample totals.

    ``input_*``: the input projection ``Linear(n_inputs, N)``; ``readout_*``: the readout
    ``Linear(N, n_outputs)``. ``effective_macs + effective_acs`` are the operations an
    event-driven implementation performs, ``dense`` those of the dense network.
    """

    effective_macs: float
    effective_acs: float
    dense: float
    input_effective: float
    input_dense: float
    readout_effective: float
    readout_dense: float
    readout_macs: float
    readout_acs: float
    n_steps: int
    n_samples: int

    @property
    def effective(self) -> float:
        """All effective operations (MACs + ACs) per sample-step."""
        return self.effective_macs + self.effective_acs

    @property
    def skipped_fraction(self) -> float:
        """``1 - effective / dense``: the dense operations an event-driven network skips."""
        return 1.0 - self.effective / self.dense

    def as_dict(self) -> dict[str, float | int]:
        """Every field plus ``effective`` and ``skipped_fraction`` (for metrics.json)."""
        return {
            **asdict(self),
            "effective": self.effective,
            "skipped_fraction": self.skipped_fraction,
        }


def _layer_ops(inputs: np.ndarray, fan_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NeuroBench's per-call count for a dense layer fed ``inputs [T, B, n_in]`` one step at a
    time: effective ops ``[T]``, dense ops ``[T]`` and whether each step's call is binary."""
    effective = np.count_nonzero(inputs, axis=(1, 2)).astype(np.float64) * fan_out
    dense = np.full(inputs.shape[0], float(inputs.shape[1] * inputs.shape[2] * fan_out))
    binary = np.isin(inputs, BINARY_INPUT_VALUES).all(axis=(1, 2))
    return effective, dense, binary


def synaptic_ops(
    activations: ArrayLike,
    n_inputs: int = 1,
    n_outputs: int = 1,
    inputs: ArrayLike | None = None,
) -> SynapticOps:
    """NeuroBench's effective and dense synaptic operations of ``Linear(n_inputs, N)`` ->
    hidden layer -> ``Linear(N, n_outputs)``, per sample-step (module docstring).

    ``activations``: the hidden layer's outputs ``[T, B, N]`` (the readout's inputs).
    ``inputs``: the network's input ``[T, B, n_inputs]``; when omitted it is taken as an
    analog series that is never exactly 0 (every input projection operation is a MAC, the
    same for every model), which is what NeuroBench counts for the Mackey-Glass input.
    """
    acts = _as_float64(activations, "synaptic_ops activations")
    _time_major(acts, "synaptic_ops activations")
    for name, value in (("n_inputs", n_inputs), ("n_outputs", n_outputs)):
        if int(value) != value or value < 1:
            raise ValueError(f"synaptic_ops: {name} must be a positive integer; got {value!r}")
    n_steps, n_samples, n_neurons = acts.shape
    if inputs is None:
        in_effective = np.full(n_steps, float(n_samples * n_inputs * n_neurons))
        in_dense = in_effective
        in_binary = np.zeros(n_steps, dtype=bool)
    else:
        x = _as_float64(inputs, "synaptic_ops inputs")
        if x.shape != (n_steps, n_samples, n_inputs):
            raise ValueError(
                f"synaptic_ops: inputs have shape {x.shape}; expected "
                f"{(n_steps, n_samples, n_inputs)} ([T, B] of the activations, n_inputs)"
            )
        in_effective, in_dense, in_binary = _layer_ops(x, n_neurons)
    out_effective, out_dense, out_binary = _layer_ops(acts, n_outputs)
    per_sample_step = float(n_steps * n_samples)
    macs = np.sum(np.where(in_binary, 0.0, in_effective) + np.where(out_binary, 0.0, out_effective))
    acs = np.sum(np.where(in_binary, in_effective, 0.0) + np.where(out_binary, out_effective, 0.0))
    return SynapticOps(
        effective_macs=float(macs) / per_sample_step,
        effective_acs=float(acs) / per_sample_step,
        dense=float(np.sum(in_dense) + np.sum(out_dense)) / per_sample_step,
        input_effective=float(np.sum(in_effective)) / per_sample_step,
        input_dense=float(np.sum(in_dense)) / per_sample_step,
        readout_effective=float(np.sum(out_effective)) / per_sample_step,
        readout_dense=float(np.sum(out_dense)) / per_sample_step,
        readout_macs=float(np.sum(np.where(out_binary, 0.0, out_effective))) / per_sample_step,
        readout_acs=float(np.sum(np.where(out_binary, out_effective, 0.0))) / per_sample_step,
        n_steps=n_steps,
        n_samples=n_samples,
    )


def s_comp(
    activations: ArrayLike,
    n_inputs: int = 1,
    n_outputs: int = 1,
    inputs: ArrayLike | None = None,
) -> float:
    """Computational inactivity: the fraction of the dense network's synaptic operations that
    event-driven execution skips, ``1 - effective / dense`` of :func:`synaptic_ops` (module
    docstring: why, and why it is at most ``n_outputs / (n_inputs + n_outputs)`` here)."""
    return synaptic_ops(activations, n_inputs, n_outputs, inputs).skipped_fraction


def layer_activity(
    model: str,
    output: ArrayLike,
    states: Mapping[str, ArrayLike],
    v_threshold: float | ArrayLike | None = None,
    n_inputs: int = 1,
    n_outputs: int = 1,
) -> dict[str, float | int]:
    """Every activity metric of one run of the hidden layer, flat for ``metrics.json``:
    ``s_comm``, ``activation_sparsity``, ``s_comp``, ``n_events``, ``n_neuron_steps`` and
    ``synops_<field>`` of :class:`SynapticOps` per sample-step (input taken as analog).
    Arguments as :func:`event_raster` and :func:`synaptic_ops`."""
    events = event_raster(model, output, states, v_threshold)
    ops = synaptic_ops(output, n_inputs, n_outputs)
    return {
        "s_comm": s_comm(events),
        "activation_sparsity": activation_sparsity(output),
        "s_comp": ops.skipped_fraction,
        "n_events": int(np.count_nonzero(events)),
        "n_neuron_steps": int(events.size),
        **{f"synops_{key}": value for key, value in ops.as_dict().items()},
    }


__all__: Sequence[str] = (
    "SynapticOps",
    "activation_sparsity",
    "event_raster",
    "layer_activity",
    "s_comm",
    "s_comp",
    "synaptic_ops",
)
