import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys
from tfcdr.models.cmf import CMF

PROTOCOL_OF = {"bce": "loo-sampled", "bpr": "loo-sampled", "mse": "rating"}


def _model(loss_type="bce", **kwargs):
    split = tiny_split(PROTOCOL_OF[loss_type], implicit=loss_type != "mse")
    return CMF(
        split.domain_names,
        split.num_users,
        split.num_items,
        loss_type=loss_type,
        embedding_dim=8,
        **kwargs,
    ), split


@pytest.mark.parametrize("loss_type", ["bce", "bpr", "mse"])
def test_every_weight_trains_and_config_round_trips(loss_type):
    model, split = _model(loss_type)
    assert model.input_kind == {"bce": "pointwise", "bpr": "pairwise", "mse": "rating"}[loss_type]
    run_model_test(model, split)


@pytest.mark.parametrize("loss_type", ["bce", "bpr"])
def test_saving(loss_type, tmp_path):
    model, _ = _model(loss_type)
    reloaded = run_model_saving_test(model, tmp_path)
    assert reloaded.loss_type == loss_type and reloaded.domain_weights == model.domain_weights


def test_one_user_table_serves_every_domain():
    model, _ = _model()
    names = [w.path for w in model.trainable_weights]
    assert sum("user" in n for n in names) == 1
    users, items = np.array([3, 4]), np.array([5, 6])
    u = model.user_factors.embeddings.numpy()[users]
    for domain in model.domains:
        v = model.item_factors[domain].embeddings.numpy()[items]
        np.testing.assert_allclose(model.score(domain, users, items), (u * v).sum(1), rtol=1e-5, atol=1e-7)
    # Moving one user's factor changes her scores in every domain.
    before = {d: np.asarray(model.score(d, users, items)) for d in model.domains}
    model.user_factors.embeddings.assign(model.user_factors.embeddings + 0.5)
    for domain in model.domains:
        assert not np.allclose(model.score(domain, users, items), before[domain])


@pytest.mark.parametrize("loss_type", ["bce", "bpr", "mse"])
def test_auxiliary_weight_scales_the_source_loss_exactly(loss_type):
    split = tiny_split(PROTOCOL_OF[loss_type], implicit=loss_type != "mse")
    if loss_type == "bpr":
        x = {
            d: {
                keys.USER_ID: tf.constant([0, 1]),
                keys.POSITIVE_ITEM_ID: tf.constant([1, 2]),
                keys.NEGATIVE_ITEM_ID: tf.constant([3, 4]),
            }
            for d in split.domain_names
        }
        y = None
        y_pred = {
            "source": tf.constant([[0.3, -0.2], [0.1, 0.4]]),
            "target": tf.constant([[1.0, 0.5], [-0.3, 0.2]]),
        }
    else:
        x = {d: {keys.USER_ID: tf.constant([0, 1]), keys.ITEM_ID: tf.constant([1, 2])} for d in split.domain_names}
        y = {"source": tf.constant([1.0, 0.0]), "target": tf.constant([0.0, 1.0])}
        y_pred = {"source": tf.constant([0.3, 0.8]), "target": tf.constant([1.2, -0.4])}

    def loss(weight):
        model = CMF(
            split.domain_names,
            split.num_users,
            split.num_items,
            loss_type=loss_type,
            auxiliary_weight=weight,
            l2=0.0,
        )
        return float(model.compute_loss(x=x, y=y, y_pred=y_pred))

    target_only, full = loss(0.0), loss(1.0)
    assert full > target_only > 0
    assert loss(0.3) == pytest.approx(target_only + 0.3 * (full - target_only), rel=1e-6)


def test_domain_weights_override_auxiliary_weight():
    model, _ = _model(auxiliary_weight=0.2, domain_weights={"target": 2.0})
    assert model.domain_weights == {"source": 0.2, "target": 2.0}
    split = tiny_split()
    with pytest.raises(ValueError, match="loss_type"):
        CMF(split.domain_names, split.num_users, split.num_items, loss_type="hinge")


def test_squared_error_training_learns_a_per_domain_offset_and_ranking_losses_have_none():
    model, split = _model("mse")
    offsets = [w.path for w in model.trainable_weights if "rating_offset" in w.path]
    assert len(offsets) == len(model.domains)
    assert not [w for w in _model("bpr")[0].weights if "rating_offset" in w.path]
    model.rating_offsets["target"].assign(0.7)
    users, items = np.array([3, 4]), np.array([5, 6])
    u = model.user_factors.embeddings.numpy()[users]
    v = model.item_factors["target"].embeddings.numpy()[items]
    np.testing.assert_allclose(model.score("target", users, items), (u * v).sum(1) + 0.7, rtol=1e-5)
