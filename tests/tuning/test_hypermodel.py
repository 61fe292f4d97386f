"""CDRHyperModel builds every registered model from its search space."""

import json

import keras
import keras_tuner
import pytest

from tests.export.splits import split_for
from tests.test_case import tiny_split
from tfcdr.models import MODELS
from tfcdr.tuning import SEARCH_SPACES, CDRHyperModel, search_space


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_builds_compiled_from_its_space(name):
    hypermodel = CDRHyperModel(name, split_for(name), fixed={"batch_size": 64})
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert isinstance(model, keras.Model) and model.optimizer is not None
    config = hypermodel.config(hp)
    assert config["batch_size"] == 64 and set(hp.values) <= set(config) | {"batch_size"}
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(config["learning_rate"])


def test_declaring_space_registers_hyperparameters_without_building():
    hypermodel = CDRHyperModel("mlp", tiny_split(), space=lambda hp: {"hidden_units": [hp.Int("width", -3, 0)]})
    hp = keras_tuner.HyperParameters()
    with hypermodel.declaring_space():
        assert hypermodel.build(hp) is None  # would raise outside: width <= 0
    assert "width" in hp.values


def test_registered_spaces_name_models_that_exist():
    assert set(SEARCH_SPACES) <= set(MODELS)
    hp = keras_tuner.HyperParameters()
    assert set(search_space("mlp")(hp)) == {"embedding_dim", "learning_rate", "negative_ratio"}
    assert set(search_space("bpr-mf")(hp)) == {"embedding_dim", "l2", "learning_rate"}


@pytest.mark.parametrize("name", sorted(SEARCH_SPACES))
def test_every_search_space_builds_its_model(name):
    import keras_tuner

    from tests.export.splits import split_for
    from tfcdr.models import build_model, split_config

    hp = keras_tuner.HyperParameters()
    config = search_space(name)(hp)
    json.dumps(config)  # best_config.json must be able to hold it
    model_kwargs, training = split_config(name, config)
    model = build_model(name, split_for(name), **model_kwargs)
    for key, value in model_kwargs.items():
        assert getattr(model, key) == value or list(getattr(model, key)) == list(value), key
    assert training["learning_rate"] == config["learning_rate"]
