"""run_search writes the trial table, best config and plot, and reports failures."""

import json

import keras_tuner
import pandas as pd
import pytest

from tests.test_case import tiny_split
from tfcdr.errors import DataError
from tfcdr.experiment import load_config
from tfcdr.models import build_model, split_config
from tfcdr.tuning import objective_for, run_search


def test_random_search_writes_table_best_config_and_plot(tmp_path):
    split = tiny_split()
    result = run_search("bpr-mf", split, tmp_path, tuner="random", max_trials=2, epochs=1)
    assert (result["completed"], result["failed"]) == (2, 0)
    table = pd.read_csv(tmp_path / "trials.csv")
    assert len(table) == 2 and set(table["status"]) == {"COMPLETED"}
    assert {"val_target_hr@10", "embedding_dim", "l2", "learning_rate"} <= set(table.columns)
    assert table["val_target_hr@10"].max() == result["best_value"]
    assert "2 trials: 2 completed, 0 failed" in (tmp_path / "trials.md").read_text()
    assert (tmp_path / "objective_by_trial.png").read_bytes()[:4] == b"\x89PNG"
    # `tfcdr train --config best_config.json` reads it as a flat dict.
    config = load_config(tmp_path / "best_config.json")
    assert config == json.loads((tmp_path / "best_config.json").read_text()) == result["best_config"]
    model_kwargs, training = split_config("bpr-mf", config)
    assert model_kwargs == {"embedding_dim": config["embedding_dim"], "l2": config["l2"]}
    assert training["learning_rate"] == config["learning_rate"]
    assert build_model("bpr-mf", split, **model_kwargs).embedding_dim == config["embedding_dim"]


def test_failing_trials_are_reported_as_failed_not_dropped(tmp_path):
    def invalid_tower(hp):
        return {"hidden_units": [hp.Choice("width", [0, -3])], "learning_rate": 1e-3}

    result = run_search("mlp", tiny_split(), tmp_path, max_trials=2, epochs=1, space=invalid_tower)
    assert (result["completed"], result["failed"]) == (0, 2)
    assert result["best_config"] is None and not (tmp_path / "best_config.json").exists()
    table = pd.read_csv(tmp_path / "trials.csv")
    assert list(table["status"]) == ["FAILED", "FAILED"]
    assert table["error"].str.contains("hidden_units must be positive").all()
    text = (tmp_path / "trials.md").read_text()
    assert "2 trials: 0 completed, 2 failed" in text and "no best config" in text
    assert (tmp_path / "objective_by_trial.png").exists()


def test_objective_direction_follows_the_metric():
    assert objective_for("loo-sampled") == keras_tuner.Objective("val_target_hr@10", "max")
    assert objective_for("rating") == keras_tuner.Objective("val_target_rmse", "min")
    assert objective_for("rating", "val_mean_mae").direction == "min"
    assert objective_for("full-ranking", "val_source_ndcg@10").direction == "max"


def test_a_trial_whose_loss_turns_nan_fails_and_is_never_best(tmp_path):
    def diverging(hp):
        return {"learning_rate": hp.Choice("learning_rate", [1e38]), "embedding_dim": 4}

    result = run_search("bpr-mf", tiny_split(), tmp_path, max_trials=1, epochs=2, space=diverging)
    assert (result["completed"], result["failed"]) == (0, 1)
    assert result["best_config"] is None
    assert pd.read_csv(tmp_path / "trials.csv")["error"].str.contains("loss became nan").all()


def test_an_interrupted_search_resumes_without_redoing_finished_trials(tmp_path, monkeypatch):
    from tfcdr.tuning.hypermodel import CDRHyperModel

    fits = []
    original = CDRHyperModel.fit
    monkeypatch.setattr(CDRHyperModel, "fit", lambda self, *a, **k: fits.append(1) or original(self, *a, **k))
    split = tiny_split()
    first = run_search("bpr-mf", split, tmp_path, max_trials=2, epochs=1)
    again = run_search("bpr-mf", split, tmp_path, max_trials=3, epochs=1)
    assert len(fits) == 3  # 2 trials, then only the third
    assert (first["completed"], again["completed"]) == (2, 3)
    # The two finished trials are reloaded as they were, not trained again.
    kept = again["trials"][again["trials"]["trial"].isin(first["trials"]["trial"])]
    pd.testing.assert_frame_equal(kept.reset_index(drop=True), first["trials"].reset_index(drop=True))
    with pytest.raises(DataError, match="another search"):
        run_search("mlp", split, tmp_path, max_trials=1, epochs=1)
    fresh = run_search("bpr-mf", split, tmp_path, max_trials=1, epochs=1, overwrite=True)
    assert fresh["completed"] == 1
