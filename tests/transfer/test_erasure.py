import numpy as np
import pytest
import tensorflow as tf

from tfcdr.transfer import erased, layer_importance
from tfcdr.transfer.layer_transfer import tower_layer


def test_erasing_a_layer_changes_scores_and_restores_weights(source_model):
    tower = source_model.towers["source"]
    layer = tower_layer(tower, "fc_2")
    users, items = tf.constant([0, 1, 2, 3]), tf.constant([4, 5, 6, 7])
    before = np.asarray(source_model.score("source", users, items))
    weights = [np.asarray(w).copy() for w in layer.weights]
    with erased(layer):
        erased_scores = np.asarray(source_model.score("source", users, items))
        # A whole hidden layer at zero: every pair gets the same score.
        np.testing.assert_allclose(erased_scores, erased_scores[0], rtol=1e-6)
    assert not np.allclose(before, erased_scores)
    with erased(layer, units=[0]):
        one_unit = np.asarray(layer(tf.ones((3, 8))))
        assert np.all(one_unit[:, 0] == 0)
    for w, kept in zip(layer.weights, weights, strict=True):
        np.testing.assert_array_equal(np.asarray(w), kept)


def test_erasure_is_undone_after_an_error(source_model):
    layer = tower_layer(source_model.towers["source"], "fc_1")
    kernel = np.asarray(layer.kernel).copy()
    with pytest.raises(RuntimeError), erased(layer):
        raise RuntimeError("boom")
    np.testing.assert_array_equal(np.asarray(layer.kernel), kernel)


def test_layer_importance_reports_a_drop_per_unit(source_model, source_split):
    frame = layer_importance(source_model, source_split)
    assert list(frame["layer"].unique()) == ["fc_1", "fc_2", "fc_3", "fc_4"]
    assert len(frame) == sum(source_model.hidden_units)
    np.testing.assert_allclose(frame["drop"], frame.attrs["baseline"] - frame["hr@10"])
    np.testing.assert_allclose(frame["ll_drop"], frame.attrs["baseline_log_likelihood"] - frame["log_likelihood"])
    # The log-likelihood sees every erasure that changes any score.
    assert np.all(frame["log_likelihood"] < 0) and np.any(frame["ll_drop"] != 0)


def test_erasing_a_whole_layer_leaves_a_constant_scorer(source_model, source_split):
    whole = layer_importance(source_model, source_split, per_unit=False)
    assert list(whole["unit"]) == [-1] * 4
    # Ties count against the model: a constant scorer gets HR@10 = 10/100.
    np.testing.assert_allclose(whole["hr@10"], 0.1, atol=1e-6)
