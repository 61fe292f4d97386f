import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys
from tfcdr.models.adc import ADC
from tfcdr.training import fit_model

SMALL = {"embedding_dim": 8, "shared_layers": (16, 16), "pretrain_epochs": 0, "layerwise_epochs": 0}


def _model(**kwargs):
    split = tiny_split(protocol="adc", implicit=False, num_domains=3)
    return ADC(split.domain_names, split.num_users, split.num_items, **{**SMALL, **kwargs}), split


def test_every_weight_trains_and_config_round_trips():
    model, split = _model()
    run_model_test(model, split)


def test_saving(tmp_path):
    model, split = _model()
    model.prepare(split)
    model.task_weights.assign([0.5, 1.0, 1.5])
    reloaded = run_model_saving_test(model, tmp_path)
    np.testing.assert_allclose(reloaded.task_weights.numpy(), [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(reloaded.user_presence.numpy(), model.user_presence.numpy())


def test_absent_domain_gets_the_mean_of_the_users_other_factors():
    model, _ = _model()
    presence = np.ones((3, model.num_users), np.float32)
    presence[1, 5] = 0.0  # user 5 is absent from domain_1
    presence[:, 6] = 0.0  # user 6 is absent everywhere
    model.user_presence.assign(presence)
    factors = [model.user_factors[d].embeddings.numpy() for d in model.domains]
    inputs = model.user_inputs(tf.constant([5, 6])).numpy().reshape(2, 3, 8)
    np.testing.assert_allclose(inputs[0, 1], (factors[0][5] + factors[2][5]) / 2, rtol=1e-5)
    np.testing.assert_allclose(inputs[0, [0, 2]], [factors[0][5], factors[2][5]], rtol=1e-6)
    np.testing.assert_allclose(inputs[1], [f[6] for f in factors], rtol=1e-6)


def test_domain_loss_is_bpr_plus_cross_domain_term_and_all_items_match_pairs():
    model, _ = _model(cross_domain_weight=0.5)
    users = tf.constant([0, 1, 2, 3])
    x = {
        "domain_2": {
            keys.USER_ID: users,
            keys.POSITIVE_ITEM_ID: tf.constant([1, 2, 3, 4]),
            keys.NEGATIVE_ITEM_ID: tf.constant([5, 6, 7, 8]),
        }
    }
    y_pred = model(x)
    z = model.user_representations(users).numpy()
    cross = sum(((z[:, q] - z[:, 2]) ** 2).sum(axis=1) for q in (0, 1))
    np.testing.assert_allclose(y_pred["domain_2"]["cross_domain"], cross, rtol=1e-5)
    scores = y_pred["domain_2"]["pair_scores"].numpy()
    # keras-rs averages over the list's two entries: half the BPR mean.
    bpr = 0.5 * float(np.mean(np.log1p(np.exp(scores[:, 1] - scores[:, 0]))))
    loss = float(model.domain_losses(x, None, y_pred)["domain_2"])
    assert loss == pytest.approx(bpr + 0.5 * cross.mean(), rel=1e-5)
    every = model.score_all_items("domain_2", users).numpy()
    np.testing.assert_allclose(every[np.arange(4), [1, 2, 3, 4]], scores[:, 0], rtol=1e-5, atol=1e-6)


def test_prepare_pretrains_once_and_warms_up_the_first_layer():
    # Equal weighting: the warm-up's train step traces faster.
    model, split = _model(pretrain_epochs=1, layerwise_epochs=1, loss_weighting="equal")
    before = [model.user_factors["domain_0"].embeddings.numpy(), model.shared[0].kernel.numpy()]
    model.prepare(split)
    after = [model.user_factors["domain_0"].embeddings.numpy(), model.shared[0].kernel.numpy()]
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    train = split.domains["domain_1"].train
    absent = np.setdiff1d(np.arange(model.num_users), train["user"].unique())
    assert np.all(model.user_presence.numpy()[1, absent] == 0) and len(absent) > 0
    model.prepare(split)  # the second call keeps the learned state
    np.testing.assert_array_equal(model.user_factors["domain_0"].embeddings.numpy(), after[0])


def test_fit_logs_domain_losses_and_weights_that_sum_to_p():
    model, split = _model(weight_learning_rate=0.05)
    history = fit_model(model, split, epochs=2, batch_size=128, verbose=0)
    total = np.zeros(2)
    for domain in model.domains:
        assert len(history.history[f"{domain}_loss"]) == 2
        total += history.history[f"{domain}_weight"]
    np.testing.assert_allclose(total, 3.0, rtol=1e-5)
    weights = model.task_weights.numpy()
    assert weights.min() > 0 and not np.allclose(weights, 1.0)
