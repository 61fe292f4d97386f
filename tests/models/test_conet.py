import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data.paired import paired_pointwise, paired_ratings
from tfcdr.models.conet import CoNet
from tfcdr.models.ncf_mlp import NCFMLP

USERS = tf.constant([0, 1, 2, 3, 4, 5], tf.int32)
ITEMS = tf.constant([0, 1, 2, 3, 4, 5], tf.int32)


def _model(**kwargs):
    split = tiny_split()
    return CoNet(split.domain_names, split.num_users, split.num_items, **kwargs), split


def _task_relationships(model):
    return [h for unit in model.cross_units.values() for h in {id(m): m for m in unit.task_relationships()}.values()]


def _scores(model):
    return {d: np.asarray(model.score(d, USERS, ITEMS)) for d in model.domains}


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lasso_weight": 0.01, "cross_layers": (2, 3), "share_task_relationship": False}],
    ids=["conet", "lasso-partial"],
)
def test_every_weight_trains_and_config_round_trips(kwargs):
    model, split = _model(hidden_units=(16, 8, 4), **kwargs)
    run_model_test(model, split)
    names = {w.path.split("/")[0] for w in model.trainable_weights}
    expected = {"user_embedding", "item_embedding_source", "item_embedding_target"}
    assert expected | {f"cross_unit_{layer}" for layer in model.cross_layers} <= names


def test_saving(tmp_path):
    model, _ = _model(hidden_units=(8, 4), lasso_weight=0.01)
    run_model_saving_test(model, tmp_path)


@pytest.mark.parametrize("cross_layers", [None, (2,)])
def test_with_zero_task_relationship_it_is_two_independent_mlps(cross_layers):
    model, split = _model(cross_layers=cross_layers)
    for h in _task_relationships(model):
        h.assign(tf.zeros_like(h))
    mlp = NCFMLP(split.domain_names, split.num_users, split.num_items, share_users=True)
    mlp.user_embeddings["source"].embeddings.assign(model.user_embedding.embeddings)
    for side, d in enumerate(model.domains):
        mlp.item_embeddings[d].embeddings.assign(model.item_embeddings[d].embeddings[: split.num_items[d]])
        for layer, dense in enumerate(mlp.towers[d].hidden, start=1):
            unit = model.cross_units.get(str(layer))
            if unit is None:
                dense.set_weights(model.plain_layers[f"{layer}_{d}"].get_weights())
            else:
                which = "ab"[side]
                dense.set_weights([getattr(unit, f"kernel_{which}"), getattr(unit, f"bias_{which}")])
        mlp.towers[d].prediction.set_weights(model.predictions[d].get_weights())
    for d in model.domains:
        np.testing.assert_allclose(
            np.asarray(model.score(d, USERS, ITEMS)), np.asarray(mlp.score(d, USERS, ITEMS)), rtol=1e-5, atol=1e-6
        )


def test_cross_term_reaches_the_scores():
    model, _ = _model()
    before = _scores(model)
    h = model.cross_units["1"].task_relationship
    h.assign(h + 0.1)
    after = _scores(model)
    for d in model.domains:
        assert not np.allclose(before[d], after[d])
    # The other tower really runs at scoring time: its "no item" input matters.
    other = model.item_embeddings["target"].embeddings
    other.assign(tf.tensor_scatter_nd_update(other, [[model.num_items["target"]]], tf.ones((1, 32))))
    assert not np.allclose(_scores(model)["source"], after["source"])


def test_lasso_loss_is_lambda_times_sum_of_absolute_task_relationships():
    model, split = _model(lasso_weight=0.05)
    expected = 0.05 * sum(np.abs(np.asarray(h)).sum() for h in _task_relationships(model))
    assert len(_task_relationships(model)) == 4
    assert float(model.regularization_loss()) == pytest.approx(expected, rel=1e-5)
    plain, _ = _model()
    assert not plain.losses


def test_loss_is_equation_7_over_the_real_examples_of_each_row():
    model, split = _model(target_weight=0.8, lasso_weight=0.05)
    x, y, weights = next(iter(paired_pointwise(split, batch_size=64, negative_ratio=1)))
    logits = model(x)
    expected = float(model.regularization_loss())
    for d, alpha in (("source", 0.2), ("target", 0.8)):
        p = tf.sigmoid(logits[d]).numpy()
        label, w = y[d].numpy(), weights[d].numpy()
        assert 0 < w.sum() < len(w)
        bce = -(label * np.log(p) + (1 - label) * np.log(1 - p))
        expected += alpha * (w * bce).sum() / w.sum()
    loss = model.compute_loss(x=x, y=y, y_pred=logits, sample_weight=weights)
    assert float(loss) == pytest.approx(expected, rel=1e-4)


def test_rating_loss_is_equation_7_of_squared_errors_and_config_round_trips(tmp_path):
    split = tiny_split("rating", implicit=False)
    model = CoNet(split.domain_names, split.num_users, split.num_items, hidden_units=(8, 4), loss_type="mse")
    assert model.input_kind == "paired_rating"
    run_model_test(model, split)
    x, y, weights = next(iter(paired_ratings(split, batch_size=64)))
    outputs = model(x)
    expected = 0.0
    for d in model.domains:
        w = weights[d].numpy()
        assert 0 < w.sum() < len(w)
        expected += 0.5 * (w * (y[d].numpy() - outputs[d].numpy()) ** 2).sum() / w.sum()
    loss = model.compute_loss(x=x, y=y, y_pred=outputs, sample_weight=weights)
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    assert run_model_saving_test(model, tmp_path).loss_type == "mse"


def test_bad_arguments_are_clear_errors():
    split = tiny_split(num_domains=2)
    with pytest.raises(ValueError, match="loss_type"):
        CoNet(split.domain_names, 10, [5, 5], loss_type="bpr")
    with pytest.raises(ValueError, match="exactly two domains"):
        CoNet(["a", "b", "c"], 10, [5, 5, 5])
    with pytest.raises(ValueError, match="target_weight"):
        CoNet(split.domain_names, 10, [5, 5], target_weight=1.5)
    with pytest.raises(ValueError, match="cross_layers"):
        CoNet(split.domain_names, 10, [5, 5], hidden_units=(8, 4), cross_layers=(3,))
    model, _ = _model(hidden_units=(4,))
    with pytest.raises(ValueError, match="unknown domain 'books'"):
        model.score("books", USERS, ITEMS)
