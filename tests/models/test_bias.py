import numpy as np
import pandas as pd

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.splits import make_split
from tfcdr.models import Bias, build_model


def _toy_rating_split():
    rng = np.random.default_rng(3)
    frames = {
        name: pd.DataFrame(
            {"user": rng.integers(0, 12, 90), "item": rng.integers(0, 9, 90), "rating": rng.integers(1, 6, 90)}
        )
        for name in ("a", "b")
    }
    return make_split(CrossDomainData.from_frames("toy", frames), "rating", seed=0)


def _ridge(users, items, ratings, num_users, num_items, l2):
    """Normal equations of [1, onehot(user), onehot(item)] with l2 on every bias but the mean."""
    design = np.zeros((len(ratings), 1 + num_users + num_items))
    design[:, 0] = 1.0
    design[np.arange(len(ratings)), 1 + users] = 1.0
    design[np.arange(len(ratings)), 1 + num_users + items] = 1.0
    penalty = np.diag([0.0] + [l2] * (num_users + num_items))
    return np.linalg.solve(design.T @ design + penalty, design.T @ ratings)


def test_rating_fit_equals_the_closed_form_ridge_solution():
    split = _toy_rating_split()
    model = build_model("bias", split, l2=2.0, iterations=300)
    assert model.fit_on == "observed"
    model.prepare(split)
    for domain in split.domain_names:
        train = split.domains[domain].train
        users, items = train["user"].to_numpy(), train["item"].to_numpy()
        beta = _ridge(users, items, train["rating"].to_numpy(), split.num_users, split.num_items[domain], 2.0)
        grid_u, grid_i = np.meshgrid(np.arange(split.num_users), np.arange(split.num_items[domain]))
        expected = beta[0] + beta[1 + grid_u.ravel()] + beta[1 + split.num_users + grid_i.ravel()]
        predicted = np.asarray(model.score(domain, grid_u.ravel(), grid_i.ravel()))
        np.testing.assert_allclose(predicted, expected, atol=1e-4)


def test_binary_fit_equals_the_closed_form_on_the_full_matrix_and_ranks_by_item_bias():
    split = tiny_split()
    model = Bias(split.domain_names, split.num_users, split.num_items, l2=3.0, iterations=100)
    run_model_test(model, split)
    train = split.domains["source"].train
    users, items = train["user"].to_numpy(), train["item"].to_numpy()
    num_users, num_items = split.num_users, split.num_items["source"]
    # Every user x item cell: 1 for a training positive, else 0.
    grid_u, grid_i = (g.ravel() for g in np.meshgrid(np.arange(num_users), np.arange(num_items), indexing="ij"))
    target = np.zeros((num_users, num_items))
    target[users, items] = 1.0
    beta = _ridge(grid_u, grid_i, target.ravel(), num_users, num_items, 3.0)
    np.testing.assert_allclose(np.asarray(model.item_biases["source"]), beta[1 + num_users :], atol=1e-5)
    scores = np.asarray(model.score("source", np.full(num_items, 5), np.arange(num_items)))
    counts = np.bincount(items, minlength=num_items)
    assert np.all(np.diff(scores[np.argsort(counts, kind="stable")]) >= -1e-6)


def test_saving_keeps_the_biases(tmp_path):
    split = _toy_rating_split()
    model = build_model("bias", split)
    model.prepare(split)
    reloaded = run_model_saving_test(model, tmp_path)
    assert reloaded.fit_on == "observed" and reloaded.trainable_weights == []
