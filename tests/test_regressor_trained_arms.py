"""The trained arms (condition ``reference``) train their neuron parameters as the MTC paper ran
them; the per-condition mapped arms keep theirs frozen."""

import pytest
import torch

from bridge.config.regressor import MtcTrainableField, RegressorRunConfig
from bridge.neurons.mtc import MTC_EULER_SAFETY, MTC_TRAINABLE_FIELDS, MTCLayer
from bridge.neurons.registry import MODEL_NAMES
from bridge.regressor.data import load_regressor_data, training_windows
from bridge.regressor.model import SpikingRegressor, parameter_counts
from bridge.regressor.neuron_setup import neuron_setup
from bridge.regressor.training import train_bptt
from tests.regressor_fixtures import PAPER_MTC_FIELDS, mapping_json, tiny_cfg


def _settings(**overrides) -> RegressorRunConfig:
    return RegressorRunConfig.from_config(tiny_cfg(**overrides), "regressor")


def _trained_network(model: str, mapping: dict | None, settings: RegressorRunConfig):
    spec = neuron_setup(model, mapping, settings).spec
    network = SpikingRegressor(spec, seed=3, dtype=torch.float64)
    before = {name: value.detach().clone() for name, value in network.hidden.state_dict().items()}
    data = load_regressor_data(settings.mackey_glass_params)
    inputs, targets = training_windows(data, 40, 20, torch.float64)
    train_bptt(network, inputs, targets, settings.training.model_copy(update={"epochs": 4}), 3)
    return network, before


def test_config_names_every_trainable_mtc_field() -> None:
    assert set(MtcTrainableField.__args__) == set(MTC_TRAINABLE_FIELDS)


def test_trained_arms_are_built_from_the_config() -> None:
    settings = _settings()
    mtc = neuron_setup("mtc", None, settings)
    assert mtc.spec.mtc_trainable == PAPER_MTC_FIELDS and mtc.used["frozen"] is False
    lif = neuron_setup("lif", None, settings)
    assert lif.spec.lif_train_beta and lif.spec.lif_beta == 0.9 and lif.used["frozen"] is False
    counts = {m: parameter_counts(SpikingRegressor(neuron_setup(m, None, settings).spec, 0))
              for m in MODEL_NAMES}  # fmt: skip
    n = settings.n_hidden
    assert counts["mtc"]["neuron"] == 8 * n and counts["lif"]["neuron"] == n
    assert counts["adlif"]["neuron"] == 4 * n
    # The mapped arms freeze every neuron parameter, whatever regressor.trained says.
    for model in ("mtc", "lif"):
        mapped = neuron_setup(model, mapping_json(), settings)
        assert mapped.used["frozen"] is True
        assert parameter_counts(SpikingRegressor(mapped.spec, 0))["neuron"] == 0
    # Switched off in the config, the trained arm keeps the preset / configured beta.
    off = _settings(trained={"mtc_trainable": [], "lif_train_beta": False})
    assert neuron_setup("mtc", None, off).spec.mtc_trainable == ()
    assert not neuron_setup("lif", None, off).spec.lif_train_beta


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_trained_arm_moves_its_neuron_parameters(model: str) -> None:
    torch.set_num_threads(1)
    network, before = _trained_network(model, None, _settings())
    trained = dict(network.hidden.named_parameters())
    assert trained, model
    for name, value in trained.items():
        change = (value.detach() - before[name]).abs()
        # Every trained field moves, and per neuron, not as one shared value.
        assert change.max() > 1e-4, (model, name)
        assert value.detach().std() > 0 or before[name].std() > 0, (model, name)
    if model == "lif":
        beta = network.hidden.beta.detach()
        assert ((beta >= 0) & (beta <= 1)).all()  # projected back after every step


@pytest.mark.parametrize("model", ["mtc", "lif"])
def test_mapped_arm_keeps_its_neuron_parameters(model: str) -> None:
    torch.set_num_threads(1)
    network, before = _trained_network(model, mapping_json(), _settings())
    assert not list(network.hidden.parameters())
    after = network.hidden.state_dict()
    for name, value in before.items():
        assert torch.equal(after[name], value), (model, name)
    # ...while its synaptic weights did train.
    assert network.projection.weight.grad is not None


def test_mtc_clamp_keeps_a_trained_fast_gain_inside_euler_stability() -> None:
    layer = MTCLayer(3, trainable=("a_fast",), substeps=2, dtype=torch.float64)
    with torch.no_grad():
        layer.a_fast.copy_(torch.tensor([-2.0, 2.0, 10.0], dtype=torch.float64))
    layer.clamp_parameters_()
    ceiling = MTC_EULER_SAFETY * 2.0 / layer.dt - 1.0  # C = 1
    assert layer.a_fast.tolist() == pytest.approx([-2.0, 2.0, ceiling])
    layer.current_params()  # valid: MTCParams refuses a_fast at the Euler bound
    with torch.no_grad():
        layer.a_fast.fill_(2.0 / layer.dt - 1.0)
    with pytest.raises(ValueError, match="Euler limit"):
        layer.current_params()
