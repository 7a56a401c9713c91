"""train_regressor end to end on a tiny config, from hand-made mapping JSONs."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge.neurons.registry import MODEL_NAMES, neuron_model
from bridge.regressor.stage import HORIZONS, train_regressor, versus_repeat_last_value
from tests.regressor_fixtures import mapping_json, tiny_cfg

#: Per-condition models train on a mapping, the reference on none.
RUNS = {m: mapping_json() if neuron_model(m).per_condition else None for m in MODEL_NAMES}
#: Keys of every horizon's evaluation block (stage module docstring).
HORIZON_KEYS = {"r2", "smape", "smape_z", "mse", "n_steps", "n_nonfinite",
                "skill_vs_repeat_last", "skill_vs_ridge_ar", "s_comm", "activation_sparsity",
                "synaptic_ops", "dense_synaptic_ops", "s_comp", "synaptic_ops_detail",
                "n_events", "n_neuron_steps", "n_neurons_state_nonfinite"}  # fmt: skip


def _no_nan(path: Path) -> dict:
    def reject(token: str) -> None:
        raise AssertionError(f"{path}: {token} in JSON")

    return json.loads(path.read_text(), parse_constant=reject)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, Path]]:
    torch.set_num_threads(1)
    out = {}
    for model, mapping in RUNS.items():
        folder = tmp_path_factory.mktemp(model)
        out[model] = (train_regressor(mapping, model, 7, tiny_cfg(), folder), folder)
    return out


@pytest.mark.parametrize("model", list(RUNS))
def test_metrics_json_is_complete_and_finite(model: str, runs) -> None:
    metrics, folder = runs[model]
    on_disk = _no_nan(folder / "metrics.json")
    assert on_disk["status"] == "ok" and on_disk["reason"] is None
    assert on_disk["condition"] == ("control" if neuron_model(model).per_condition else "reference")
    assert on_disk["model"] == model and on_disk["seed"] == 7
    for mode in HORIZONS:
        block = on_disk["evaluation"][mode]
        assert set(block) == HORIZON_KEYS, (mode, set(block) ^ HORIZON_KEYS)
        for key in HORIZON_KEYS - {"synaptic_ops_detail"}:
            value = block[key]
            assert isinstance(value, float | int) and math.isfinite(value), (mode, key)
        # one Lyapunov time = the whole tiny test span
        assert block["n_steps"] == 75 and block["n_nonfinite"] == 0
        assert block["s_comp"] == pytest.approx(
            1 - block["synaptic_ops"] / block["dense_synaptic_ops"]
        )
        assert block["n_neuron_steps"] == 75 * 12
        for baseline in ("repeat_last_value", "ridge_ar"):
            other = on_disk["baselines"][baseline][mode]
            assert set(other) == {"r2", "smape", "smape_z", "mse", "n_steps", "n_nonfinite"}
            assert math.isfinite(other["r2"]) and math.isfinite(other["smape_z"])
            assert other["n_steps"] == 75
        rl = on_disk["baselines"]["repeat_last_value"][mode]["mse"]
        assert block["skill_vs_repeat_last"] == pytest.approx(1 - block["mse"] / rl)
    assert set(on_disk["headline"]) == {"r2", "smape", "r2_one_step", "smape_one_step",
                                        "s_comm", "s_comp", "beats_repeat_last_value"}  # fmt: skip
    versus = on_disk["versus_repeat_last_value"]
    assert on_disk["headline"]["beats_repeat_last_value"] == versus["beats"]
    assert versus["one_step"] == (
        on_disk["evaluation"]["one_step"]["r2"]
        > on_disk["baselines"]["repeat_last_value"]["one_step"]["r2"]
    )
    assert "bridge.regressor.activity" in on_disk["evaluation"]["sparsity_definition"]
    assert on_disk["headline"]["r2"] == on_disk["evaluation"]["closed_loop"]["r2"]
    assert len(on_disk["training"]["epoch_loss"]) == 10
    assert on_disk["timing"]["train_s"] > 0 and on_disk["provenance"]["config_hash"]
    assert on_disk["architecture"]["parameters"]["synaptic"] == 2 * 12 + 1  # no projection bias
    with np.load(folder / "predictions.npz") as npz:
        assert str(npz["status"]) == "ok"
        # The activity metrics are recomputed from the saved rasters.
        for mode in ("one_step", "closed_loop"):
            block = on_disk["evaluation"][mode]
            assert npz[f"events_{mode}"].mean() == pytest.approx(block["s_comm"])
            assert (npz[f"hidden_output_{mode}"] == 0).mean() == pytest.approx(
                block["activation_sparsity"]
            )
        first = on_disk["evaluation"]["closed_loop_first_lyapunov_time"]
        assert npz["events_closed_loop"][:75].sum() == first["n_events"]
        for key in ("target", "one_step", "closed_loop", "ridge_ar_closed_loop",
                    "repeat_last_value_one_step"):  # fmt: skip
            assert npz[key].shape == (75,) and np.isfinite(npz[key]).all()
        assert np.allclose(
            npz["repeat_last_value_closed_loop"], npz["repeat_last_value_closed_loop"][0]
        )


@pytest.mark.parametrize("model", list(RUNS))
def test_short_training_reduces_the_loss(model: str, runs) -> None:
    loss = runs[model][0]["training"]["epoch_loss"]
    assert loss[-1] < 0.9 * loss[0], loss


def test_mapped_values_are_recorded(runs) -> None:
    mtc = runs["mtc"][0]["neuron"]
    assert mtc["params"]["a_fast"] == pytest.approx(-2.1) and mtc["substeps"] == 2
    lif = runs["lif"][0]["neuron"]
    assert lif["beta"] == 0.85 and lif["bias"] == 0.05
    # The mapped arms train no neuron parameter; AdLIF (a trained arm) reports each of its.
    assert mtc["frozen"] and mtc["trained_parameters"] == {} and lif["trained_parameters"] == {}
    adlif = runs["adlif"][0]["neuron"]["trained_parameters"]
    assert set(adlif) == {"tau_u_fraction", "tau_w_fraction", "a", "b"}
    assert all(v["mean_abs_change"] > 0 for v in adlif.values())


def test_same_seed_same_metrics_and_predictions(runs, tmp_path: Path) -> None:
    metrics, folder = runs["lif"]
    again = train_regressor(RUNS["lif"], "lif", 7, tiny_cfg(), tmp_path)
    strip = lambda m: {k: v for k, v in m.items() if k != "timing"}  # noqa: E731
    assert strip(again) == strip(metrics)
    with (
        np.load(folder / "predictions.npz") as first,
        np.load(tmp_path / "predictions.npz") as second,
    ):
        for key in first.files:
            assert np.array_equal(first[key], second[key]), key
    other = train_regressor(RUNS["lif"], "lif", 8, tiny_cfg(), tmp_path / "other")
    assert other["evaluation"]["one_step"]["r2"] != metrics["evaluation"]["one_step"]["r2"]


def test_unusable_condition_is_skipped_with_a_reason(tmp_path: Path) -> None:
    mapping = mapping_json("hyper", use_downstream=False, status="spontaneous_only")
    metrics = train_regressor(mapping, "mtc", 1, tiny_cfg(), tmp_path)
    on_disk = _no_nan(tmp_path / "metrics.json")
    assert on_disk == json.loads(json.dumps(metrics))
    assert on_disk["status"] == "skipped" and on_disk["condition"] == "hyper"
    assert "spontaneous_only" in on_disk["reason"]
    assert "evaluation" not in on_disk and on_disk["provenance"]["git_commit"]
    with np.load(tmp_path / "predictions.npz") as npz:
        assert str(npz["status"]) == "skipped" and "spontaneous_only" in str(npz["reason"])


def test_versus_repeat_last_value_needs_one_step_and_the_first_lyapunov_time() -> None:
    def block(one_step, closed, first):
        return {
            "one_step": {"r2": one_step},
            "closed_loop": {"r2": closed},
            "closed_loop_first_lyapunov_time": {"r2": first},
        }

    baselines = {"repeat_last_value": block(0.86, -0.8, -0.8)}
    good = versus_repeat_last_value(block(0.9, -0.9, 0.5), baselines)
    assert good["one_step"] and not good["closed_loop"] and good["beats"]
    assert not versus_repeat_last_value(block(0.8, 0.1, 0.5), baselines)["beats"]
    assert not versus_repeat_last_value(block(0.9, 0.1, -0.85), baselines)["beats"]
    undefined = versus_repeat_last_value(block(None, None, None), baselines)
    assert undefined["beats"] is False and undefined["one_step"] is False
