import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.models import MODELS, NCFMLP, build_model


def _model(**kwargs):
    split = tiny_split()
    return NCFMLP(split.domain_names, split.num_users, split.num_items, **kwargs), split


def test_every_weight_trains_and_config_round_trips():
    model, split = _model()
    run_model_test(model, split)


def test_merged_model_every_weight_trains():
    model, split = _model(share_users=True, share_tower=True)
    run_model_test(model, split)


def test_saving(tmp_path):
    model, _ = _model()
    run_model_saving_test(model, tmp_path)


def test_single_domain_model_keeps_domains_apart():
    model, _ = _model()
    assert model.user_embeddings["source"] is not model.user_embeddings["target"]
    assert model.towers["source"] is not model.towers["target"]
    names = {w.path.split("/")[0] for w in model.weights}
    assert {"user_embedding_source", "user_embedding_target", "tower_source", "tower_target"} <= names


def test_merged_model_shares_users_and_tower():
    model, _ = _model(share_users=True, share_tower=True)
    assert model.user_embeddings["source"] is model.user_embeddings["target"]
    assert model.towers["source"] is model.towers["target"]
    # Changing the shared tower changes both domains' scores.
    users, items = tf.constant([1, 2]), tf.constant([3, 4])
    before = [np.asarray(model.score(d, users, items)) for d in model.domains]
    model.towers["source"].prediction.bias.assign([5.0])
    after = [np.asarray(model.score(d, users, items)) for d in model.domains]
    for b, a in zip(before, after, strict=True):
        np.testing.assert_allclose(a - b, 5.0, rtol=1e-5)


def test_loss_is_weighted_bce_per_domain():
    model, _ = _model(domain_weights={"source": 0.25})
    x = {d: {"user_id": tf.constant([0, 1]), "item_id": tf.constant([0, 1])} for d in model.domains}
    y = {d: tf.constant([1.0, 0.0]) for d in model.domains}
    logits = model(x)
    expected = 0.0
    for domain, weight in (("source", 0.25), ("target", 1.0)):
        p = tf.sigmoid(logits[domain]).numpy()
        expected += weight * -np.mean([np.log(p[0]), np.log(1 - p[1])])
    loss = model.compute_loss(x=x, y=y, y_pred=logits)
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_registry_presets():
    split = tiny_split()
    merged = build_model("mlp-merged", split)
    assert merged.share_users and merged.share_tower
    assert MODELS["mlp"].cls is NCFMLP and not build_model("mlp", split).share_tower


def test_unknown_domain_is_a_clear_error():
    model, _ = _model()
    with pytest.raises(ValueError, match="unknown domain 'books'"):
        model.score("books", tf.constant([0]), tf.constant([0]))
