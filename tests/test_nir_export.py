"""NIR export of a LIF mapping, round-tripped through snntorch's own NIR import.

The imported network (snntorch.import_nir, the bridge's reset restored with
``with_bridge_reset``) and the bridge's mapped LIF (``bridge.neurons.lif.LIFLayer`` with the
mapping's beta and bias, input ``w_per_nA * I``) must give the same spike times on current
steps; a graph with the mapping's own ``tau = -dt/ln(beta)`` must not give back beta.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nir
import numpy as np
import pytest
import snntorch as snn
import torch
from regressor_fixtures import mapping_json
from snntorch.export_nir import _extract_snntorch_module
from snntorch.import_nir import import_from_nir

from bridge.mapping.nir_export import (
    GRAPH_NAME,
    NOT_CARRIED,
    SIDECAR_NAME,
    SNNTORCH_NIR_DT_S,
    export_mapping_nir,
    imported_beta,
    lif_graph,
    nir_lif_parameters,
    with_bridge_reset,
)
from bridge.neurons.lif import LIFLayer

#: The control condition's fitted LIF (results/mapping/control.json of the full config).
BETA, W_PER_NA, BIAS, DT_MS = 0.7020215164833642, 0.6031639577533517, 0.29438965238424, 1.0
N_STEPS = 200
STEP_ON, STEP_OFF = 20, 150
#: Step amplitudes (nA): sparse, medium and near every-step firing (overshoot after a spike).
AMPS_NA = (0.05, 0.2, 0.6, 1.5)


def _write_mapping(tmp_path: Path, **changes: object) -> Path:
    record = mapping_json("control", beta_fit=BETA, bias_fit=BIAS)
    record.update(w_per_nA=W_PER_NA, dt_ms=DT_MS, threshold=1.0, tau_fit_ms=2.826525727239547)
    record.update(changes)
    path = tmp_path / "control.json"
    path.write_text(json.dumps(record))
    return path


def _step_current() -> torch.Tensor:
    """[T, B, 1] current steps (nA), one batch row per amplitude."""
    current = torch.zeros(N_STEPS, len(AMPS_NA), 1)
    current[STEP_ON:STEP_OFF, :, 0] = torch.tensor(AMPS_NA)
    return current


def _run_imported(network: torch.nn.Module, current: torch.Tensor) -> torch.Tensor:
    """Step the imported graph (hidden state inside its Leaky) over [T, B, 1]."""
    spikes = []
    for t in range(current.shape[0]):
        out, _ = network(current[t])
        spikes.append(out)
    return torch.stack(spikes)


def _run_bridge(beta: float, current: torch.Tensor) -> torch.Tensor:
    layer = LIFLayer(1, beta=beta, bias=BIAS, dtype=torch.float32)
    return layer(current * torch.tensor(W_PER_NA, dtype=torch.float32)).output


def _spike_times(spikes: torch.Tensor) -> list[list[int]]:
    return [torch.nonzero(spikes[:, b, 0]).flatten().tolist() for b in range(spikes.shape[1])]


@pytest.fixture()
def exported(tmp_path: Path) -> Path:
    sidecar = export_mapping_nir(_write_mapping(tmp_path), tmp_path / "nir", "control")
    assert sidecar["exported"] is True and sidecar["graph_file"] == GRAPH_NAME
    return tmp_path / "nir"


def test_snntorch_import_reproduces_beta_and_the_mapped_lif_spikes(exported: Path) -> None:
    graph = nir.read(exported / GRAPH_NAME)
    assert set(graph.nodes) == {"input", "affine", "lif", "output"}
    assert sorted(graph.edges) == sorted(
        [("input", "affine"), ("affine", "lif"), ("lif", "output")]
    )
    assert graph.metadata["condition"] == "control"
    assert float(graph.metadata["tau_exact_ms"]) == pytest.approx(2.826525727239547)
    network = import_from_nir(graph)
    # beta exactly as snntorch stores it (float32), threshold 1.
    assert imported_beta(network) == float(np.float32(BETA))
    network = with_bridge_reset(network)
    current = _step_current()
    imported = _spike_times(_run_imported(network, current))
    bridge = _spike_times(_run_bridge(BETA, current))
    assert imported == bridge
    counts = [len(times) for times in bridge]
    # Non-trivial trains: silent at rest, more spikes with more current, none after the step.
    assert all(times and times[0] >= STEP_ON and times[-1] < STEP_OFF + 3 for times in bridge)
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert counts[1] < STEP_OFF - STEP_ON  # not one spike per step: the reset matters


def test_nir_cannot_carry_the_reset_importer_defaults_differ(exported: Path) -> None:
    """snntorch's import resets to zero at once; without with_bridge_reset the trains differ."""
    network = import_from_nir(nir.read(exported / GRAPH_NAME))
    current = _step_current()
    assert _spike_times(_run_imported(network, current)) != _spike_times(_run_bridge(BETA, current))
    sidecar = json.loads((exported / SIDECAR_NAME).read_text())
    assert set(sidecar["not_carried"]) == set(NOT_CARRIED)
    assert "reset_delay_one_step" in sidecar["not_carried"]


