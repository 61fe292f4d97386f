import numpy as np
import pandas as pd
import pytest

from tests.test_case import tiny_data
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.protocols import PROTOCOLS
from tfcdr.data.splits import BUILDERS, RankingEval, SampledEval, make_split
from tfcdr.data.synthetic import make_synthetic
from tfcdr.errors import DataError


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_same_seed_same_split_other_seed_other_split(protocol):
    data = tiny_data(implicit=protocol != "rating")
    first = make_split(data, protocol, seed=7)
    again = make_split(data, protocol, seed=7)
    other = make_split(data, protocol, seed=8)
    assert first.fingerprint() == again.fingerprint()
    assert first.fingerprint() != other.fingerprint()
    for name in data.domain_names:
        pd.testing.assert_frame_equal(first.domains[name].train, again.domains[name].train)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_domain_is_evaluable(protocol):
    data = tiny_data(implicit=protocol != "rating")
    split = make_split(data, protocol, seed=0)
    assert split.domain_names == data.domain_names
    for part in split.domains.values():
        assert len(part.valid) > 0 and len(part.test) > 0


@pytest.mark.parametrize("protocol", ["loo-sampled", "cold-start"])
def test_sampled_negatives_are_never_positives_and_distinct(protocol):
    data = tiny_data()
    split = make_split(data, protocol, seed=0)
    for name, part in split.domains.items():
        table = data.domains[name].interactions
        known = set(zip(table["user"], table["item"], strict=True))
        for subset in (part.valid, part.test):
            assert isinstance(subset, SampledEval)
            assert subset.negatives.shape == (len(subset), 99)
            for user, row in zip(subset.users, subset.negatives, strict=True):
                assert len(set(row)) == 99
                assert not any((user, item) in known for item in row)


def test_loo_holds_out_latest_and_previous_by_timestamp():
    data = tiny_data()
    split = make_split(data, "loo-sampled", seed=0)
    table = data.domains["target"].interactions.sort_values(["user", "timestamp"])
    latest = table.groupby("user").tail(1).set_index("user")["item"]
    previous = table.groupby("user").nth(-2).set_index("user")["item"]
    part = split.domains["target"]
    assert np.array_equal(part.test.items, latest.loc[part.test.users].to_numpy())
    assert np.array_equal(part.valid.items, previous.loc[part.valid.users].to_numpy())
    train_pairs = set(zip(part.train["user"], part.train["item"], strict=True))
    assert not any((u, i) in train_pairs for u, i in zip(part.test.users, part.test.items, strict=True))


def test_loo_uses_random_holdout_without_timestamps():
    frames = {
        "a": pd.DataFrame({"user": np.repeat(np.arange(20), 5), "item": np.tile(np.arange(5), 20)}),
        "b": pd.DataFrame({"user": np.repeat(np.arange(20), 5), "item": np.tile(np.arange(5), 20)}),
    }
    data = CrossDomainData.from_frames("toy", frames, implicit=True)
    split = make_split(data, "loo-sampled", seed=0, num_negatives=0)
    # Items 0..4 for everyone: a random hold-out does not always pick item 4.
    assert len(set(split.domains["a"].test.items)) > 1


def test_positive_threshold_keeps_low_ratings_out_of_training_and_negatives():
    frames = {
        "a": pd.DataFrame(
            {"user": np.repeat(np.arange(10), 120), "item": np.tile(np.arange(120), 10), "rating": np.tile([5, 1], 600)}
        ).iloc[: 10 * 120]
    }
    frames["a"] = frames["a"][frames["a"]["item"] < 6]
    # Items only user 0 has: the others have 4 unseen items, room for 2 negatives, so they are evaluated.
    extra = pd.DataFrame({"user": [0, 0, 0, 0], "item": [200, 300, 301, 302], "rating": [5, 5, 5, 5]})
    frames["a"] = pd.concat([frames["a"], extra])
    data = CrossDomainData.from_frames("toy", frames, positive_threshold=4)
    split = make_split(data, "loo-sampled", seed=0, num_negatives=2)
    part = split.domains["a"]
    assert len(part.test.users) == 9
    assert (part.train["rating"] >= 4).all()
    rated_low = data.domains["a"].interactions.query("rating < 4")
    for user, row in zip(part.test.users, part.test.negatives, strict=True):
        assert not set(row) & set(rated_low.loc[rated_low["user"] == user, "item"])


