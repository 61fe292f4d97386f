import numpy as np
import pytest

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.models import Pop, build_model


def test_scores_are_training_counts_and_every_user_ranks_alike():
    split = tiny_split()
    model = Pop(split.domain_names, split.num_users, split.num_items)
    run_model_test(model, split)
    for domain in split.domain_names:
        counts = np.bincount(split.domains[domain].train["item"], minlength=split.num_items[domain])
        items = np.arange(split.num_items[domain])
        for user in (0, 7):
            scores = np.asarray(model.score(domain, np.full_like(items, user), items))
            np.testing.assert_array_equal(scores, counts)
    assert model.trainable_weights == []


def test_saving_keeps_the_counts(tmp_path):
    split = tiny_split()
    model = Pop(split.domain_names, split.num_users, split.num_items)
    model.prepare(split)
    reloaded = run_model_saving_test(model, tmp_path)
    assert reloaded.predict == "count"
    assert float(np.asarray(reloaded.item_scores["target"]).sum()) == len(split.domains["target"].train)


def test_rating_protocol_predicts_item_means():
    split = tiny_split("rating", implicit=False)
    model = build_model("pop", split)
    model.prepare(split)
    train = split.domains["target"].train
    means = train.groupby("item")["rating"].mean()
    scores = np.asarray(model.score("target", np.zeros(len(means), int), means.index.to_numpy()))
    np.testing.assert_allclose(scores, means.to_numpy(), rtol=1e-5)


def test_unknown_prediction_is_refused():
    with pytest.raises(ValueError, match="predict"):
        Pop(["a"], 3, [4], predict="median")
