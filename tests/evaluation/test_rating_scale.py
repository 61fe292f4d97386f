"""Rating errors on the protocol's [0, 1] scale and on the data's own scale, named in the outputs."""

import json

import numpy as np
import pandas as pd
import pytest

from tfcdr import results
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.splits import make_split
from tfcdr.evaluation.evaluate import evaluate
from tfcdr.experiment import run_experiment
from tfcdr.tuning.search import objective_direction


def _split():
    rng = np.random.default_rng(1)
    frames = {
        "stars": pd.DataFrame(
            {"user": rng.integers(0, 30, 400), "item": rng.integers(0, 20, 400), "rating": rng.integers(1, 6, 400)}
        ),
        "tens": pd.DataFrame(
            {"user": rng.integers(0, 30, 400), "item": rng.integers(0, 20, 400), "rating": rng.integers(2, 11, 400)}
        ),
    }
    return make_split(CrossDomainData.from_frames("scales", frames), "rating", seed=0)


class _Constant:
    """Predicts 0.5 on the [0, 1] scale everywhere."""

    def score(self, domain, users, items):
        return np.full(len(users), 0.5, np.float32)


def test_star_errors_are_the_scaled_errors_times_the_range():
    split = _split()
    assert split.rating_scales() == {"stars": [1.0, 5.0], "tens": [2.0, 10.0]}
    metrics = evaluate(_Constant(), split)
    for domain, (low, high) in split.rating_scales().items():
        part = split.domains[domain].test
        true_stars = low + part.ratings * (high - low)
        predicted_stars = low + 0.5 * (high - low)
        expected_rmse = float(np.sqrt(np.mean((predicted_stars - true_stars) ** 2)))
        assert metrics[domain]["rmse_stars"] == pytest.approx(expected_rmse, rel=1e-5)
        assert metrics[domain]["mae_stars"] == pytest.approx(np.mean(np.abs(predicted_stars - true_stars)), rel=1e-5)
        # The [0, 1] figures stay what they were.
        assert metrics[domain]["rmse"] == pytest.approx(float(np.sqrt(np.mean((0.5 - part.ratings) ** 2))), rel=1e-5)


def test_errors_on_either_scale_are_minimized_when_tuning():
    assert objective_direction("val_stars_rmse_stars") == "min"
    assert objective_direction("val_mean_mae") == "min"
    assert objective_direction("val_mean_hr@10") == "max"


def test_run_summary_and_leaderboard_name_the_scales(tmp_path):
    result, _ = run_experiment("bias", split=_split(), verbose=0)
    results.write_run(tmp_path / "run", {**result, "history": {}})
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["rating_scales"]["tens"] == [2.0, 10.0]
    summary = (tmp_path / "run" / "summary.md").read_text()
    assert "stars 1 to 5, tens 2 to 10" in summary and "[0, 1]" in summary
    results.write_leaderboard(tmp_path / "board", results.leaderboard([result]), [result])
    board = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "| rmse | mae | rmse_stars | mae_stars |" in board and "stars 1 to 5" in board
