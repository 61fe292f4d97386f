"""Which differences in a leaderboard are real: paired tests over users with Holm's correction.

Every model of a comparison is evaluated on the same users of the same
splits, so each user (of each seed) gives one paired observation: model A's
metric for that user beside model B's. For a domain and a metric, the best
model (highest mean, or lowest for errors) is compared with every other
model by the Wilcoxon signed-rank test on the per-user differences
(two-sided; users whose two values are equal carry no information about
the sign and are left out, Wilcoxon's own treatment of zero differences).
The p-values of the comparisons with the best model are adjusted by Holm's
step-down method, which keeps the chance of calling any equal model worse
below `alpha` whatever the number of models. A model whose adjusted p-value
is at least `alpha` is "not significantly worse than the best".

The best model is picked on the same users it is then compared on, so with
several equal models the chance that one of them is marked worse exceeds
`alpha` (between 9% and 10% for six equal models at alpha 0.05, measured by
tests/evaluation/test_significance.py's repetitions); with two models the
two-sided test keeps `alpha` exactly. A mark of "not significantly worse"
means no evidence of a difference, not equality.

Wilcoxon rather than a t-test because per-user ranking metrics are far from
normal (HR@10 is 0 or 1); rather than a bootstrap because it is exact
enough and fast for tens of thousands of users and many models.
"""

import numpy as np
import pandas as pd
from scipy import stats


def holm(p_values):
    """Holm's step-down adjustment of a family of p-values (same order as given).

    The i-th smallest p-value is multiplied by (m - i) for i = 0..m-1, made
    non-decreasing along that order and capped at 1.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (p.size - np.arange(p.size))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    result = np.empty_like(p)
    result[order] = adjusted
    return result


def paired_p_value(first, second):
    """Two-sided Wilcoxon signed-rank p-value of per-user values of two models (1.0 when all equal)."""
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    if first.shape != second.shape:
        raise ValueError(f"paired values differ in shape: {first.shape} vs {second.shape}")
    if not (np.isfinite(first).all() and np.isfinite(second).all()):
        raise ValueError("per-user values must be finite")
    differences = first - second
    if not np.any(differences):
        return 1.0
    return float(stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided").pvalue)


def mark_best(per_user, lower_is_better=False, alpha=0.05):
    """Marks the best model and those not significantly worse than it.

    Args:
        per_user: dict model -> 1-D array of per-user values, every array
            over the same (seed, user) rows in the same order.
        lower_is_better: True for errors (RMSE, MAE).
        alpha: level of the family of comparisons with the best model.

    Returns:
        DataFrame indexed by model with `mean`, `ci_low`, `ci_high` (95%
        normal interval of the mean), `p_value` (raw, against the best),
        `p_holm` (adjusted), `best` and `tied_with_best` (the best itself,
        or adjusted p-value >= alpha).
    """
    if not per_user:
        raise ValueError("no models to compare")
    names = list(per_user)
    values = {name: np.asarray(per_user[name], dtype=np.float64) for name in names}
    means = pd.Series({name: values[name].mean() for name in names})
    best = means.idxmin() if lower_is_better else means.idxmax()
    others = [name for name in names if name != best]
    raw = {name: paired_p_value(values[best], values[name]) for name in others}
    adjusted = dict(zip(others, holm([raw[name] for name in others]), strict=True))
    rows = []
    for name in names:
        low, high = confidence_interval(values[name])
        p_holm = 1.0 if name == best else adjusted[name]
        rows.append(
            {
                "model": name,
                "mean": means[name],
                "ci_low": low,
                "ci_high": high,
                "p_value": 1.0 if name == best else raw[name],
                "p_holm": p_holm,
                "best": name == best,
                "tied_with_best": name == best or p_holm >= alpha,
            }
        )
    return pd.DataFrame(rows).set_index("model")


def confidence_interval(values, level=0.95):
    """Normal-approximation interval of the mean of per-user values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return float(values.mean()), float(values.mean())
    half = stats.norm.ppf(0.5 + level / 2) * values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean() - half), float(values.mean() + half)


def leaderboard_marks(runs, alpha=0.05):
    """Best-model marks for every domain and metric of a leaderboard's runs, pooled over seeds.

    Args:
        runs: result dicts, each with `model`, `seed` and `per_user`: a
            DataFrame of test values with columns `domain`, `user` and one
            per metric (runs without one are left out of the marks).
        alpha: level of each family (one domain and metric).

    Returns:
        DataFrame with columns domain, metric, model, mean, ci_low, ci_high,
        p_value, p_holm, best, tied_with_best; empty when no run has
        per-user values. A domain and metric whose models were not
        measured on the same (seed, user) rows is skipped: the test needs
        pairs.
    """
    from tfcdr.data.protocols import LOWER_IS_BETTER

    frames = [
        run["per_user"].assign(model=run["model"], seed=run["seed"])
        for run in runs
        if run.get("per_user") is not None and len(run["per_user"])
    ]
    columns = ["domain", "metric", "model", "mean", "ci_low", "ci_high", "p_value", "p_holm", "best", "tied_with_best"]
    if not frames:
        return pd.DataFrame(columns=columns)
    pooled = pd.concat(frames, ignore_index=True)
    metrics = [c for c in pooled.columns if c not in ("domain", "user", "model", "seed")]
    tables = []
    for domain, rows in pooled.groupby("domain", sort=False):
        for metric in metrics:
            wide = rows.pivot_table(index=["seed", "user"], columns="model", values=metric, aggfunc="first", sort=True)
            wide = wide[[m for m in dict.fromkeys(rows["model"]) if m in wide.columns]]
            if wide.isna().any().any() or wide.shape[1] < 1:
                continue
            marks = mark_best(
                {model: wide[model].to_numpy() for model in wide.columns},
                lower_is_better=metric in LOWER_IS_BETTER,
                alpha=alpha,
            )
            tables.append(marks.reset_index().assign(domain=domain, metric=metric))
    return pd.concat(tables, ignore_index=True)[columns] if tables else pd.DataFrame(columns=columns)
