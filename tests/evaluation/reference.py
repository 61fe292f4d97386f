"""Plain NumPy/Python reference metrics, written for clarity, to cross-check."""

import math

import numpy as np


def sampled_reference(scores, k, ties="expected"):
    """HR, NDCG, MRR @k of column 0 among the rest, one row at a time."""
    hr, ndcg, mrr = [], [], []
    for row in np.asarray(scores, np.float64):
        positive, negatives = row[0], row[1:]
        greater = int(np.sum(negatives > positive))
        tied = int(np.sum(negatives == positive))
        ranks = [greater + tied] if ties == "pessimistic" else list(range(greater, greater + tied + 1))
        hr.append(np.mean([1.0 if r < k else 0.0 for r in ranks]))
        ndcg.append(np.mean([1.0 / math.log2(r + 2) if r < k else 0.0 for r in ranks]))
        mrr.append(np.mean([1.0 / (r + 1) if r < k else 0.0 for r in ranks]))
    return {"hr": np.mean(hr), "ndcg": np.mean(ndcg), "mrr": np.mean(mrr)}


def full_reference(scores, relevant, excluded, k):
    """Recall, precision, HR, NDCG, MRR @k ranking all non-excluded items."""
    out = {"recall": [], "precision": [], "hr": [], "ndcg": [], "mrr": []}
    for row, rel, exc in zip(scores, relevant, excluded, strict=True):
        candidates = [i for i in range(len(row)) if not exc[i]]
        ranked = sorted(candidates, key=lambda i: -row[i])[:k]
        hits = [1.0 if rel[i] else 0.0 for i in ranked]
        n_rel = int(np.sum(rel))
        out["recall"].append(sum(hits) / n_rel if n_rel else 0.0)
        out["precision"].append(sum(hits) / k)
        out["hr"].append(1.0 if sum(hits) else 0.0)
        dcg = sum(h / math.log2(p + 2) for p, h in enumerate(hits))
        idcg = sum(1.0 / math.log2(p + 2) for p in range(min(n_rel, k)))
        out["ndcg"].append(dcg / idcg if idcg else 0.0)
        first = next((p for p, h in enumerate(hits) if h), None)
        out["mrr"].append(0.0 if first is None else 1.0 / (first + 1))
    return {name: float(np.mean(values)) for name, values in out.items()}


def rating_reference(predicted, true, users, threshold, k):
    """RMSE, MAE and P@k (hits / min(k, list length)), R@k over users with a relevant item."""
    predicted, true, users = map(np.asarray, (predicted, true, users))
    out = {
        "rmse": float(np.sqrt(np.mean((predicted - true) ** 2))),
        "mae": float(np.mean(np.abs(predicted - true))),
    }
    precisions, recalls = [], []
    for user in np.unique(users):
        rows = np.flatnonzero(users == user)
        order = rows[np.argsort(-predicted[rows], kind="stable")][:k]
        relevant = true[rows] >= threshold
        hits = float(np.sum(true[order] >= threshold))
        precisions.append(hits / min(k, len(rows)))
        if relevant.any():
            recalls.append(hits / relevant.sum())
    out[f"precision@{k}"] = float(np.mean(precisions))
    out[f"recall@{k}"] = float(np.mean(recalls))
    return out
