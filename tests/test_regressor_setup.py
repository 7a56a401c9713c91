"""Regressor config, data windows and the mapping JSON -> hidden layer step."""

import numpy as np
import pytest
import torch

from bridge.config import ConfigError
from bridge.config.regressor import RegressorRunConfig
from bridge.contracts import MappingInputError
from bridge.neurons.lif import LIFLayer
from bridge.neurons.mtc import MTC_PRESETS, MTCLayer
from bridge.neurons.registry import CONDITION_MODELS
from bridge.regressor.data import load_regressor_data, training_windows, window_starts
from bridge.regressor.mackey_glass import MackeyGlassParams
from bridge.regressor.model import SpikingRegressor
from bridge.regressor.neuron_setup import neuron_setup
from tests.regressor_fixtures import mapping_json, tiny_cfg


def regressor_settings(cfg: dict) -> RegressorRunConfig:
    return RegressorRunConfig.from_config(cfg, "regressor")


def test_settings_name_the_bad_key() -> None:
    settings = regressor_settings(tiny_cfg())
    assert settings.training.window_steps == 40 and settings.mackey_glass_params.n_train == 150
    bad = tiny_cfg(training={"washout_steps": 40})
    with pytest.raises(ConfigError, match=r"'regressor.training.washout_steps': 40 must be"):
        regressor_settings(bad)
    with pytest.raises(ConfigError, match="'regressor.mtc.reference_preset'"):
        regressor_settings(tiny_cfg(mtc={"reference_preset": "chaotic"}))
    missing = tiny_cfg()
    del missing["baselines"]["ridge_alpha"]
    with pytest.raises(
        ConfigError, match="'regressor.baselines.ridge_alpha': required key is missing"
    ):
        regressor_settings(missing)
    with pytest.raises(ConfigError, match="'regressor.training.window_steps': 200 exceeds"):
        regressor_settings(tiny_cfg(training={"window_steps": 200}))


def test_windows_cover_the_training_span_and_pair_each_input_with_the_next_sample() -> None:
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert window_starts(11, 4, 3).tolist() == [0, 3, 6, 7]
    data = load_regressor_data(MackeyGlassParams(train_lyapunov_times=2.0, test_lyapunov_times=1.0))
    inputs, targets = training_windows(data, 40, 20, torch.float64)
    assert inputs.shape == targets.shape == (40, 7, 1)
    # Within a window the target at t is the input at t + 1 (one step ahead).
    assert torch.allclose(targets[:-1], inputs[1:])
    z = data.scaler.forward(data.splits.train_input)
    assert inputs[0, -1, 0].item() == pytest.approx(z[110])
    # The closed-loop warm-up ends with the first test input = the last training target.
    warm = data.closed_loop_warmup()
    assert len(warm) == data.n_train + 1
    assert data.scaler.inverse(warm[-1:])[0] == pytest.approx(data.splits.train_target[-1])
    assert data.scaler.inverse(data.scaler.forward(np.array([0.7])))[0] == pytest.approx(0.7)


def test_mtc_takes_every_mapped_field_frozen_with_whole_substeps() -> None:
    settings = regressor_settings(tiny_cfg(mtc={"step_time_units": 2.0}))
    mapping = mapping_json(mtc_changes={"tau_slow": 40.0, "input_scale": 1.5})
    setup = neuron_setup("mtc", mapping, settings, "control.json")
    assert setup.skip_reason is None and setup.spec is not None
    assert setup.spec.mtc_substeps == 4  # 2.0 units / dt 0.5
    assert setup.used["step_ms"] == pytest.approx(1.0)  # 2 units * 0.5 ms
    layer = SpikingRegressor(setup.spec, seed=0).hidden
    assert isinstance(layer, MTCLayer) and not list(layer.parameters())
    for name in ("a_fast", "i_bias", "tau_slow", "input_scale", "v_sat"):
        assert torch.allclose(getattr(layer, name), torch.tensor(float(mapping["mtc"][name])))
    with pytest.raises(MappingInputError, match=r"control.json: .*not a whole multiple"):
        neuron_setup("mtc", mapping, regressor_settings(tiny_cfg(mtc={"step_time_units": 1.2})),
                     "control.json")  # fmt: skip
    broken = mapping_json()
    del broken["mtc"]["tau_ultraslow"]
    with pytest.raises(
        MappingInputError, match=r"x.json \(mtc\): field 'tau_ultraslow' is missing"
    ):
        neuron_setup("mtc", broken, settings, "x.json")


