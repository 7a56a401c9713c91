"""A usable LIF mapping as a NIR graph (Neuromorphic Intermediate Representation, ``nir``).

The graph of one condition::

    input [1] (current, nA) -> affine (weight = w_per_nA, bias = bias_fit) -> lif -> output [1]

The ``lif`` node is ``nir.LIF`` (``tau dv/dt = (v_leak - v) + r * I``; spike and reset to
``v_reset`` when ``v > v_threshold``). The bridge's LIF (:mod:`bridge.neurons.lif`) is the
discrete ``U <- beta * U + w * I + b - S_prev * theta`` with theta = 1 and one update per
``dt_ms``. Its NIR parameters are those whose forward-Euler step of length ``time_step_s``
gives that update exactly:

- ``tau = time_step_s / (1 - beta)`` (seconds) and ``r = tau / time_step_s``, so that
  ``v + time_step_s / tau * (-v + r * I) = beta * v + I``;
- ``v_leak = 0`` and the constant drive ``bias_fit`` in the affine node's bias (snntorch's
  import refuses a non-zero ``v_leak``; ``v_leak = b / (1 - beta)`` would be the same neuron);
- ``v_threshold = threshold`` (1), ``v_reset = 0``.

Conventions. snntorch's export writes ``tau = dt / (1 - beta)`` and its import reads
``beta = 1 - dt / tau`` with a fixed ``dt = 1e-4`` s (:data:`SNNTORCH_NIR_DT_S`), whatever the
network's real step; the mapping reports ``tau_fit_ms = -dt_ms / ln(beta)``, the time constant
of the exact exponential decay (2.83 ms at beta 0.70 and dt 1 ms, where ``dt / (1 - beta)`` is
3.36 ms). The graph uses the Euler form with ``time_step_s = SNNTORCH_NIR_DT_S`` by default, so
snntorch's own import gives back beta exactly (in its float32); its time axis is therefore
one NIR step of ``time_step_s`` per mapping step of ``dt_ms``, not physical time. The sidecar
(:func:`export_record`) writes both time constants in ms and the scale between the axes.

What NIR cannot carry (:data:`NOT_CARRIED`, also in the sidecar): the step ``dt_ms`` (NIR is
continuous time; the importer picks its own step and integration scheme), reset by
subtraction (NIR's LIF resets to ``v_reset``; snntorch's import builds ``reset_mechanism =
"zero"``), the reset applied one step late (snntorch's ``reset_delay=True``; the import builds
``reset_delay=False``) and the strict threshold ``U > theta``. :func:`with_bridge_reset`
restores the bridge's reset on a network snntorch imported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import nir
import numpy as np
import snntorch as snn
import torch

from bridge.contracts import MappingRecord, read_mapping_record
from bridge.io import write_json
from bridge.mapping.lif import THRESHOLD, tau_from_beta

log = logging.getLogger(__name__)

#: ``dt`` (s) that snntorch's NIR export writes and its import assumes (snntorch.import_nir).
SNNTORCH_NIR_DT_S = 1e-4
MS_PER_S = 1000.0
#: File names inside ``results/mapping/nir/{condition}/``.
GRAPH_NAME = "lif.nir"
SIDECAR_NAME = "export.json"
#: Node names of the exported graph.
NODES = ("input", "affine", "lif", "output")

#: What the bridge's LIF has and a NIR graph cannot say (sidecar ``not_carried``).
NOT_CARRIED: dict[str, str] = {
    "dt_ms": "NIR is continuous time and has no step: the importer chooses dt and the "
    "integration scheme; this graph reproduces beta only under forward Euler with "
    "dt = time_step_s (snntorch's import: 1e-4 s)",
    "reset_by_subtraction": "NIR's LIF resets v to v_reset (reset to zero); the bridge's LIF "
    "subtracts the threshold (U - theta), keeping the overshoot; snntorch's import builds "
    "reset_mechanism='zero'",
    "reset_delay_one_step": "the bridge's LIF applies a spike's reset in the next update "
    "(snntorch reset_delay=True, the membrane at a spiking step still exceeds theta); NIR "
    "has no such delay and snntorch's import builds reset_delay=False",
    "strict_threshold": "a spike needs U > theta (U == theta does not fire); NIR does not "
    "state the comparison",
    "initial_state": "the bridge's runs start at U = 0 with no previous spike",
}


@dataclass(frozen=True)
class NirLifParameters:
    """The exported neuron: NIR values (seconds, threshold units) and the mapping's own.

    ``tau_s`` and ``r`` are the NIR LIF's; ``tau_euler_ms = dt_ms / (1 - beta)`` and
    ``tau_exact_ms = -dt_ms / ln(beta)`` (the mapping's ``tau_fit_ms``) are on the physical
    axis, ``time_scale = time_step_s / (dt_ms / 1000)`` is NIR seconds per physical second.
    """

    beta: float
    w_per_nA: float
    bias: float  # threshold units per step
    v_threshold: float
    dt_ms: float
    time_step_s: float
    tau_s: float
    r: float
    v_leak: float
    v_reset: float
    tau_euler_ms: float
    tau_exact_ms: float
    time_scale: float


def nir_lif_parameters(
    beta: float,
    w_per_nA: float,
    bias: float,
    dt_ms: float,
    threshold: float = THRESHOLD,
    time_step_s: float = SNNTORCH_NIR_DT_S,
) -> NirLifParameters:
    """NIR parameters whose Euler step of ``time_step_s`` is the bridge's LIF update."""
    if not 0.0 < beta < 1.0:
        raise ValueError(f"NIR export: beta must lie in (0, 1); got {beta}")
    if not (dt_ms > 0 and time_step_s > 0):
        raise ValueError(
            f"NIR export: dt_ms and time_step_s must be > 0; got {dt_ms}, {time_step_s}"
        )
    tau_s = time_step_s / (1.0 - beta)
    return NirLifParameters(
        beta=beta,
        w_per_nA=w_per_nA,
        bias=bias,
        v_threshold=threshold,
        dt_ms=dt_ms,
        time_step_s=time_step_s,
        tau_s=tau_s,
        r=tau_s / time_step_s,
        v_leak=0.0,
        v_reset=0.0,
        tau_euler_ms=dt_ms / (1.0 - beta),
        tau_exact_ms=float(tau_from_beta(beta, dt_ms)),
        time_scale=time_step_s / (dt_ms / MS_PER_S),
    )


def lif_graph(params: NirLifParameters, metadata: Mapping[str, Any] | None = None) -> nir.NIRGraph:
    """``input -> affine -> lif -> output`` of one neuron (input in nA)."""

    def one(value: float) -> np.ndarray:
        return np.array([value], dtype=np.float64)

    nodes = {
        "input": nir.Input(input_type=np.array([1])),
        "affine": nir.Affine(weight=np.array([[params.w_per_nA]]), bias=one(params.bias)),
        "lif": nir.LIF(
            tau=one(params.tau_s),
            r=one(params.r),
            v_leak=one(params.v_leak),
            v_threshold=one(params.v_threshold),
            v_reset=one(params.v_reset),
        ),
        "output": nir.Output(output_type=np.array([1])),
    }
    edges = list(zip(NODES[:-1], NODES[1:], strict=True))
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=dict(metadata or {}))


