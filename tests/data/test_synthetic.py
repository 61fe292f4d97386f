import numpy as np
import pandas as pd
import pytest

from tfcdr.data.synthetic import make_synthetic
from tfcdr.errors import DataError


def test_same_seed_same_data():
    a = make_synthetic(num_users=300, seed=4)
    b = make_synthetic(num_users=300, seed=4)
    c = make_synthetic(num_users=300, seed=5)
    pd.testing.assert_frame_equal(a.domains["target"].interactions, b.domains["target"].interactions)
    assert not a.domains["target"].interactions.equals(c.domains["target"].interactions)


def test_shape_overlap_and_density_follow_the_arguments():
    data = make_synthetic(
        num_domains=3, num_users=1000, num_items=(200, 180, 160), overlap=0.5, interactions_per_user=(20, 5)
    )
    assert data.domain_names == ["domain_0", "domain_1", "domain_2"]
    overlap = len(data.overlapping_users()) / data.num_users
    assert overlap == pytest.approx(0.5, abs=0.05)
    per_user = data.describe()["interactions"] / data.describe()["users"]
    assert per_user.iloc[0] > per_user.iloc[-1] * 2


def test_explicit_ratings_are_stars():
    data = make_synthetic(num_users=200, implicit=False)
    ratings = data.domains["source"].interactions["rating"]
    assert set(np.unique(ratings)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert not data.domains["source"].implicit


def test_shared_taste_links_domains():
    # Users' item choices in both domains follow the shared taste: users with
    # similar source histories have more similar target histories than random pairs.
    data = make_synthetic(num_users=600, shared_weight=1.0, interactions_per_user=(40, 40), seed=1)
    users = data.overlapping_users()[:300]

    def matrix(name):
        table = data.domains[name].interactions
        m = np.zeros((data.num_users, data.domains[name].num_items))
        m[table["user"], table["item"]] = 1
        m = m[users]
        return m / np.linalg.norm(m, axis=1, keepdims=True)

    source_sim = matrix("source") @ matrix("source").T
    target_sim = matrix("target") @ matrix("target").T
    off = ~np.eye(len(users), dtype=bool)
    assert np.corrcoef(source_sim[off], target_sim[off])[0, 1] > 0.3


def test_bad_arguments_are_clear_errors():
    with pytest.raises(DataError, match="overlap"):
        make_synthetic(overlap=1.5)
    with pytest.raises(DataError, match="num_items"):
        make_synthetic(num_domains=3, num_items=(100, 100, 100, 100))


def test_small_domains_still_get_interactions_and_unseen_items():
    data = make_synthetic(num_domains=3, num_users=100, num_items=40, interactions_per_user=10)
    for name in data.domain_names:
        per_user = data.domains[name].interactions.groupby("user").size()
        assert per_user.min() >= 3 and per_user.max() <= 20
