import keras_rs
import numpy as np
import pytest

from tests.evaluation import reference
from tfcdr.data.protocols import PROTOCOLS
from tfcdr.evaluation import metrics


def _mean(per_row):
    return {k: float(np.mean(v)) for k, v in per_row.items()}


def test_constant_scorer_gets_chance_never_one():
    scores = np.zeros((50, 100), np.float32)
    values = _mean(metrics.sampled_metrics(scores, ks=(10,)))
    assert values["hr@10"] == pytest.approx(0.1, abs=1e-6)
    pessimistic = _mean(metrics.sampled_metrics(scores, ks=(10,), ties="pessimistic"))
    assert pessimistic["hr@10"] == 0.0


def test_oracle_gets_one():
    scores = np.concatenate([np.ones((20, 1)), np.zeros((20, 99))], axis=1)
    values = _mean(metrics.sampled_metrics(scores, ks=(1, 10)))
    assert values["hr@1"] == 1.0 and values["ndcg@10"] == pytest.approx(1.0) and values["mrr@10"] == 1.0


def test_positive_ranked_last_gets_nothing():
    scores = np.concatenate([np.zeros((5, 1)), np.ones((5, 99))], axis=1)
    values = _mean(metrics.sampled_metrics(scores, ks=(50,)))
    assert values["hr@50"] == 0.0 and values["ndcg@50"] == 0.0


@pytest.mark.parametrize("ties", ["expected", "pessimistic"])
def test_sampled_metrics_match_numpy_reference_with_ties(ties):
    rng = np.random.default_rng(1)
    # Rounding makes many ties, the case where implementations differ.
    scores = np.round(rng.normal(size=(300, 100)), 1).astype(np.float32)
    scores[:40, 0] = 5.0
    for k in (5, 10, 20, 50):
        ours = _mean(metrics.sampled_metrics(scores, ks=(k,), ties=ties))
        expected = reference.sampled_reference(scores, k, ties=ties)
        for name in ("hr", "ndcg", "mrr"):
            assert ours[f"{name}@{k}"] == pytest.approx(expected[name], abs=1e-5), (name, k)


def test_sampled_metrics_match_keras_rs_without_ties():
    rng = np.random.default_rng(2)
    scores = rng.normal(size=(200, 100)).astype(np.float32)
    labels = np.zeros_like(scores)
    labels[:, 0] = 1.0
    ours = _mean(metrics.sampled_metrics(scores, ks=(10,)))
    for name, metric in (
        ("hr@10", keras_rs.metrics.RecallAtK(k=10)),
        ("ndcg@10", keras_rs.metrics.NDCG(k=10)),
        ("mrr@10", keras_rs.metrics.MeanReciprocalRank(k=10)),
    ):
        metric.update_state(labels, scores)
        assert ours[name] == pytest.approx(float(metric.result()), abs=1e-5), name


def _full_case(seed=3, users=40, items=60):
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(users, items)).astype(np.float32)
    relevant = rng.random((users, items)) < 0.1
    relevant[:, 0] = True
    excluded = (rng.random((users, items)) < 0.2) & ~relevant
    return scores, relevant, excluded


def test_topk_metrics_match_numpy_reference():
    scores, relevant, excluded = _full_case()
    masked = np.where(excluded, -np.inf, scores).astype(np.float32)
    for k in (5, 10, 20):
        ours = _mean(metrics.topk_metrics(masked, relevant, ks=(k,)))
        expected = reference.full_reference(scores, relevant, excluded, k)
        for name, value in expected.items():
            assert ours[f"{name}@{k}"] == pytest.approx(value, abs=1e-5), (name, k)


def test_topk_metrics_match_keras_rs():
    scores, relevant, excluded = _full_case(seed=4)
    masked = np.where(excluded, -np.inf, scores).astype(np.float32)
    ours = _mean(metrics.topk_metrics(masked, relevant, ks=(10,)))
    labels = {"labels": relevant.astype(np.float32), "mask": ~excluded}
    for name, metric in (
        ("recall@10", keras_rs.metrics.RecallAtK(k=10)),
        ("mrr@10", keras_rs.metrics.MeanReciprocalRank(k=10)),
        ("ndcg@10", keras_rs.metrics.NDCG(k=10)),
    ):
        metric.update_state(labels, scores)
        assert ours[name] == pytest.approx(float(metric.result()), abs=1e-5), name