def _graph_metadata(record: MappingRecord, params: NirLifParameters) -> dict[str, Any]:
    """Scalars only (NIR's HDF5 writer stores metadata as attributes)."""
    return {
        "condition": record.condition,
        "source": "hh-snn-bridge mapping stage (bridge.mapping.nir_export)",
        "beta": params.beta,
        "dt_ms": params.dt_ms,
        "time_step_s": params.time_step_s,
        "tau_convention": "tau = time_step_s / (1 - beta) (forward Euler; snntorch's export "
        "and import), not the mapping's tau_fit_ms = -dt_ms / ln(beta)",
        "tau_euler_ms": params.tau_euler_ms,
        "tau_exact_ms": params.tau_exact_ms,
        "input_unit": "nA",
        "reset": "bridge LIF: by subtraction, one step late (not carried by NIR)",
    }


def export_record(record: MappingRecord, graph_file: str | None) -> dict[str, Any]:
    """The sidecar: whether a graph was written (and why not), its parameters, conventions."""
    lif = record.lif
    out: dict[str, Any] = {
        "condition": record.condition,
        "exported": lif.use_downstream,
        "graph_file": graph_file,
        "status": lif.status,
        "use_downstream": lif.use_downstream,
        "nodes": list(NODES),
        "not_carried": NOT_CARRIED,
    }
    if not lif.use_downstream:
        out["reason"] = (
            f"LIF mapping not usable downstream (status {lif.status!r}): no NIR graph; "
            f"see the mapping's downstream_rule"
        )
        return out
    params = nir_lif_parameters(
        beta=lif.number("beta_fit"),
        w_per_nA=lif.number("w_per_nA"),
        bias=lif.number("bias_fit"),
        dt_ms=lif.number("dt_ms"),
        threshold=lif.number("threshold"),
    )
    out["parameters"] = asdict(params)
    out["conventions"] = {
        "tau": "NIR tau = time_step_s / (1 - beta) and r = tau / time_step_s: one forward-Euler "
        "step of time_step_s is U <- beta * U + I, so snntorch's import (beta = 1 - dt / tau, "
        "dt = 1e-4 s) gives back beta exactly; the mapping's tau_fit_ms = -dt_ms / ln(beta) "
        "(tau_exact_ms) is the exact exponential's time constant on the physical axis",
        "time_axis": "one NIR step of time_step_s stands for one mapping step of dt_ms "
        "(time_scale NIR s per physical s); physical time constants: tau_euler_ms, "
        "tau_exact_ms",
        "input": "affine weight = w_per_nA (threshold units per step per nA), affine bias = "
        "bias_fit (threshold units per step), v_leak = 0",
        "importer": "snntorch.import_nir.import_from_nir, then "
        "bridge.mapping.nir_export.with_bridge_reset for the bridge's reset",
    }
    return out


