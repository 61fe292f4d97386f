import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys, pipelines
from tfcdr.errors import DataError
from tfcdr.models.ddtcdr import DDTCDR
from tfcdr.training import fit_model
from tfcdr.training.pretrain_features import pretrain_feature_autoencoders


def _split(num_domains=2):
    return tiny_split("rating", num_domains=num_domains, implicit=False)


def _model(split=None, prepare=True, **kwargs):
    split = split or _split()
    keras.utils.set_random_seed(0)
    kwargs.setdefault("transfer_rate", 0.3)
    kwargs.setdefault("hidden_units", (8, 4))
    model = DDTCDR(split.domain_names, split.num_users, split.num_items, **kwargs)
    if prepare:
        model.set_user_domains(split)
    return model


def _feature_tables(split, user_dim=3, item_dim=2, seed=0, target_only=False):
    rng = np.random.default_rng(seed)
    users = (rng.random((split.num_users, user_dim)) < 0.5).astype("float32")
    items = {d: rng.normal(size=(n, item_dim)).astype("float32") for d, n in split.num_items.items()}
    if target_only:
        del items["source"]
    return users, items


def _users_by_presence(split):
    present = {d: set(split.domains[d].train["user"]) for d in split.domain_names}
    source, target = split.domain_names
    return sorted(present[source] & present[target]), sorted(present[source] - present[target])


def test_every_weight_trains_and_config_round_trips():
    model = _model()
    run_model_test(model, _split())
    assert {w.path.split("/")[0] for w in model.trainable_weights} >= {
        "mapping_source_target",
        "rating_network_source",
        "user_embedding_target",
    }


def test_ncf_rating_alpha_zero_has_no_mapping_and_trains():
    model = _model(transfer_rate=0.0)
    assert not model.mappings
    run_model_test(model, _split())


def test_saving_keeps_user_domains_and_feature_tables(tmp_path):
    split = _split()
    model = _model(split, user_feature_dim=3, item_feature_dims=[2, 2], autoencoder="vae")
    model.set_feature_tables(*_feature_tables(split))
    reloaded = run_model_saving_test(model, tmp_path)
    np.testing.assert_array_equal(np.asarray(reloaded.user_domains), np.asarray(model.user_domains))
    assert float(reloaded.features_set) == 1.0


def test_gradient_reaches_x_and_other_domain_network_through_cross_term():
    model = _model()
    overlap, _ = _users_by_presence(_split())
    users = tf.constant(overlap[:16], tf.int32)
    items = tf.constant(np.arange(16) % 50, tf.int32)
    with tf.GradientTape() as tape:
        # Loss of the source domain only: it reaches the target's network and X.
        loss = tf.reduce_mean(tf.square(model.score("source", users, items) - 1.0))
    mapping = model.mappings["source_target"].kernel
    target_net = model.rating_networks["target"].prediction.kernel
    grad_x, grad_net = tape.gradient(loss, [mapping, target_net])
    assert grad_x is not None and np.abs(np.asarray(grad_x)).max() > 0
    assert grad_net is not None and np.abs(np.asarray(grad_net)).max() > 0


def test_x_is_orthogonal_after_fit():
    split = _split()
    model = _model(split, prepare=False, embedding_dim=4)
    # A large learning rate would pull an unconstrained X far off the group.
    fit_model(model, split, epochs=1, batch_size=128, learning_rate=0.05, verbose=0, steps_per_execution=4)
    x = np.asarray(model.mappings["source_target"].kernel)
    assert np.max(np.abs(x.T @ x - np.eye(4))) < 1e-4
    # fit_model's prepare marked the users of each domain.
    assert np.asarray(model.user_domains).sum() == sum(
        split.domains[d].train["user"].nunique() for d in split.domain_names
    )


def _within(model, domain, users, items):
    return np.asarray(
        model.rate(domain, model.user_representation(domain, users), model.item_representation(domain, items))
    )


def test_alpha_zero_gives_exactly_the_single_domain_network():
    model = _model(transfer_rate=0.0)
    users, items = tf.constant([0, 5, 9]), tf.constant([1, 2, 3])
    for domain in model.domains:
        np.testing.assert_array_equal(
            np.asarray(model.score(domain, users, items)), _within(model, domain, users, items)
        )


def test_single_domain_users_get_alpha_zero_and_others_eq_2():
    split = _split()
    model = _model(split)
    overlap, source_only = _users_by_presence(split)
    alpha = model.transfer_rate
    items = tf.constant([0, 1, 2])
    lone = tf.constant(source_only[:3], tf.int32)
    np.testing.assert_allclose(
        np.asarray(model.score("source", lone, items)), _within(model, "source", lone, items), atol=1e-7
    )
    both = tf.constant(overlap[:3], tf.int32)
    mapped = model.mappings["source_target"](model.user_representation("source", both))
    cross = np.asarray(model.rate("target", mapped, model.item_representation("source", items)))
    expected = (1 - alpha) * _within(model, "source", both, items) + alpha * cross
    np.testing.assert_allclose(np.asarray(model.score("source", both, items)), expected, rtol=1e-5)
    # eq. 3: the target domain maps back with X^T.
    back = model.mappings["source_target"].inverse(model.user_representation("target", both))
    cross_b = np.asarray(model.rate("source", back, model.item_representation("target", items)))
    expected_b = (1 - alpha) * _within(model, "target", both, items) + alpha * cross_b
    np.testing.assert_allclose(np.asarray(model.score("target", both, items)), expected_b, rtol=1e-5)


