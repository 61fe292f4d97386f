import numpy as np
import pytest

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.models.cdfm import CDFM


def _model(loss_type="bce", side=False, **kwargs):
    split = tiny_split("rating" if loss_type == "mse" else "loo-sampled", implicit=loss_type != "mse")
    if side:
        kwargs.update(user_feature_dim=3, item_feature_dims={"target": 2})
    model = CDFM(
        split.domain_names,
        split.num_users,
        split.num_items,
        embedding_dim=4,
        loss_type=loss_type,
        **kwargs,
    )
    if side:
        rng = np.random.default_rng(0)
        model.set_side_features(
            rng.random((split.num_users, 3)),
            {"target": rng.random((split.num_items["target"], 2))},
        )
    return model, split


@pytest.mark.parametrize(("loss_type", "side"), [("bce", False), ("bce", True), ("mse", True)])
def test_every_weight_trains_and_config_round_trips(loss_type, side):
    model, split = _model(loss_type, side)
    assert model.input_kind == ("rating" if loss_type == "mse" else "pointwise")
    run_model_test(model, split)


def test_saving_keeps_the_side_features(tmp_path):
    model, _ = _model(side=True)
    run_model_saving_test(model, tmp_path)


def _randomize(model):
    rng = np.random.default_rng(1)
    for weight in model.trainable_weights:
        weight.assign(rng.normal(size=weight.shape).astype(np.float32))


def _fm(bias, linear, factors):
    v = np.stack(factors, axis=1)  # [n, fields, K]
    return bias + np.sum(linear, axis=0) + 0.5 * (np.square(v.sum(1)).sum(-1) - np.square(v).sum((1, 2)))


def test_score_is_the_factorization_machine():
    model, split = _model(side=True)
    _randomize(model)
    users, items = np.array([0, 7, 19]), np.array([3, 0, 11])
    w = {x.path.split("/")[0]: x.numpy() for x in model.weights}
    for index, domain in enumerate(model.domains):
        item = items + (0 if index == 0 else split.num_items["source"])
        linear = [
            w["user_linear"][users, 0],
            w["item_linear"][item, 0],
            np.full(3, w["domain_linear"][index, 0]),
        ]
        factors = [
            w["user_factors"][users],
            w["item_factors"][item],
            np.repeat(w["domain_factors"][[index]], 3, axis=0),
        ]
        x_user = model.user_side.numpy()[users]
        linear.append(x_user @ w["user_side_linear"][:, 0])
        factors.append(x_user @ w["user_side_factors"])
        if domain == "target":
            x_item = model.item_side["target"].numpy()[items]
            linear.append(x_item @ w["item_side_linear_target"][:, 0])
            factors.append(x_item @ w["item_side_factors_target"])
        expected = _fm(float(model.global_bias.numpy()), linear, factors)
        np.testing.assert_allclose(model.score(domain, users, items), expected, rtol=1e-4, atol=1e-4)


def test_side_feature_shapes_are_checked():
    model, split = _model(side=True)
    with pytest.raises(ValueError, match="shape"):
        model.set_side_features(np.zeros((split.num_users, 4)))
    with pytest.raises(ValueError, match="source"):
        model.set_side_features(item_features={"source": np.zeros((3, 2))})
