import keras
import numpy as np
import pytest

from tests.transfer.conftest import ARCHITECTURE
from tfcdr.errors import DataError
from tfcdr.models import NCFMLP
from tfcdr.training import fit_model
from tfcdr.transfer import (
    CONFIGURATIONS,
    build_target_model,
    frozen_layer_names,
    transferred_layers,
)
from tfcdr.transfer.layer_transfer import tower_layer

TOWER_LAYERS = ("fc_1", "fc_2", "fc_3", "fc_4", "prediction")


def _weights(model, name):
    return [np.asarray(w) for w in tower_layer(model.towers[model.domains[0]], name).weights]


def _equal(a, b):
    return all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
@pytest.mark.parametrize("transfer_prediction", [False, True])
def test_configuration_copies_exactly_its_layers(source_model, source_split, configuration, transfer_prediction):
    # Target on the source's own split: embeddings have equal shapes, so "not
    # copied" is a real check of values, not an accident of shapes.
    keras.utils.set_random_seed(1)
    target = build_target_model(source_model, source_split, configuration, transfer_prediction=transfer_prediction)
    copied = transferred_layers(configuration, transfer_prediction)
    for name in TOWER_LAYERS:
        same = _equal(_weights(target, name), _weights(source_model, name))
        assert same == (name in copied), f"{configuration}: {name} copied={same}"
    for kind in ("user_embeddings", "item_embeddings"):
        s = np.asarray(getattr(source_model, kind)["source"].embeddings)
        t = np.asarray(getattr(target, kind)["source"].embeddings)
        assert s.shape == t.shape and not np.allclose(s, t), f"{kind} must never be transferred"
    assert frozen_layer_names(target) == copied


def test_copies_are_not_shared_variables(source_model, target_split):
    target = build_target_model(source_model, target_split, "config-7")
    layer = tower_layer(target.towers["target"], "fc_4")
    layer.bias.assign(layer.bias + 1.0)
    assert not _equal(_weights(target, "fc_4"), _weights(source_model, "fc_4"))


def test_mismatched_architecture_is_a_clear_error(source_model, target_split):
    with pytest.raises(DataError, match="hidden_units"):
        build_target_model(source_model, target_split, "config-1", hidden_units=(16, 8, 4, 4))
    other = NCFMLP(
        ["target"], target_split.num_users, target_split.num_items, embedding_dim=8, hidden_units=(8, 8, 4, 4)
    )
    from tfcdr.transfer import transfer_layers

    with pytest.raises(DataError, match="fc_1"):
        transfer_layers(source_model, other, "config-4")
    transfer_layers(source_model, other, "config-6")  # FC-3, FC-4 fit whatever the embeddings


def test_frozen_layers_survive_compile_and_fit_while_the_rest_trains(source_model, target_split):
    keras.utils.set_random_seed(2)
    frozen = build_target_model(source_model, target_split, "config-6", transfer_prediction=True)
    keras.utils.set_random_seed(2)
    tuned = build_target_model(source_model, target_split, "config-6", transfer_prediction=True, fine_tune=True)
    assert frozen_layer_names(tuned) == ()
    before = {name: _weights(frozen, name) for name in TOWER_LAYERS}
    embeddings = np.asarray(frozen.user_embeddings["target"].embeddings).copy()
    fit_model(frozen, target_split, epochs=1, verbose=0, steps_per_execution=1)
    fit_model(tuned, target_split, epochs=1, verbose=0, steps_per_execution=1)
    # compile() ran inside fit_model: the flag is still honoured.
    assert len(frozen.trainable_weights) == len(frozen.weights) - 6
    for name in ("fc_3", "fc_4", "prediction"):
        assert _equal(_weights(frozen, name), before[name]), f"frozen {name} moved"
        assert not _equal(_weights(tuned, name), before[name]), f"fine-tuned {name} did not move"
    for name in ("fc_1", "fc_2"):
        assert not _equal(_weights(frozen, name), before[name]), f"untransferred {name} did not train"
    assert not np.allclose(np.asarray(frozen.user_embeddings["target"].embeddings), embeddings)


def test_target_inherits_the_source_architecture(source_model, target_split):
    target = build_target_model(source_model, target_split, "none")
    assert target.embedding_dim == ARCHITECTURE["embedding_dim"]
    assert target.hidden_units == ARCHITECTURE["hidden_units"]
    assert target.domains == ["target"] and frozen_layer_names(target) == ()
