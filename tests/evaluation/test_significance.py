import numpy as np
import pandas as pd
import pytest

from tfcdr.evaluation.significance import holm, leaderboard_marks, mark_best, paired_p_value


def test_holm_matches_a_hand_computed_family():
    # sorted 0.01, 0.02, 0.04 -> x3, x2, x1 = 0.03, 0.04, 0.04 (made monotone)
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_a_model_better_on_every_user_is_significantly_better():
    rng = np.random.default_rng(0)
    worse = rng.uniform(0.0, 0.5, size=300)
    better = worse + rng.uniform(0.01, 0.2, size=300)
    marks = mark_best({"worse": worse, "better": better})
    assert marks.loc["better", "best"] and not marks.loc["worse", "best"]
    assert not marks.loc["worse", "tied_with_best"]
    assert marks.loc["worse", "p_holm"] < 1e-6


def test_identical_models_are_never_marked_different():
    values = np.random.default_rng(1).integers(0, 2, size=500).astype(float)
    marks = mark_best({"a": values, "b": values.copy(), "c": values.copy()})
    assert marks["tied_with_best"].all()
    assert (marks["p_value"] == 1.0).all()


def test_lower_is_better_picks_the_smallest_error():
    marks = mark_best(
        {"small": np.full(50, 0.1) + np.arange(50) * 1e-3, "large": np.full(50, 0.3)}, lower_is_better=True
    )
    assert marks.loc["small", "best"] and not marks.loc["large", "tied_with_best"]


def test_false_positive_rate_of_equal_random_scorers_is_near_alpha():
    # Two scorers drawn from the same distribution, per-user HR-like 0/1 values.
    rng = np.random.default_rng(2)
    repetitions, alpha = 400, 0.05
    rejected = sum(
        paired_p_value(rng.binomial(1, 0.4, size=400), rng.binomial(1, 0.4, size=400)) < alpha
        for _ in range(repetitions)
    )
    # Binomial(400, 0.05): mean 20, sd 4.4; the band is about +-3 sd.
    assert 7 <= rejected <= 34, rejected


def test_holm_keeps_the_familywise_rate_with_many_equal_models():
    rng = np.random.default_rng(3)
    any_rejected = 0
    for _ in range(200):
        per_user = {f"m{i}": rng.normal(size=200) for i in range(6)}
        any_rejected += not mark_best(per_user)["tied_with_best"].all()
    # The best of six equal models is picked by its sample mean, which biases the tests (about 9%
    # here at alpha 0.05); Holm still keeps it well below five raw tests' ~23%.
    assert any_rejected / 200 < 0.15, any_rejected


def test_misaligned_or_non_finite_values_are_refused():
    with pytest.raises(ValueError, match="shape"):
        paired_p_value(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        paired_p_value(np.array([np.nan, 1.0]), np.zeros(2))


def _run(model, seed, values, domain="target"):
    frame = pd.DataFrame({"domain": domain, "user": np.arange(len(values)), "hr@10": values})
    return {"model": model, "seed": seed, "per_user": frame}


def test_leaderboard_marks_pool_seeds_and_pair_users():
    rng = np.random.default_rng(5)
    base = [rng.binomial(1, 0.3, size=200).astype(float) for _ in range(2)]
    runs = [_run("weak", s, base[s]) for s in range(2)]
    runs += [_run("strong", s, np.maximum(base[s], rng.binomial(1, 0.5, size=200))) for s in range(2)]
    runs += [_run("copy", s, base[s].copy()) for s in range(2)]
    marks = leaderboard_marks(runs).set_index("model")
    assert marks.loc["strong", "best"] and marks.loc["strong", "tied_with_best"]
    assert not marks.loc["weak", "tied_with_best"] and not marks.loc["copy", "tied_with_best"]
    # Pooled: the mean is over both seeds' users.
    assert marks.loc["weak", "mean"] == pytest.approx(np.concatenate(base).mean())


def test_leaderboard_marks_skip_unpaired_rows_and_runs_without_values():
    runs = [_run("a", 0, np.ones(10)), _run("b", 0, np.zeros(12)), {"model": "c", "seed": 0}]
    assert leaderboard_marks(runs).empty