def test_full_ranking_parts_are_disjoint_and_cover_positives():
    data = tiny_data()
    split = make_split(data, "full-ranking", seed=0)
    part = split.domains["source"]
    assert isinstance(part.test, RankingEval)
    train = set(zip(part.train["user"], part.train["item"], strict=True))
    for subset in (part.valid, part.test):
        for row, user in enumerate(subset.users):
            items = subset.relevant_items[subset.relevant_indptr[row] : subset.relevant_indptr[row + 1]]
            assert not any((user, i) in train for i in items)
    row = 0
    user = part.test.users[row]
    excluded = set(part.test.exclude_items[part.test.exclude_indptr[row] : part.test.exclude_indptr[row + 1]])
    assert set(part.train.loc[part.train["user"] == user, "item"]) <= excluded
    total = len(part.train) + len(part.valid.relevant_items) + len(part.test.relevant_items)
    assert total == len(data.domains["source"].interactions)


def test_rating_protocol_scales_to_unit_interval_and_needs_ratings():
    data = tiny_data(implicit=False)
    split = make_split(data, "rating", seed=0)
    for part in split.domains.values():
        assert part.train["rating"].between(0, 1).all()
        assert part.test.ratings.min() >= 0 and part.test.ratings.max() <= 1
        total = len(part.train) + len(part.valid) + len(part.test)
        assert abs(len(part.test) / total - 0.1) < 0.02
    with pytest.raises(DataError, match="explicit ratings"):
        make_split(tiny_data(implicit=True), "rating")


def test_rating_folds_partition_the_records():
    data = tiny_data(implicit=False)
    seen = []
    for fold in range(5):
        part = make_split(data, "rating", seed=0, fold=fold).domains["target"]
        seen.append(set(zip(part.test.users, part.test.items, strict=True)))
    union = set().union(*seen)
    assert sum(len(s) for s in seen) == len(union) == len(data.domains["target"].interactions)


def test_cold_start_users_have_no_training_rows_in_that_domain():
    data = tiny_data()
    split = make_split(data, "cold-start", seed=0)
    for name, part in split.domains.items():
        cold = set(part.test.users) | set(part.valid.users)
        assert cold and not cold & set(part.train["user"])
        others = [o for o in split.domain_names if o != name]
        for other in others:
            assert cold <= set(data.domains[other].users)
    cold_sets = [set(p.test.users) | set(p.valid.users) for p in split.domains.values()]
    assert not cold_sets[0] & cold_sets[1]


def test_adc_relevance_is_above_user_mean():
    data = tiny_data(implicit=False)
    split = make_split(data, "adc", seed=0)
    table = data.domains["target"].interactions
    means = table.groupby("user")["rating"].mean()
    part = split.domains["target"].test
    ratings = table.set_index(["user", "item"])["rating"]
    for row, user in enumerate(part.users[:50]):
        for item in part.relevant_items[part.relevant_indptr[row] : part.relevant_indptr[row + 1]]:
            assert ratings.loc[(user, item)] > means.loc[user]


def test_unknown_protocol_is_a_clear_error():
    with pytest.raises(DataError, match="unknown protocol 'loo'.*loo-sampled"):
        make_split(tiny_data(), "loo")


def test_select_keeps_the_chosen_domains_rows_in_the_given_order():
    split = make_split(
        make_synthetic(num_domains=3, num_users=200, num_items=40, interactions_per_user=10), "adc", seed=0
    )
    pair = split.select(["domain_2", "domain_0"])
    assert pair.domain_names == ["domain_2", "domain_0"]
    assert pair.num_users == split.num_users and pair.num_items == {d: split.num_items[d] for d in pair.domain_names}
    for name in pair.domain_names:
        assert pair.domains[name] is split.domains[name]
    assert split.domain_names == ["domain_0", "domain_1", "domain_2"]
    with pytest.raises(DataError, match="distinct domains"):
        split.select(["domain_0", "nope"])


def test_every_protocol_has_one_builder():
    assert set(BUILDERS) == set(PROTOCOLS)


def test_loo_sampled_refuses_a_domain_where_no_user_can_be_evaluated():
    data = make_synthetic(num_users=60, num_items=50, interactions_per_user=(8, 4))
    with pytest.raises(DataError, match=r"'source' of 'synthetic': no user can be evaluated under loo-sampled"):
        make_split(data, "loo-sampled", seed=0)
    assert len(make_split(data, "loo-sampled", seed=0, num_negatives=20).domains["source"].test.users) > 0