def test_lif_takes_beta_fit_and_bias_fit_frozen() -> None:
    settings = regressor_settings(tiny_cfg())
    setup = neuron_setup("lif", mapping_json(beta_fit=0.7, bias_fit=0.12), settings)
    layer = SpikingRegressor(setup.spec, seed=0).hidden
    assert isinstance(layer, LIFLayer)
    assert torch.allclose(layer.beta, torch.tensor(0.7)) and not layer.beta.requires_grad
    assert torch.allclose(layer.bias, torch.tensor(0.12))
    assert setup.used["step_ms"] == 1.0
    with pytest.raises(MappingInputError, match="field 'beta_fit' must be a finite number"):
        neuron_setup("lif", {**mapping_json(), "beta_fit": None}, settings)


def test_unusable_mapping_is_skipped_and_adlif_takes_none() -> None:
    settings = regressor_settings(tiny_cfg())
    for model in CONDITION_MODELS:
        setup = neuron_setup(
            model, mapping_json(use_downstream=False, status="never_fires"), settings
        )
        assert setup.spec is None
        assert "use_downstream is false" in setup.skip_reason and "never_fires" in setup.skip_reason
    # Each model follows its own mapping's flag: the flat one is the LIF's, mtc.* the MTC's.
    mtc_unusable = mapping_json(mtc_use_downstream=False, mtc_status="spontaneous_only")
    skipped = neuron_setup("mtc", mtc_unusable, settings)
    assert skipped.spec is None and "mtc.status 'spontaneous_only'" in skipped.skip_reason
    assert neuron_setup("lif", mtc_unusable, settings).spec is not None
    lif_unusable = mapping_json(use_downstream=False, status="never_fires", mtc_use_downstream=True)
    assert lif_unusable["beta_fit"] is None  # what an unusable LIF mapping holds
    assert neuron_setup("lif", lif_unusable, settings).spec is None
    assert neuron_setup("mtc", lif_unusable, settings).spec is not None
    # A usable mapping with a missing or non-finite value is an error, never a NaN network.
    no_flag = mapping_json()
    del no_flag["mtc"]["use_downstream"]
    with pytest.raises(MappingInputError, match=r"\(mtc\): field 'use_downstream' is missing"):
        neuron_setup("mtc", no_flag, settings)
    with pytest.raises(MappingInputError, match="'bias_fit' must be a finite number"):
        neuron_setup("lif", {**mapping_json(), "bias_fit": float("nan")}, settings)
    bad_gain = mapping_json()
    bad_gain["mtc"]["a_fast"] = float("inf")
    with pytest.raises(MappingInputError, match=r"\(mtc\): field 'a_fast' must be a finite"):
        neuron_setup("mtc", bad_gain, settings)
    with pytest.raises(ValueError, match="adlif is the reference baseline"):
        neuron_setup("adlif", mapping_json(), settings)
    reference = neuron_setup("mtc", None, settings)
    assert reference.spec.mtc_params == MTC_PRESETS["tonic"]


def test_validation_flags_travel_and_exclusion_is_opt_in() -> None:
    """A mapping's regressor gate flags reach the run's record; only exclude_flagged drops it."""
    record = mapping_json()
    record["validation"] = {
        "gates": {
            "autoencoder": [],
            "regressor_lif": ["timing_below_floor"],
            "regressor_mtc": [],
        }
    }
    settings = regressor_settings(tiny_cfg())
    lif = neuron_setup("lif", record, settings)
    assert lif.spec is not None and lif.used["validation_flags"] == ["timing_below_floor"]
    mtc = neuron_setup("mtc", record, settings)
    assert mtc.spec is not None and mtc.used["validation_flags"] == []
    strict = regressor_settings(tiny_cfg(exclude_flagged=True))
    dropped = neuron_setup("lif", record, strict)
    assert dropped.spec is None and "timing_below_floor" in dropped.skip_reason
    assert neuron_setup("mtc", record, strict).spec is not None
    assert neuron_setup("adlif", None, strict).used["validation_flags"] == []
    record["validation"]["gates"]["regressor_lif"] = "timing_below_floor"
    with pytest.raises(MappingInputError, match="validation.gates.regressor_lif"):
        neuron_setup("lif", record, settings)
