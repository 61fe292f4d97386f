import numpy as np
import pandas as pd
import pytest

from tfcdr.transfer import auto_choice, auto_summary, correlations, gains

TARGETS = ("t1", "t2", "t3")


def _runs(scores):
    """Runs frame from {(target, label): [(valid, test) per seed]}; "none" has no source."""
    rows = []
    for (target, label), per_seed in scores.items():
        for seed, (valid, test) in enumerate(per_seed):
            rows.append(
                {
                    "source": None if label == "none" else "s",
                    "target": target,
                    "mode": None if label == "none" else "frozen",
                    "label": label,
                    "seed": seed,
                    "valid_hr@10": valid,
                    "test_hr@10": test,
                }
            )
    return pd.DataFrame(rows)


def test_gain_is_relative_to_the_seed_mean_baseline():
    runs = _runs(
        {
            ("t1", "none"): [(0.2, 0.20), (0.2, 0.30)],
            ("t1", "config-1"): [(0.3, 0.30), (0.3, 0.20)],
            ("t1", "config-6"): [(0.3, 0.25), (0.3, 0.35)],
        }
    )
    gain = gains(runs).loc[("s", "frozen", "t1")]
    assert gain["config-1"] == pytest.approx(0.0)
    assert gain["config-6"] == pytest.approx(20.0)


def test_auto_picks_by_validation_not_test():
    # config-1 is best on validation, config-6 on test: auto must take config-1.
    runs = _runs(
        {
            ("t1", "none"): [(0.20, 0.20)],
            ("t1", "config-1"): [(0.40, 0.22)],
            ("t1", "config-6"): [(0.30, 0.30)],
            ("t2", "none"): [(0.50, 0.20)],
            ("t2", "config-1"): [(0.10, 0.30)],
            ("t2", "config-6"): [(0.20, 0.10)],
        }
    )
    choice = auto_choice(runs).xs(("s", "frozen"), level=("source", "mode"))
    assert choice.loc["t1", "auto"] == "config-1" and choice.loc["t1", "test_best"] == "config-6"
    assert not choice.loc["t1", "match"]
    assert choice.loc["t1", "auto_gain"] == pytest.approx(10.0)
    # Validation may also say "do not transfer".
    assert choice.loc["t2", "auto"] == "none" and choice.loc["t2", "auto_gain"] == 0.0
    summary = auto_summary(auto_choice(runs), gains(runs)).loc[("s", "frozen")]
    assert summary["match_rate"] == 0.0 and summary["targets"] == 2
    assert summary["auto_gain_mean"] == pytest.approx(5.0)
    # Fixed configurations: config-1 gains +10% and +50% (mean 30), config-6 +50% and -50% (mean 0).
    assert summary["best_fixed"] == "config-1" and summary["best_fixed_gain_mean"] == pytest.approx(30.0)


def test_correlations_follow_the_factor():
    kl = {"t1": 0.1, "t2": 0.5, "t3": 1.0}
    scores = {}
    for target in TARGETS:
        scores[(target, "none")] = [(0.2, 0.2)]
        scores[(target, "config-7")] = [(0.2, 0.2 * (1.2 - 0.2 * kl[target]))]
    factors = pd.DataFrame(
        {"kl": [kl[t] for t in TARGETS], "sparsity": [99.0, 98.0, 97.5]},
        index=pd.MultiIndex.from_tuples([("s", t) for t in TARGETS], names=["source", "target"]),
    )
    table = correlations(gains(_runs(scores)), factors).set_index(["label", "factor"])
    assert table.loc[("config-7", "kl"), "pcc"] == pytest.approx(-1.0)
    assert table.loc[("config-7", "kl"), "n"] == 3
    assert np.isfinite(table.loc[("config-7", "sparsity"), "p_value"])
