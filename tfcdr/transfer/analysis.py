"""Gains over the from-scratch baseline, the `auto` choice, and correlations.

All functions read the runs DataFrame of `TransferStudy.runs_frame` (one row
per source, target, mode, configuration variant `label` and seed, with
`valid_hr@10` and `test_hr@10`; "none" rows have no source).

Gain (Tables 3-5) is `100 * (HR - HR_none) / HR_none` on test HR@10, each
averaged over seeds first (the paper reports averages of ten runs).
"""

import numpy as np
import pandas as pd

from tfcdr.transfer.configurations import AUTO, NONE
from tfcdr.transfer.kl_relatedness import pearson

METRIC = "hr@10"


def mean_scores(runs, subset="test", metric=METRIC):
    """Seed-mean `<subset>_<metric>` per (source, mode, target, label), "none" repeated per source and mode.

    Returns:
        DataFrame indexed by (source, mode, target) with one column per label
        ("none" included), in the order the labels first appear.
    """
    column = f"{subset}_{metric}"
    transfer = runs[runs["label"] != NONE]
    baseline = runs[runs["label"] == NONE].groupby("target")[column].mean()
    table = transfer.pivot_table(
        index=["source", "mode", "target"], columns="label", values=column, aggfunc="mean", sort=False
    )
    labels = [label for label in dict.fromkeys(transfer["label"]) if label in table.columns]
    table = table[labels]
    table.insert(0, NONE, table.index.get_level_values("target").map(baseline).to_numpy(np.float64))
    return table


def gains(runs, metric=METRIC):
    """Test gain (%) of each configuration over "none": rows (source, mode, target)."""
    scores = mean_scores(runs, "test", metric)
    base = scores[NONE]
    return scores.drop(columns=NONE).sub(base, axis=0).div(base, axis=0) * 100.0


def auto_choice(runs, metric=METRIC, candidates=None):
    """The `auto` configuration: per (source, mode, target), best on VALIDATION.

    The candidates (default every label run, "none" included, so `auto` may
    decline to transfer) are compared on seed-mean validation `metric`;
    ties go to the earlier candidate, "none" first. Test numbers are only
    read afterwards, to report what the choice achieved and whether it
    matches the configuration that was best on test (the "best" column of
    Tables 3-5, which no real deployment could know).

    Returns:
        DataFrame indexed by (source, mode, target) with `auto` (chosen
        label), `auto_valid`, `auto_test`, `auto_gain` (%), `test_best`,
        `test_best_gain` (%), `match` (bool) and `none_test`.
    """
    valid = mean_scores(runs, "valid", metric)
    test = mean_scores(runs, "test", metric)
    if candidates is not None:
        keep = [c for c in valid.columns if c in set(candidates)]
        valid, test = valid[keep], test[keep]
    rows = []
    for key in valid.index:
        v, t = valid.loc[key], test.loc[key]
        chosen = v.index[int(np.nanargmax(v.to_numpy()))]
        best = t.index[int(np.nanargmax(t.to_numpy()))]
        none = test.loc[key, NONE] if NONE in test.columns else float("nan")
        rows.append(
            {
                AUTO: chosen,
                "auto_valid": v[chosen],
                "auto_test": t[chosen],
                "auto_gain": 100.0 * (t[chosen] - none) / none,
                "test_best": best,
                "test_best_gain": 100.0 * (t[best] - none) / none,
                "match": chosen == best,
                "none_test": none,
            }
        )
    return pd.DataFrame(rows, index=valid.index)


def auto_summary(choice, gain=None):
    """How often `auto` matches the test-best configuration, and its mean gain.

    With `gain` (the `gains` table) the summary also names the best fixed
    configuration: the one label whose mean test gain over the targets is
    highest (chosen on test, so an optimistic yardstick for `auto`), with
    that mean gain.
    """
    groups = choice.groupby(level=["source", "mode"])
    summary = pd.DataFrame(
        {
            "targets": groups.size(),
            "match_rate": groups["match"].mean(),
            "auto_gain_mean": groups["auto_gain"].mean(),
            "test_best_gain_mean": groups["test_best_gain"].mean(),
            "positive_auto": groups["auto_gain"].apply(lambda g: int((g > 0).sum())),
        }
    )
    if gain is not None:
        mean_gain = gain.groupby(level=["source", "mode"]).mean()
        summary["best_fixed"] = mean_gain.idxmax(axis=1)
        summary["best_fixed_gain_mean"] = mean_gain.max(axis=1)
    return summary


def correlations(gain_table, factors):
    """Pearson r (p-value) of gain with each target factor, per source, mode and label.

    This is Fig. 3 (factor = KL relatedness, eq. 8) and Table 6 (target
    size, target sparsity): across the targets of one source, does the gain
    of a configuration follow the factor?

    Args:
        gain_table: output of `gains`.
        factors: DataFrame indexed by (source, target) with one column per
            factor (e.g. "kl", "interactions", "sparsity").

    Returns:
        Long DataFrame: source, mode, label, factor, pcc, p_value, n.
    """
    rows = []
    for (source, mode), block in gain_table.groupby(level=["source", "mode"], sort=False):
        targets = block.index.get_level_values("target")
        values = factors.loc[[(source, t) for t in targets]]
        for label in block.columns:
            for factor in factors.columns:
                r, p = pearson(values[factor].to_numpy(), block[label].to_numpy())
                rows.append(
                    {
                        "source": source,
                        "mode": mode,
                        "label": label,
                        "factor": factor,
                        "pcc": r,
                        "p_value": p,
                        "n": int(np.isfinite(block[label].to_numpy()).sum()),
                    }
                )
    return pd.DataFrame(rows)