def test_rating_metrics_match_numpy_reference():
    rng = np.random.default_rng(5)
    users = rng.integers(0, 30, 400)
    true = rng.integers(0, 5, 400) / 4.0
    true[users < 5] = 0.0  # users with no relevant item: precision 0, no recall
    predicted = np.clip(true + rng.normal(scale=0.2, size=400), 0, 1)
    ours = metrics.rating_metrics(predicted, true, users, relevance_threshold=0.75, k=5)
    expected = reference.rating_reference(predicted, true, users, 0.75, 5)
    for name, value in expected.items():
        assert ours[name] == pytest.approx(value, abs=1e-5), name


def test_unknown_tie_policy_is_refused():
    with pytest.raises(ValueError, match="ties"):
        metrics.sampled_metrics(np.zeros((2, 3)), ties="optimistic")


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_measured_metrics_are_exactly_what_evaluate_reports(protocol):
    from tests.test_case import tiny_split
    from tfcdr.evaluation.evaluate import evaluate
    from tfcdr.models import build_model

    split = tiny_split(protocol, implicit=protocol != "rating")
    reported = evaluate(build_model("cmf", split), split, "valid")
    for values in reported.values():
        assert sorted(set(values) - {"users"}) == sorted(PROTOCOLS[protocol].measured)


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_per_user_values_average_to_the_reported_metrics(protocol):
    from tests.test_case import tiny_split
    from tfcdr.evaluation.evaluate import evaluate
    from tfcdr.models import build_model

    split = tiny_split(protocol, implicit=protocol != "rating")
    model = build_model("cmf", split)
    reported, per_user = evaluate(model, split, "test", per_user=True)
    assert reported == evaluate(model, split, "test")
    for domain, values in reported.items():
        rows = per_user[per_user["domain"] == domain]
        assert rows["user"].is_unique and len(rows) == values["users"]
        for metric in set(rows.columns) - {"domain", "user"}:
            if metric in ("rmse", "mae"):
                continue  # per-user errors: their mean is not the record-level error
            assert rows[metric].mean() == pytest.approx(values[metric], abs=1e-6), metric
        if protocol == "rating":
            assert set(rows.columns) == {"domain", "user", "rmse", "mae"}
            assert (rows["rmse"] >= rows["mae"] - 1e-7).all()


def test_non_finite_scores_rank_last_never_first():
    scores = np.zeros((4, 100), np.float32)
    scores[:, 1:] = 0.5
    # NaN, +inf and -inf positives all rank after every negative.
    scores[:, 0] = [np.nan, np.inf, -np.inf, np.nan]
    scores[3, 1:] = np.nan
    values = metrics.sampled_metrics(scores, ks=(10,))
    assert np.all(np.asarray(values["hr@10"]) == 0.0)
    # A finite positive beats non-finite negatives.
    scores = np.full((1, 100), np.nan, np.float32)
    scores[0, 0] = -1.0
    assert float(metrics.sampled_metrics(scores, ks=(1,))["hr@1"][0]) == 1.0


def test_non_finite_relevant_items_are_never_hits_in_topk():
    scores = np.full((3, 30), np.nan, np.float32)
    relevant = np.zeros((3, 30), bool)
    relevant[:, :3] = True
    scores[1, 10] = 1.0  # one finite, irrelevant item: ranked above the NaN ones
    scores[2, 0] = np.inf
    values = _mean(metrics.topk_metrics(scores, relevant, ks=(5, 50)))
    assert all(values[name] == 0.0 for name in values), values


def test_non_finite_predicted_ratings_give_infinite_errors():
    values = metrics.rating_metrics([np.nan, 0.5, 0.5], [1.0, 0.5, 0.0], [0, 0, 1])
    assert values["rmse"] == values["mae"] == float("inf")
    assert values["recall@5"] == 1.0  # only its relevant item, last but inside the top 5
