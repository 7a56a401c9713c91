"""Activity metrics of the hidden layer (bridge.regressor.activity) on constructed rasters and
states with hand-counted answers, and on a real MTC layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bridge.neurons.mtc import MTC_PRESETS, MTCLayer
from bridge.regressor.activity import (
    activation_sparsity,
    event_raster,
    layer_activity,
    s_comm,
    s_comp,
    synaptic_ops,
)

V_TH = 0.0
V_BELOW = -1.0
V_ABOVE = 0.5
V_SAT = 1.0


def _mtc_output(v: np.ndarray) -> np.ndarray:
    """MTC's graded output of the steps whose end states are ``v[1:]``."""
    return np.clip((v[1:] - V_TH) / (V_SAT - V_TH), 0.0, 1.0)


def _two_spikes() -> np.ndarray:
    """V ``[13, 1, 1]``: rest, a spike held above V_th for 5 steps, 2 steps below, a second
    spike held to the end (5 steps): 2 onsets, 10 steps of non-zero output out of 12."""
    v = np.full(13, V_BELOW)
    v[1:6] = V_ABOVE
    v[8:13] = V_ABOVE
    return v.reshape(13, 1, 1)


def test_mtc_events_are_threshold_crossings_not_active_steps() -> None:
    v = _two_spikes()
    out = _mtc_output(v)
    events = event_raster("mtc", out, {"v": v}, v_threshold=V_TH)
    assert events.dtype == bool and events.shape == (12, 1, 1)
    assert np.flatnonzero(events[:, 0, 0]).tolist() == [0, 7]
    assert np.count_nonzero(out) == 10  # what the old S_comm counted (10 / 12)
    assert s_comm(events) == pytest.approx(2 / 12)


def test_mtc_downward_crossings_and_a_spike_before_the_window_are_not_events() -> None:
    # Starts above V_th (a spike begun before the window), falls, rises once, falls again.
    v = np.array([V_ABOVE, V_ABOVE, V_BELOW, V_BELOW, V_ABOVE, V_ABOVE, V_BELOW]).reshape(7, 1, 1)
    events = event_raster("mtc", _mtc_output(v), {"v": v}, v_threshold=V_TH)
    assert np.flatnonzero(events[:, 0, 0]).tolist() == [3]


def test_mtc_per_neuron_thresholds() -> None:
    # Two neurons with the same V (0 -> 0.4 -> 0.8): thresholds 0.3 and 0.6 cross at
    # different steps; a neuron with threshold 1.0 never crosses.
    trace = np.array([0.0, 0.4, 0.8])
    v = np.repeat(trace[:, None, None], 3, axis=2)
    out = np.zeros((2, 1, 3))
    events = event_raster("mtc", out, {"v": torch.tensor(v)}, v_threshold=np.array([0.3, 0.6, 1.0]))
    assert events[:, 0, :].tolist() == [[True, False, False], [False, True, False]]


def test_lif_and_adlif_events_are_spikes() -> None:
    rng = np.random.default_rng(0)
    spikes = (rng.random((6, 2, 5)) < 0.3).astype(np.float64)
    for model in ("lif", "adlif"):
        events = event_raster(model, torch.tensor(spikes, dtype=torch.float32), {})
        assert np.array_equal(events, spikes == 1.0)
        assert s_comm(events) == pytest.approx(spikes.sum() / spikes.size)


def test_mtc_layer_events_match_spike_onsets() -> None:
    """A real tonic MTC layer under constant drive: one event per contiguous run of non-zero
    output (a spike), far fewer than its active steps."""
    layer = MTCLayer(2, MTC_PRESETS["tonic"], dtype=torch.float64)
    drive = torch.tensor([0.6, 1.0], dtype=torch.float64)
    result = layer(drive.expand(400, 1, 2).clone(), record=True)
    out = result.output.numpy()
    events = event_raster("mtc", out, result.recorded, v_threshold=layer.v_th)
    active = out[:, 0, :] > 0.0
    onsets = active[1:] & ~active[:-1]  # output switching on after a silent step
    assert onsets.sum() >= 4  # the layer does spike repeatedly
    assert events[1:, 0, :].sum(axis=0).tolist() == onsets.sum(axis=0).tolist()
    assert s_comm(events) < 0.5 * float(np.mean(out != 0.0))


def test_activation_sparsity_counts_exact_zeros() -> None:
    # 8 activations, 4 exact zeros; a graded 0.3 and a negative value are activations.
    acts = np.array([[[0.0, 0.3, 0.0, 1.0]], [[0.0, -0.2, 0.0, 1.0]]])
    assert activation_sparsity(acts) == pytest.approx(4 / 8)
    assert activation_sparsity(torch.tensor(acts)) == pytest.approx(0.5)


def test_synaptic_ops_hand_counted_binary_n4() -> None:
    # N = 4 hidden neurons, 2 spiking: input Linear(1, 4) costs 4 MACs (analog input),
    # readout Linear(4, 1) 2 ACs (2 spikes x fan-out 1); dense 4 + 4.
    ops = synaptic_ops(np.array([[[0.0, 1.0, 0.0, 1.0]]]))
    assert (ops.effective_macs, ops.effective_acs, ops.dense) == (4.0, 2.0, 8.0)
    assert (ops.readout_acs, ops.readout_macs, ops.input_effective) == (2.0, 0.0, 4.0)
    assert ops.skipped_fraction == pytest.approx(1 - 6 / 8)


