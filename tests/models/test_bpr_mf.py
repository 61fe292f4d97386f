import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys
from tfcdr.models import BPRMF


def _model(**kwargs):
    split = tiny_split()
    return BPRMF(split.domain_names, split.num_users, split.num_items, **kwargs), split


def test_every_weight_trains_and_config_round_trips():
    model, split = _model()
    run_model_test(model, split)


def test_saving(tmp_path):
    model, _ = _model()
    run_model_saving_test(model, tmp_path)


def test_score_is_dot_product_plus_item_bias():
    model, _ = _model()
    model.item_biases["target"].embeddings.assign(tf.ones_like(model.item_biases["target"].embeddings))
    users, items = np.array([3, 4]), np.array([5, 6])
    u = model.user_factors["target"].embeddings.numpy()[users]
    v = model.item_factors["target"].embeddings.numpy()[items]
    np.testing.assert_allclose(model.score("target", users, items), (u * v).sum(1) + 1.0, rtol=1e-5)


def test_loss_decreases_with_the_pairwise_margin_and_is_logistic():
    model, _ = _model(l2=0.0)
    x = {
        "target": {
            keys.USER_ID: tf.constant([0]),
            keys.POSITIVE_ITEM_ID: tf.constant([1]),
            keys.NEGATIVE_ITEM_ID: tf.constant([2]),
        }
    }
    losses = []
    for margin in (-2.0, 0.0, 2.0):
        pair = {"target": tf.constant([[margin, 0.0]])}
        losses.append(float(model.compute_loss(x=x, y_pred=pair)))
    assert losses[0] > losses[1] > losses[2]
    # keras-rs' pairwise logistic loss is log(1 + exp(-margin)) up to a constant factor.
    ratio = [loss / np.log1p(np.exp(-m)) for loss, m in zip(losses, (-2.0, 0.0, 2.0), strict=True)]
    assert ratio == pytest.approx([ratio[0]] * 3, rel=1e-4)


def test_bpr_loss_is_half_the_textbook_mean_as_documented():
    from tfcdr.models.cdr_model import bpr_loss

    scores = np.array([[0.3, -0.2], [0.1, 0.4], [2.0, -1.0], [-0.5, 0.5]], np.float32)
    textbook = np.mean(np.log1p(np.exp(scores[:, 1] - scores[:, 0])))
    assert float(bpr_loss(tf.constant(scores))) == pytest.approx(0.5 * textbook, rel=1e-6)


def test_l2_regularizes_only_the_rows_in_the_batch():
    # A whole-table penalty gives every row a gradient each step, which Adam
    # turns into a full-size step: unseen rows (cold users) collapse to zero.
    split = tiny_split()
    model = BPRMF(split.domain_names, split.num_users, split.num_items, embedding_dim=4, l2=0.1)
    x = {
        d: {
            keys.USER_ID: tf.constant([0, 1]),
            keys.POSITIVE_ITEM_ID: tf.constant([1, 2]),
            keys.NEGATIVE_ITEM_ID: tf.constant([3, 4]),
        }
        for d in model.domains
    }
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y_pred=y_pred)
    table = model.user_factors["target"]
    gradient = tf.convert_to_tensor(tape.gradient(loss, table.embeddings))
    assert np.all(np.asarray(gradient)[2:] == 0) and np.any(np.asarray(gradient)[:2] != 0)
    users = table.embeddings.numpy()[[0, 1]]
    items = model.item_factors["target"].embeddings.numpy()
    # Each lookup adds l2 * mean ||row||^2: the user's row is looked up once
    # for the positive and once for the negative item.
    expected = sum(
        0.1 * np.mean(np.sum(rows**2, axis=1))
        for d in model.domains
        for rows in (
            model.user_factors[d].embeddings.numpy()[[0, 1]],
            model.user_factors[d].embeddings.numpy()[[0, 1]],
            model.item_factors[d].embeddings.numpy()[[1, 2]],
            model.item_factors[d].embeddings.numpy()[[3, 4]],
        )
    )
    assert users.shape == (2, 4) and items.shape[1] == 4
    assert float(model.regularization_loss()) == pytest.approx(expected, rel=1e-5)