def test_tau_conventions_and_the_wrong_one_fails() -> None:
    params = nir_lif_parameters(beta=0.70, w_per_nA=1.0, bias=0.0, dt_ms=1.0)
    # The numbers: dt/(1-beta) = 3.33 ms vs -dt/ln(beta) = 2.80 ms at beta 0.70, dt 1 ms.
    assert params.tau_euler_ms == pytest.approx(1.0 / 0.3)
    assert params.tau_exact_ms == pytest.approx(-1.0 / math.log(0.70))
    assert params.tau_s == pytest.approx(SNNTORCH_NIR_DT_S / 0.3)
    assert params.time_scale == pytest.approx(0.1)
    # The mapping's tau (exact exponential) written on the same axis: snntorch reads another beta.
    wrong = nir_lif_parameters(beta=BETA, w_per_nA=W_PER_NA, bias=BIAS, dt_ms=DT_MS)
    tau_wrong_s = wrong.tau_exact_ms * wrong.time_scale / 1000.0
    wrong = type(wrong)(
        **{**wrong.__dict__, "tau_s": tau_wrong_s, "r": tau_wrong_s / wrong.time_step_s}
    )
    network = import_from_nir(lif_graph(wrong))
    beta_wrong = imported_beta(network)
    assert beta_wrong == pytest.approx(1.0 - 1.0 / (-1.0 / math.log(BETA)), abs=1e-6)
    assert abs(beta_wrong - BETA) > 0.05
    current = _step_current()
    wrong_times = _spike_times(_run_imported(with_bridge_reset(network), current))
    assert wrong_times != _spike_times(_run_bridge(BETA, current))


def test_snntorch_export_writes_the_same_tau() -> None:
    """Our tau and r are what snntorch's own export writes for a Leaky of this beta."""
    # The exporter's per-module converter (export_to_nir's graph tracing through nirtorch 2.6
    # rejects a 1-feature input's batch dimension; the tau it writes comes from here).
    lif = _extract_snntorch_module(snn.Leaky(beta=torch.tensor([BETA]), threshold=torch.ones(1)))
    assert isinstance(lif, nir.LIF)
    ours = nir_lif_parameters(beta=BETA, w_per_nA=W_PER_NA, bias=BIAS, dt_ms=DT_MS)
    # snntorch holds beta in float32: agreement to float32 precision.
    assert float(np.ravel(lif.tau)[0]) == pytest.approx(ours.tau_s, rel=1e-6)
    assert float(np.ravel(lif.r)[0]) == pytest.approx(ours.r, rel=1e-6)


def test_unusable_mapping_writes_only_the_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "nir"
    out.mkdir()
    (out / GRAPH_NAME).write_text("stale graph of an earlier run")
    path = _write_mapping(tmp_path, use_downstream=False, status="never_fires", beta_fit=None)
    sidecar = export_mapping_nir(path, out, "control")
    assert not (out / GRAPH_NAME).exists()
    written = json.loads((out / SIDECAR_NAME).read_text())
    assert written == json.loads(json.dumps(sidecar))
    assert written["exported"] is False and written["graph_file"] is None
    assert "never_fires" in written["reason"] and "parameters" not in written