def test_synaptic_ops_graded_fan_out_and_per_step_classification() -> None:
    # Step 0: spikes (2 non-zero, binary -> ACs); step 1: one graded 0.4 (-> MACs).
    # Fan-out 3: readout 2 x 3 = 6 ACs then 1 x 3 = 3 MACs; input 4 MACs per step.
    acts = np.array([[[0.0, 1.0, 0.0, 1.0]], [[0.0, 0.4, 0.0, 0.0]]])
    ops = synaptic_ops(acts, n_inputs=1, n_outputs=3)
    assert ops.effective_acs == pytest.approx(6 / 2)
    assert ops.effective_macs == pytest.approx((4 + 4 + 3) / 2)
    assert ops.dense == pytest.approx(4 + 12)
    assert ops.as_dict()["effective"] == pytest.approx((6 + 11) / 2)


def test_synaptic_ops_counts_given_inputs_as_neurobench() -> None:
    # A zero input is skipped; an all-binary input step is counted as ACs.
    acts = np.zeros((2, 1, 4))
    ops = synaptic_ops(acts, n_inputs=2, inputs=np.array([[[0.0, 0.7]], [[1.0, -1.0]]]))
    assert ops.input_effective == pytest.approx((1 * 4 + 2 * 4) / 2)
    assert (ops.effective_macs, ops.effective_acs) == (2.0, 4.0)
    assert ops.input_dense == 8.0


def test_s_comp_differs_between_layers_of_equal_drive() -> None:
    """Same dense analog drive, different activity: the old S_comp (neuron-steps with no
    input current) is 0 for both, this one orders them by skipped readout operations."""
    rng = np.random.default_rng(1)
    x = rng.normal(1.0, 0.1, size=(50, 2, 1))  # the analog input, never exactly 0
    drive = x * rng.normal(size=(1, 1, 10))  # Linear(1, 10): every neuron driven every step
    assert np.count_nonzero(drive == 0.0) == 0  # the old S_comp's "no input" never holds
    sparse = np.zeros((50, 2, 10))
    sparse[::10, :, 0] = 0.7  # MTC-like: a few graded activations
    dense = (rng.random((50, 2, 10)) < 0.6).astype(np.float64)  # a busy spiking layer
    comp_sparse, comp_dense = s_comp(sparse, inputs=x), s_comp(dense, inputs=x)
    assert comp_sparse > comp_dense
    for acts, value in ((sparse, comp_sparse), (dense, comp_dense)):
        assert value == pytest.approx(activation_sparsity(acts) * 1 / (1 + 1))
    assert s_comp(sparse, n_inputs=1, n_outputs=3) == pytest.approx(
        activation_sparsity(sparse) * 3 / 4
    )


def test_layer_activity_collects_the_metrics_of_one_run() -> None:
    v = _two_spikes()
    out = _mtc_output(v)  # 10 of 12 steps non-zero, 2 spike onsets
    block = layer_activity("mtc", out, {"v": v, "v_slow": v}, v_threshold=V_TH, n_outputs=2)
    assert (block["n_events"], block["n_neuron_steps"]) == (2, 12)
    assert block["s_comm"] == pytest.approx(2 / 12)
    assert block["activation_sparsity"] == pytest.approx(2 / 12)
    # Input 1 MAC per step; readout 2 MACs per active step (10 of 12); dense 1 + 2.
    assert block["synops_effective_macs"] == pytest.approx(1 + 2 * 10 / 12)
    assert block["synops_dense"] == pytest.approx(3.0)
    assert block["s_comp"] == pytest.approx(1 - (1 + 2 * 10 / 12) / 3)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: event_raster("mtc", np.zeros((3, 1, 2)), {}, 0.0), "states lack 'v'"),
        (
            lambda: event_raster("mtc", np.zeros((3, 1, 2)), {"v": np.zeros((4, 1, 2))}),
            "v_threshold",
        ),
        (
            lambda: event_raster("mtc", np.zeros((3, 1, 2)), {"v": np.zeros((3, 1, 2))}, 0.0),
            r"expected \(4, 1, 2\)",
        ),
        (
            lambda: event_raster("mtc", np.zeros((3, 1, 2)), {"v": np.zeros((4, 1, 2))}, [0, 0, 0]),
            "does not broadcast",
        ),
        (lambda: event_raster("izhikevich", np.zeros((3, 1, 2)), {}), "unknown model"),
        (lambda: event_raster("lif", np.full((3, 1, 2), 0.5), {}), "must be spikes"),
        (lambda: event_raster("lif", np.zeros((3, 2)), {}), r"\[T, B, N\]"),
        (lambda: s_comm(np.full((3, 1, 2), 0.5)), "not graded"),
        (lambda: activation_sparsity(np.zeros((0, 1, 2))), "no activations"),
        (lambda: synaptic_ops(np.zeros((3, 1, 2)), n_outputs=0), "n_outputs"),
        (
            lambda: synaptic_ops(np.zeros((3, 1, 2)), n_inputs=2, inputs=np.zeros((3, 1, 1))),
            "inputs have shape",
        ),
    ],
)
def test_errors_name_the_problem(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