def export_mapping_nir(
    mapping_path: str | Path, out_dir: str | Path, condition: str | None = None
) -> dict[str, Any]:
    """Write ``out_dir/lif.nir`` (usable LIF mappings only) and ``out_dir/export.json``.

    A mapping with ``use_downstream`` false gets no graph, only the sidecar saying why; a
    stale graph from an earlier run is removed so the folder never contradicts its sidecar.
    """
    record = read_mapping_record(mapping_path, condition)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    graph_path = out_dir / GRAPH_NAME
    usable = record.lif.use_downstream
    sidecar = export_record(record, GRAPH_NAME if usable else None)
    if usable:
        params = NirLifParameters(**sidecar["parameters"])
        nir.write(graph_path, lif_graph(params, _graph_metadata(record, params)))
    else:
        graph_path.unlink(missing_ok=True)
    sidecar["mapping_file"] = str(mapping_path)
    write_json(out_dir / SIDECAR_NAME, sidecar)
    if usable:
        log.info("%s: NIR graph %s (beta %.6g)", record.condition, graph_path, params.beta)
    else:
        log.info("%s: no NIR graph (%s)", record.condition, sidecar["reason"])
    return sidecar


def with_bridge_reset(network: torch.nn.Module) -> torch.nn.Module:
    """Give every ``snn.Leaky`` of a network snntorch imported from NIR the bridge's reset.

    The import builds ``Leaky(reset_mechanism="zero", reset_delay=False)``; each is replaced
    (in place, same beta and threshold) by ``reset_mechanism="subtract", reset_delay=True``,
    what NIR cannot carry (:data:`NOT_CARRIED`). Returns ``network``.
    """
    for name, module in list(network.named_children()):
        if isinstance(module, snn.Leaky):
            replacement = snn.Leaky(
                beta=module.beta.detach().clone(),
                threshold=float(module.threshold),
                reset_mechanism="subtract",
                reset_delay=True,
                init_hidden=module.init_hidden,
            )
            setattr(network, name, replacement)
        else:
            with_bridge_reset(module)
    return network


def imported_beta(network: torch.nn.Module) -> float:
    """beta of the single ``snn.Leaky`` in an imported network (as snntorch stores it)."""
    found = [m for m in network.modules() if isinstance(m, snn.Leaky)]
    if len(found) != 1:
        raise ValueError(f"imported network: expected one snn.Leaky, found {len(found)}")
    value = float(found[0].beta.detach().reshape(-1)[0])
    if not math.isfinite(value):
        raise ValueError(f"imported network: beta is {value}")
    return value
