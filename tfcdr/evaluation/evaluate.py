"""`evaluate(model, split)`: every domain's metrics under the split's protocol."""

import weakref

import numpy as np
import pandas as pd
import tensorflow as tf

from tfcdr.data.protocols import get_protocol
from tfcdr.data.splits import RankingEval, RatingEval, SampledEval
from tfcdr.evaluation import metrics as metric_fns


def headline_metric(protocol):
    """The metric models are selected on under a protocol, and its direction ("min" or "max")."""
    entry = get_protocol(protocol)
    return entry.headline, entry.mode


_SCORERS = weakref.WeakKeyDictionary()


def _scorer_of(model):
    """One compiled scorer per model, so repeated evaluations never retrace."""
    if model not in _SCORERS:
        _SCORERS[model] = _Scorer(model)
    return _SCORERS[model]


class _Scorer:
    """Compiled per-domain scoring functions of a model, made once and reused."""

    def __init__(self, model):
        self.model = model
        self.pairs = {}
        self.all_items = {}

    def score_pairs(self, domain, users, items, batch_size):
        if domain not in self.pairs:
            self.pairs[domain] = tf.function(lambda u, i: self.model.score(domain, u, i), reduce_retracing=True)
        fn = self.pairs[domain]
        out = []
        for start in range(0, len(users), batch_size):
            stop = start + batch_size
            out.append(fn(tf.constant(users[start:stop], tf.int32), tf.constant(items[start:stop], tf.int32)))
        return tf.concat(out, axis=0) if out else tf.zeros([0])

    def score_all(self, domain, users):
        if domain not in self.all_items:
            self.all_items[domain] = tf.function(lambda u: self.model.score_all_items(domain, u), reduce_retracing=True)
        return self.all_items[domain](tf.constant(users, tf.int32))


def evaluate(model, split, subset="test", ks=None, ties="expected", batch_size=262144, domains=None, per_user=False):
    """Metrics of `model` on every domain of `split` under its protocol.

    The model must offer `score(domain, user_ids, item_ids) -> [n]` and, for
    the full-ranking protocols, `score_all_items(domain, user_ids) -> [n,
    num_items]` (`tfcdr.models.CDRModel` provides it from `score`).

    Args:
        model: the model.
        split: a `tfcdr.data.splits.Split`.
        subset: "valid" or "test".
        ks: cut-offs (default per protocol).
        ties: see `tfcdr.evaluation.metrics`.
        batch_size: (user, item) pairs scored per call; large batches keep
            the CPU busy.
        domains: domains to evaluate (default all).
        per_user: also return each evaluated user's values, the paired
            observations `tfcdr.evaluation.significance` tests.

    Returns:
        Dict domain -> dict metric name -> float, e.g.
        `{"target": {"hr@10": 0.71, "ndcg@10": 0.45, ...}}`; with
        `per_user`, a pair of it and a DataFrame with columns `domain`,
        `user` and one per metric, a row per evaluation row (one per user;
        under `rating`, per-user RMSE and MAE of the user's test ratings). Under the
        rating protocol `rmse` and `mae` are on the [0, 1] scale the
        protocol trains on, `rmse_stars` and `mae_stars` on the domain's
        own rating scale (`split.rating_scales()`).
    """
    if subset not in ("valid", "test"):
        raise ValueError(f"subset must be 'valid' or 'test', got {subset!r}")
    scorer = _scorer_of(model)
    results, frames = {}, []
    for name in domains or split.domain_names:
        part = getattr(split.domains[name], subset)
        if len(part) == 0:
            results[name] = {}
            continue
        if isinstance(part, SampledEval):
            results[name], rows = _sampled(scorer, name, part, ks or get_protocol(split.protocol).ks, ties, batch_size)
        elif isinstance(part, RankingEval):
            ks_ = ks or get_protocol(split.protocol).ks
            results[name], rows = _ranking(scorer, name, part, split.num_items[name], ks_, batch_size)
        elif isinstance(part, RatingEval):
            predicted = scorer.score_pairs(name, part.users, part.items, batch_size).numpy()
            results[name] = metric_fns.rating_metrics(predicted, part.ratings, part.users, part.relevance_threshold)
            # The same errors on the domain's own scale (e.g. 1-5 stars): the scaling is linear.
            low, high = part.rating_range
            results[name]["rmse_stars"] = results[name]["rmse"] * (high - low)
            results[name]["mae_stars"] = results[name]["mae"] * (high - low)
            rows = _per_user_errors(predicted, part.ratings, part.users) if per_user else None
        else:
            raise TypeError(f"unknown evaluation set {type(part).__name__}")
        results[name]["users"] = len(np.unique(part.users))
        if per_user:
            # float64 holds each float32 value exactly, and its CSV text reads back to the same number.
            frames.append(pd.DataFrame({"domain": name, **rows}))
    if not per_user:
        return results
    columns = ["domain", "user"]
    return results, (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns))


def _sampled(scorer, name, part, ks, ties, batch_size):
    candidates = np.concatenate([part.items[:, None], part.negatives], axis=1)
    users = np.repeat(part.users, candidates.shape[1])
    scores = scorer.score_pairs(name, users, candidates.ravel(), batch_size)
    scores = tf.reshape(scores, candidates.shape)
    per_row = metric_fns.sampled_metrics(scores, ks, ties)
    return metric_fns.mean_of(per_row), {
        "user": part.users,
        **{m: np.asarray(v, np.float64) for m, v in per_row.items()},
    }


def _ranking(scorer, name, part, num_items, ks, batch_size):
    rows_per_batch = max(1, batch_size // max(num_items, 1))
    sums, values = {}, {}
    for start in range(0, len(part), rows_per_batch):
        stop = min(start + rows_per_batch, len(part))
        users = part.users[start:stop]
        scores = scorer.score_all(name, users)
        relevant = _dense_rows(part.relevant_indptr, part.relevant_items, start, stop, num_items)
        excluded = _dense_rows(part.exclude_indptr, part.exclude_items, start, stop, num_items)
        scores = tf.where(excluded, tf.constant(-np.inf, scores.dtype), scores)
        per_user = metric_fns.topk_metrics(scores, relevant, ks)
        for metric, value in per_user.items():
            sums[metric] = sums.get(metric, 0.0) + float(tf.reduce_sum(value))
            values.setdefault(metric, []).append(np.asarray(value, np.float64))
    means = {metric: total / len(part) for metric, total in sums.items()}
    return means, {"user": part.users, **{m: np.concatenate(v) for m, v in values.items()}}


def _per_user_errors(predicted, true, users):
    """Each user's RMSE and MAE over her evaluation ratings."""
    error = np.asarray(predicted, np.float64) - np.asarray(true, np.float64)
    error = pd.DataFrame({"user": users, "sq": error**2, "abs": np.abs(error)})
    per_user = error.groupby("user", sort=True).mean()
    return {
        "user": per_user.index.to_numpy(),
        "rmse": np.sqrt(per_user["sq"].to_numpy()),
        "mae": per_user["abs"].to_numpy(),
    }


def _dense_rows(indptr, items, start, stop, num_items):
    lengths = np.diff(indptr[start : stop + 1])
    rows = np.repeat(np.arange(stop - start), lengths)
    dense = np.zeros((stop - start, num_items), bool)
    dense[rows, items[indptr[start] : indptr[stop]]] = True
    return dense
