"""Vectorized ranking and rating metrics over whole batches of users.

Ties: a positive tied with negatives gets the average credit of the tied
positions, i.e. the expected metric under a random order of the tied items.
A constant scorer therefore scores chance level (HR@10 = 0.1 with 99
negatives), never 1.0 as a strict ">" count would give; `ties="pessimistic"`
instead places the positive after all its ties (rank = number of negatives
scoring >= the positive), under which a constant scorer gets 0.

Non-finite scores (NaN, +inf, -inf) rank last: after every finite score,
and a held-out positive or relevant item with a non-finite score after
every other candidate too, so it never counts as a hit. Every comparison
with NaN is false, so without this rule a model whose weights went NaN
would rank each positive first and score HR@10 = 1.0. Predicted ratings
that are not finite make RMSE and MAE infinite (the worst value).
"""

import keras_rs
import numpy as np
import tensorflow as tf
from keras import ops

from tfcdr.data.protocols import FULL_KS, SAMPLED_KS


def _discount_sums(length, kind):
    """Prefix sums C[j] = sum_{r<j} d(r) of a per-position credit d."""
    positions = np.arange(length, dtype=np.float64)
    if kind == "ndcg":
        credit = 1.0 / np.log2(positions + 2.0)
    elif kind == "mrr":
        credit = 1.0 / (positions + 1.0)
    else:
        credit = np.ones_like(positions)
    return np.concatenate([[0.0], np.cumsum(credit)]).astype(np.float32)


def sampled_metrics(scores, ks=SAMPLED_KS, ties="expected"):
    """HR@K, NDCG@K and MRR@K of one positive ranked among sampled negatives.

    Args:
        scores: float [n, 1 + m]; column 0 is the positive's score.
        ks: cut-offs.
        ties: "expected" (default) or "pessimistic"; see the module docstring.

    Returns:
        Dict metric name (e.g. "hr@10") -> float32 [n] per-row values.
    """
    scores = ops.convert_to_tensor(scores, dtype="float32")
    positive = scores[:, :1]
    negatives = scores[:, 1:]
    # A non-finite negative never beats or ties a finite positive; a
    # non-finite positive is placed after every negative.
    counted = ops.isfinite(negatives)
    greater = ops.sum(ops.cast((negatives > positive) & counted, "int32"), axis=1)
    tied = ops.sum(ops.cast((negatives == positive) & counted, "int32"), axis=1)
    lost = ~ops.isfinite(positive[:, 0])
    greater = ops.where(lost, int(negatives.shape[1]), greater)
    tied = ops.where(lost, 0, tied)
    if ties == "pessimistic":
        greater, tied = greater + tied, ops.zeros_like(tied)
    elif ties != "expected":
        raise ValueError(f"ties must be 'expected' or 'pessimistic', got {ties!r}")
    length = int(scores.shape[1])
    out = {}
    for name, kind in (("hr", "hit"), ("ndcg", "ndcg"), ("mrr", "mrr")):
        prefix = ops.convert_to_tensor(_discount_sums(length + 1, kind))
        for k in ks:
            # Average credit of positions greater .. greater + tied, cut at k.
            top = ops.minimum(greater + tied + 1, k)
            low = ops.minimum(greater, k)
            total = ops.take(prefix, top) - ops.take(prefix, low)
            out[f"{name}@{k}"] = total / ops.cast(tied + 1, "float32")
    return out


