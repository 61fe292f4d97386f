import numpy as np
import pytest
import scipy.stats

from tests.test_case import tiny_data
from tfcdr.data.views import one_domain
from tfcdr.transfer import (
    activity_bins,
    activity_histogram,
    interactions_per_user,
    kl_divergence,
    pearson,
    relatedness,
)


def test_kl_of_identical_histograms_is_zero():
    counts = np.random.default_rng(0).poisson(10, 500) + 1
    assert relatedness(counts, counts) == pytest.approx(0.0, abs=1e-12)
    assert relatedness(counts, np.random.default_rng(0).permutation(counts)) == pytest.approx(0.0, abs=1e-12)


def test_kl_grows_with_the_shift():
    rng = np.random.default_rng(0)
    base = rng.poisson(8, 2000) + 1
    values = [relatedness(base, base + shift) for shift in (0, 2, 8, 32)]
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(values) > 0), values


def test_bins_are_shared_half_octaves_and_histograms_sum_to_one():
    edges = activity_bins(np.array([1, 5]), np.array([40]))
    np.testing.assert_array_equal(edges, [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48])
    p = activity_histogram(np.array([1, 1, 5, 40]), edges)
    assert p.sum() == pytest.approx(1.0) and np.all(p > 0)
    # Smoothing keeps KL finite when the target lacks a bin the source has.
    assert np.isfinite(kl_divergence(activity_histogram([1, 40], edges), activity_histogram([1, 1], edges)))


def test_kl_matches_scipy_entropy():
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.4, 0.4, 0.2])
    assert kl_divergence(p, q) == pytest.approx(scipy.stats.entropy(p, q))


def test_pearson_matches_scipy_and_is_nan_when_undefined():
    x = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 7.0])
    r, p = pearson(x, y)
    expected = scipy.stats.pearsonr(x, y)
    assert (r, p) == pytest.approx((expected.statistic, expected.pvalue))
    assert np.isnan(pearson([1, 2], [3, 4])[0])
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3])[0])


def test_interactions_per_user_counts_positives():
    data = tiny_data(implicit=False)
    counts = interactions_per_user(one_domain(data, "source"))
    assert counts.sum() == len(data.domain("source").interactions) and counts.min() >= 1
    data.positive_threshold = 4
    try:
        fewer = interactions_per_user(one_domain(data, "source"))
    finally:
        data.positive_threshold = None
    assert fewer.sum() == int((data.domain("source").interactions["rating"] >= 4).sum())