def test_before_user_domains_are_set_every_user_is_single_domain():
    model = _model(prepare=False)
    users, items = tf.constant([0, 1, 2]), tf.constant([0, 1, 2])
    np.testing.assert_allclose(np.asarray(model.score("source", users, items)), _within(model, "source", users, items))


def test_three_domains_eq_7():
    split = _split(num_domains=3)
    model = _model(split)
    assert sorted(model.mappings) == ["domain_0_domain_1", "domain_0_domain_2", "domain_1_domain_2"]
    run_model_test(model, split)
    present = [set(split.domains[d].train["user"]) for d in split.domain_names]
    everywhere = sorted(present[0] & present[1] & present[2])[:4]
    users, items = tf.constant(everywhere, tf.int32), tf.constant([0, 1, 2, 3])
    domain = "domain_1"
    w_u = model.user_representation(domain, users)
    w_i = model.item_representation(domain, items)
    cross = [
        np.asarray(model.rate("domain_0", model.mappings["domain_0_domain_1"].inverse(w_u), w_i)),
        np.asarray(model.rate("domain_2", model.mappings["domain_1_domain_2"](w_u), w_i)),
    ]
    alpha = model.transfer_rate
    expected = (1 - alpha) * _within(model, domain, users, items) + alpha * (cross[0] + cross[1]) / 2
    np.testing.assert_allclose(np.asarray(model.score(domain, users, items)), expected, rtol=1e-5)


def test_features_frozen_after_pretraining_or_fine_tuned_jointly():
    split = _split()
    frozen = _model(split, user_feature_dim=3, item_feature_dims=[0, 2])
    frozen.set_feature_tables(*_feature_tables(split, target_only=True))
    history = pretrain_feature_autoencoders(frozen, epochs=2, batch_size=64)
    assert sorted(history) == ["item_target", "user_source", "user_target"]
    assert all(h[-1] < h[0] for h in history.values())
    assert float(frozen.features_pretrained) == 1.0
    assert not any("autoencoder" in w.path for w in frozen.trainable_weights)
    run_model_test(frozen, split)

    tuned = _model(split, user_feature_dim=3, item_feature_dims=[2, 2], fine_tune_features=True)
    tuned.set_feature_tables(*_feature_tables(split))
    # Decoders train too: the reconstruction loss is part of the joint loss.
    run_model_test(tuned, split)
    assert any("user_autoencoder_source/decoder" in w.path for w in tuned.trainable_weights)


def test_prepare_takes_features_from_the_split_and_pretrains_once():
    split = dataclasses.replace(_split())
    split.user_features = pd.DataFrame({"group": np.arange(split.num_users) % 3})
    split.item_features = {"target": pd.DataFrame({"year": np.arange(split.num_items["target"], dtype=float)})}
    model = _model(split, prepare=False, user_feature_dim=3, item_feature_dims=[0, 1], pretrain_epochs=1)
    model.prepare(split)
    assert float(model.features_set) == 1.0 and float(model.features_pretrained) == 1.0
    np.testing.assert_array_equal(np.asarray(model.user_feature_table)[:4], np.eye(3)[[0, 1, 2, 0]])
    before = [np.asarray(w) for w in model.user_autoencoders["source"].weights]
    model.prepare(split)
    for a, b in zip(before, model.user_autoencoders["source"].weights, strict=True):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_missing_features_are_a_clear_error():
    split = _split()
    model = _model(split, prepare=False, user_feature_dim=3)
    with pytest.raises(DataError, match="set_feature_tables"):
        model.prepare(split)
    with pytest.raises(DataError, match="shape"):
        model.set_feature_tables(np.zeros((split.num_users, 4)))


def test_bad_hyperparameters_are_refused():
    split = _split()
    with pytest.raises(ValueError, match="transfer_rate"):
        _model(split, transfer_rate=1.0)
    with pytest.raises(ValueError, match="use_ids"):
        _model(split, use_ids=False)


def test_loss_is_sum_of_domain_mses():
    model = _model(l2=0.0)
    x, y = next(iter(pipelines.ratings(_split(), batch_size=32)))
    predicted = model(x)
    expected = sum(np.mean((y[d].numpy() - predicted[d].numpy()) ** 2) for d in model.domains)
    assert float(model.compute_loss(x=x, y=y, y_pred=predicted)) == pytest.approx(expected, rel=1e-5)
    assert set(x["source"]) == {keys.USER_ID, keys.ITEM_ID}