def topk_metrics(scores, relevant, ks=FULL_KS):
    """Recall, Precision, HR, NDCG and MRR at each K over all items.

    One `top_k` per batch serves every K. Excluded items must already carry
    -inf scores. Items tied at the cut-off are ordered by index. Non-finite
    scores rank last, and a relevant item whose score is not finite is never
    a hit.

    Args:
        scores: float [n, num_items].
        relevant: bool [n, num_items], the items that count as hits.
        ks: cut-offs.

    Returns:
        Dict metric name -> float32 [n] per-user values.
    """
    scores = ops.convert_to_tensor(scores, dtype="float32")
    relevant = ops.cast(ops.convert_to_tensor(relevant), "float32")
    finite = ops.isfinite(scores)
    scores = ops.where(finite, scores, float("-inf"))
    max_k = min(max(ks), int(scores.shape[1]))
    _, top = ops.top_k(scores, k=max_k)
    hits = ops.take_along_axis(relevant * ops.cast(finite, "float32"), top, axis=1)
    num_relevant = ops.sum(relevant, axis=1)
    position = ops.arange(max_k, dtype="float32")
    discount = 1.0 / (ops.log2(position + 2.0))
    first_hit = ops.argmax(hits, axis=1)
    any_hit = ops.max(hits, axis=1)
    out = {}
    for k in ks:
        k_eff = min(k, max_k)
        hit_k = ops.sum(hits[:, :k_eff], axis=1)
        dcg = ops.sum(hits[:, :k_eff] * discount[:k_eff], axis=1)
        ideal_count = ops.minimum(num_relevant, float(k_eff))
        ideal = ops.take(ops.cumsum(discount[:k_eff]), ops.maximum(ops.cast(ideal_count, "int32") - 1, 0))
        out[f"recall@{k}"] = ops.divide_no_nan(hit_k, num_relevant)
        out[f"precision@{k}"] = hit_k / float(k)
        out[f"hr@{k}"] = ops.cast(hit_k > 0, "float32")
        out[f"ndcg@{k}"] = ops.divide_no_nan(dcg, ideal)
        reached = ops.cast(first_hit < k_eff, "float32") * any_hit
        out[f"mrr@{k}"] = reached / (ops.cast(first_hit, "float32") + 1.0)
    return out


def rating_metrics(predicted, true, users, relevance_threshold=0.75, k=5):
    """RMSE, MAE and per-user Precision@k / Recall@k of predicted ratings.

    Each user's test items are ranked by predicted rating; an item is
    relevant when its true rating is >= `relevance_threshold`. Precision and
    recall come from keras-rs (`PrecisionAtK`, `RecallAtK`) over per-user
    lists padded with label -1. Precision@k is hits / min(k, the user's
    number of test items), averaged over all users; recall@k is averaged
    over the users with at least one relevant test item. A prediction that
    is not finite makes RMSE and MAE infinite and ranks last in its user's
    list.

    Returns:
        Dict metric name -> float.
    """
    predicted = np.asarray(predicted, np.float32)
    true = np.asarray(true, np.float32)
    finite = np.isfinite(predicted)
    if finite.all():
        error = predicted - true
        out = {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
    else:
        out = {"rmse": float("inf"), "mae": float("inf")}
        predicted = np.where(finite, predicted, np.finfo(np.float32).min)
    order = np.argsort(users, kind="stable")
    users_sorted = np.asarray(users)[order]
    _, start, counts = np.unique(users_sorted, return_index=True, return_counts=True)
    width = int(counts.max())
    row = np.repeat(np.arange(len(counts)), counts)
    column = np.arange(len(users_sorted)) - np.repeat(start, counts)
    labels = np.full((len(counts), width), -1.0, np.float32)
    preds = np.zeros((len(counts), width), np.float32)
    labels[row, column] = (true[order] >= relevance_threshold).astype(np.float32)
    preds[row, column] = predicted[order]
    has_relevant = (labels > 0).any(axis=1)
    precision = keras_rs.metrics.PrecisionAtK(k=k)
    precision.update_state(labels, preds)
    out[f"precision@{k}"] = float(precision.result())
    # keras-rs would count a user with no relevant item as recall 0; recall is
    # undefined there, so such users are left out of it.
    recall = keras_rs.metrics.RecallAtK(k=k)
    if has_relevant.any():
        recall.update_state(labels[has_relevant], preds[has_relevant])
        out[f"recall@{k}"] = float(recall.result())
    else:
        out[f"recall@{k}"] = float("nan")
    return out


def mean_of(per_row):
    """Dict of per-row tensors -> dict of Python float means."""
    return {name: float(tf.reduce_mean(value)) if value.shape[0] else float("nan") for name, value in per_row.items()}
