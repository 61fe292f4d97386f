import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys, pipelines
from tfcdr.models.emcdr import EMCDR


def _model(protocol="cold-start", **kwargs):
    split = tiny_split(protocol)
    return EMCDR(split.domain_names, split.num_users, split.num_items, embedding_dim=8, **kwargs), split


@pytest.mark.parametrize("mapping", ["mlp", "linear"])
def test_every_weight_trains_and_config_round_trips(mapping):
    model, split = _model(mapping=mapping, bidirectional=mapping == "linear")
    run_model_test(model, split)
    assert float(model.mapping_tracker.result()) > 0


def test_saving_keeps_the_training_users(tmp_path):
    model, split = _model()
    model.set_training_users(split)
    reloaded = run_model_saving_test(model, tmp_path)
    np.testing.assert_array_equal(reloaded.training_users.numpy(), model.training_users.numpy())


def test_training_batches_mark_exactly_the_training_users():
    model, split = _model()
    for x, *_ in pipelines.pairwise(split, batch_size=256).take(10**6):
        model.compute_loss(x=x, y_pred=model(x))
    for index, domain in enumerate(model.domains):
        expected = np.zeros(split.num_users)
        expected[split.domains[domain].train["user"].to_numpy()] = 1
        np.testing.assert_array_equal(model.training_users.numpy()[index], expected)


def _perturb_mapping(model):
    for weight in model.trainable_weights:
        if weight.path.startswith("map_"):
            weight.assign(weight + 0.3)


def test_cold_users_are_scored_through_the_mapping_and_warm_users_are_not():
    model, _ = _model("loo-sampled")
    marks = np.ones((2, model.num_users), np.float32)
    cold, warm = 5, 6
    marks[1, cold] = 0.0
    model.training_users.assign(marks)
    items = np.arange(10)
    before = {u: np.asarray(model.score("target", np.full(10, u), items)) for u in (cold, warm)}
    source_before = np.asarray(model.score("source", np.full(10, cold), items))
    _perturb_mapping(model)
    assert not np.allclose(model.score("target", np.full(10, cold), items), before[cold])
    np.testing.assert_array_equal(model.score("target", np.full(10, warm), items), before[warm])
    # Nothing maps into the source unless bidirectional.
    np.testing.assert_array_equal(model.score("source", np.full(10, cold), items), source_before)


def test_map_all_users_maps_warm_users_too():
    model, split = _model("loo-sampled", map_all_users=True)
    model.set_training_users(split)
    items = np.arange(10)
    before = np.asarray(model.score("target", np.full(10, 6), items))
    _perturb_mapping(model)
    assert not np.allclose(model.score("target", np.full(10, 6), items), before)


def test_mapping_loss_trains_only_the_mapping_and_fits_a_linear_map():
    keras.utils.set_random_seed(0)
    model, _ = _model("loo-sampled", mapping="linear", l2=0.0)
    model.training_users.assign(np.ones((2, model.num_users), np.float32))
    source = np.random.default_rng(0).normal(size=(model.num_users, 8)).astype(np.float32)
    true_map = np.random.default_rng(1).normal(size=(8, 8)).astype(np.float32) / 3
    model.user_factors["source"].embeddings.assign(source)
    model.user_factors["target"].embeddings.assign(source @ true_map)
    users = tf.range(model.num_users)
    mapping_weights = [w for w in model.trainable_weights if w.path.startswith("map_")]
    optimizer = keras.optimizers.Adam(0.05)
    with tf.GradientTape() as tape:
        first = model.mapping_loss(users)
    gradients = tape.gradient(first, model.trainable_weights)
    for weight, gradient in zip(model.trainable_weights, gradients, strict=True):
        assert (gradient is not None) == weight.path.startswith("map_"), weight.path

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = model.mapping_loss(users)
        optimizer.apply_gradients(zip(tape.gradient(loss, mapping_weights), mapping_weights, strict=True))
        return loss

    for _ in range(200):
        loss = step()
    assert float(loss) < 0.01 * float(first)
    np.testing.assert_allclose(mapping_weights[0].numpy(), true_map, atol=0.05)


def test_mapping_loss_ignores_users_missing_from_a_domain():
    model, _ = _model("loo-sampled", mapping="linear")
    marks = np.zeros((2, model.num_users), np.float32)
    model.training_users.assign(marks)
    assert float(model.mapping_loss(tf.range(10))) == 0.0
    marks[:, 3] = 1.0
    model.training_users.assign(marks)
    alone = float(model.mapping_loss(tf.constant([3])))
    assert float(model.mapping_loss(tf.range(10))) == pytest.approx(alone, rel=1e-6)
    assert alone > 0


def test_compute_loss_adds_the_weighted_mapping_loss():
    model, split = _model("loo-sampled", mapping_weight=0.0)
    weighted, _ = _model("loo-sampled", mapping_weight=2.0)
    weighted.set_weights(model.get_weights())
    x = {
        d: {
            keys.USER_ID: tf.constant([0, 1, 2]),
            keys.POSITIVE_ITEM_ID: tf.constant([1, 2, 3]),
            keys.NEGATIVE_ITEM_ID: tf.constant([4, 5, 6]),
        }
        for d in model.domains
    }
    base = float(model.compute_loss(x=x, y_pred=model(x)))
    total = float(weighted.compute_loss(x=x, y_pred=weighted(x)))
    users = tf.constant([0, 1, 2, 0, 1, 2])
    assert total == pytest.approx(base + 2.0 * float(weighted.mapping_loss(users)), rel=1e-5)


def test_mse_variant_trains_on_ratings_with_the_squared_error():
    split = tiny_split("rating", implicit=False)
    trained = EMCDR(split.domain_names, split.num_users, split.num_items, embedding_dim=8, loss_type="mse")
    assert trained.input_kind == "rating"
    run_model_test(trained, split)
    model = EMCDR(
        split.domain_names, split.num_users, split.num_items, embedding_dim=8, loss_type="mse", mapping_weight=0.0
    )
    x = {d: {keys.USER_ID: tf.constant([0, 1, 2]), keys.ITEM_ID: tf.constant([1, 2, 3])} for d in model.domains}
    y = {d: tf.constant([0.2, 0.5, 1.0]) for d in model.domains}
    predictions = model(x)
    expected = sum(float(np.mean((y[d].numpy() - predictions[d].numpy()) ** 2)) for d in model.domains)
    expected += float(sum(model.losses))
    assert float(model.compute_loss(x=x, y=y, y_pred=predictions)) == pytest.approx(expected, rel=1e-5)


def test_registry_uses_mf_under_rating_and_maps_both_ways_under_cold_start():
    from tfcdr.models import build_model

    assert build_model("emcdr", tiny_split("rating", implicit=False)).loss_type == "mse"
    cold = build_model("emcdr", tiny_split("cold-start"))
    assert cold.loss_type == "bpr" and cold.directions == [("source", "target"), ("target", "source")]
    assert build_model("emcdr", tiny_split("loo-sampled")).directions == [("source", "target")]
