import numpy as np
import pytest

from tests.test_case import tiny_split
from tfcdr.data import keys
from tfcdr.data.paired import paired_item_key, paired_pointwise, paired_ratings
from tfcdr.errors import DataError


def _collect(dataset):
    parts = {}
    for x, y, weights in dataset:
        parts.setdefault("user", []).append(x[keys.USER_ID].numpy())
        for name in y:
            parts.setdefault(f"{name}/item", []).append(x[paired_item_key(name)].numpy())
            parts.setdefault(f"{name}/label", []).append(y[name].numpy())
            parts.setdefault(f"{name}/weight", []).append(weights[name].numpy())
    return {key: np.concatenate(values) for key, values in parts.items()}


def _examples_per_user(split, name, ratio):
    return np.bincount(split.domains[name].train["user"], minlength=split.num_users) * (1 + ratio)


def test_epoch_covers_each_positive_once_and_never_samples_known_items():
    split = tiny_split()
    epoch = _collect(paired_pointwise(split, batch_size=64, negative_ratio=3, seed=0))
    users = epoch["user"]
    for name in split.domain_names:
        part = split.domains[name]
        items, labels, weights = epoch[f"{name}/item"], epoch[f"{name}/label"], epoch[f"{name}/weight"]
        real = weights == 1
        positives = sorted(zip(part.train["user"], part.train["item"], strict=True))
        got = sorted(zip(users[real & (labels == 1)], items[real & (labels == 1)], strict=True))
        assert got == positives
        negatives = real & (labels == 0)
        assert negatives.sum() == 3 * len(positives)
        assert not part.known.contains(users[negatives], items[negatives]).any()
        # A side without an example holds the domain's "no item" with weight 0.
        assert set(np.unique(weights)) <= {0.0, 1.0}
        assert (items[~real] == split.num_items[name]).all() and (labels[~real] == 0).all()


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_pairing_joins_one_example_of_each_domain_of_the_same_user(fraction):
    split = tiny_split()
    epoch = _collect(paired_pointwise(split, batch_size=128, negative_ratio=1, pair_fraction=fraction))
    counts = [_examples_per_user(split, n, 1) for n in split.domain_names]
    pairable = np.minimum(*counts)
    both = (epoch["source/weight"] == 1) & (epoch["target/weight"] == 1)
    assert both.sum() == np.floor(fraction * pairable + 0.5).sum()
    assert len(epoch["user"]) == (counts[0] + counts[1]).sum() - both.sum()
    # Per user, paired rows never exceed what her smaller domain offers.
    paired_per_user = np.bincount(epoch["user"][both], minlength=split.num_users)
    assert (paired_per_user <= pairable).all()


def test_seeded_resampled_each_epoch_and_cardinality_is_exact():
    split = tiny_split()
    dataset = paired_pointwise(split, batch_size=100, seed=3)
    first, second = _collect(dataset), _collect(dataset)
    again = _collect(paired_pointwise(split, batch_size=100, seed=3))
    assert np.array_equal(first["target/item"], again["target/item"])
    assert not np.array_equal(first["target/item"], second["target/item"])
    assert int(dataset.cardinality()) == len(list(dataset))


def test_bad_arguments_are_clear_errors():
    split = tiny_split()
    with pytest.raises(DataError, match="exactly two domains"):
        paired_pointwise(split, domains=["source"])
    with pytest.raises(DataError, match="unknown domain 'books'"):
        paired_pointwise(split, domains=["books", "target"])
    with pytest.raises(DataError, match="pair_fraction"):
        paired_pointwise(split, pair_fraction=1.5)


def test_paired_ratings_carry_each_training_rating_once_and_no_negatives():
    split = tiny_split("rating", implicit=False)
    epoch = _collect(paired_ratings(split, batch_size=64, seed=0))
    for name in split.domain_names:
        train = split.domains[name].train
        real = epoch[f"{name}/weight"] == 1
        got = sorted(zip(epoch["user"][real], epoch[f"{name}/item"][real], epoch[f"{name}/label"][real], strict=True))
        expected = sorted(zip(train["user"], train["item"], train["rating"].to_numpy(np.float32), strict=True))
        assert got == expected
        # The labels are the rows' ratings, not implicit positives.
        assert len(np.unique(epoch[f"{name}/label"][real])) > 1
