import numpy as np
import pytest

from tests.test_case import tiny_split
from tfcdr.data import inputs, keys, pipelines
from tfcdr.errors import DataError


def _collect(dataset):
    out = {}
    for x, y in dataset:
        for name in x:
            users, items, labels = out.setdefault(name, ([], [], []))
            users.append(x[name][keys.USER_ID].numpy())
            items.append(x[name][keys.ITEM_ID].numpy())
            labels.append(y[name].numpy())
    return {name: tuple(np.concatenate(v) for v in values) for name, values in out.items()}


def test_pointwise_epoch_covers_each_positive_once_and_never_samples_known_items():
    split = tiny_split()
    epoch = _collect(pipelines.pointwise(split, batch_size=64, negative_ratio=3, seed=0))
    for name, (users, items, labels) in epoch.items():
        part = split.domains[name]
        positives = sorted(zip(part.train["user"], part.train["item"], strict=True))
        got = sorted(zip(users[labels == 1], items[labels == 1], strict=True))
        assert got == positives
        assert (labels == 0).sum() == 3 * len(positives)
        assert not part.known.contains(users[labels == 0], items[labels == 0]).any()


def test_pointwise_is_seeded_and_resamples_each_epoch():
    split = tiny_split()
    dataset = pipelines.pointwise(split, batch_size=64, seed=3)
    first = _collect(dataset)
    second = _collect(dataset)
    again = _collect(pipelines.pointwise(split, batch_size=64, seed=3))
    assert np.array_equal(first["target"][1], again["target"][1])
    assert not np.array_equal(first["target"][1], second["target"][1])


def test_joint_batches_are_proportional_to_domain_size():
    split = tiny_split()
    dataset = pipelines.pointwise(split, batch_size=100, negative_ratio=1)
    x, _ = next(iter(dataset))
    sizes = {n: len(split.domains[n].train) for n in split.domain_names}
    share = x["source"][keys.USER_ID].shape[0] / (
        x["source"][keys.USER_ID].shape[0] + x["target"][keys.USER_ID].shape[0]
    )
    assert share == pytest.approx(sizes["source"] / sum(sizes.values()), abs=0.03)
    assert int(dataset.cardinality()) == len(list(dataset))


def test_pairwise_negatives_are_unknown():
    split = tiny_split()
    for (x,) in pipelines.pairwise(split, batch_size=128):
        for name, features in x.items():
            known = split.domains[name].known
            assert known.contains(features[keys.USER_ID].numpy(), features[keys.POSITIVE_ITEM_ID].numpy()).all()
            assert not known.contains(features[keys.USER_ID].numpy(), features[keys.NEGATIVE_ITEM_ID].numpy()).any()


def test_user_vectors_match_training_rows():
    split = tiny_split()
    (x,) = next(iter(pipelines.user_vectors(split, batch_size=16, shuffle=False)))
    for name in split.domain_names:
        train = split.domains[name].train
        for row, user in enumerate(x[keys.USER_ID].numpy()):
            expected = set(train.loc[train["user"] == user, "item"])
            assert set(np.flatnonzero(x[name][row].numpy())) == expected


def test_unknown_domain_or_kind_is_a_clear_error():
    with pytest.raises(DataError, match="unknown domain 'books'"):
        pipelines.pointwise(tiny_split(), domains=["books"])
    with pytest.raises(DataError, match="unknown input kind"):
        inputs.training_dataset(tiny_split(), "listwise")
