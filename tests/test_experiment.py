"""run_experiment's run folders: written whole or not at all, kept when finished, resumed when not."""

import json

import pandas as pd
import pytest

from tests.test_case import tiny_split
from tfcdr import results
from tfcdr.errors import DataError
from tfcdr.experiment import run_experiment

CONFIG = {"embedding_dim": 4, "epochs": 2, "batch_size": 128}


def test_a_run_folder_appears_whole_and_a_finished_run_is_not_trained_again(tmp_path):
    split = tiny_split()
    output = tmp_path / "run"
    first, _ = run_experiment("bpr-mf", split=split, seed=0, config=CONFIG, output=output, verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert {"metrics.json", "summary.md", "model.keras", "run.json", "logs"} <= {p.name for p in output.iterdir()}
    assert not (output / "backup").exists()
    # Rerun: read from the folder (train_seconds would differ if it trained).
    again, model = run_experiment("bpr-mf", split=split, seed=0, config=CONFIG, output=output, verbose=0)
    per_user = first.pop("per_user")
    pd.testing.assert_frame_equal(again.pop("per_user"), per_user, check_dtype=False, rtol=1e-6)
    assert again == json.loads(json.dumps(first)) and model.built
    with pytest.raises(DataError, match="another config; use --overwrite"):
        run_experiment("bpr-mf", split=split, seed=0, config={**CONFIG, "l2": 0.5}, output=output, verbose=0)
    retrained, _ = run_experiment(
        "bpr-mf", split=split, seed=0, config={**CONFIG, "l2": 0.5}, output=output, verbose=0, overwrite=True
    )
    assert (
        results.read_run(output / "metrics.json")["config"]["model"]["l2"] == 0.5 == retrained["config"]["model"]["l2"]
    )


def test_overwrite_refuses_to_remove_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match="not a run folder"):
        run_experiment("bpr-mf", split=tiny_split(), config=CONFIG, output=tmp_path, verbose=0, overwrite=True)
    assert (tmp_path / "notes.txt").exists()


def test_leaderboard_skips_and_names_incomplete_runs_and_names_a_corrupt_metrics_file(tmp_path, caplog):
    run = {"model": "m", "dataset": "d", "protocol": "loo-sampled", "seed": 0, "split_fingerprint": "f"}
    (tmp_path / "m-seed0").mkdir()
    (tmp_path / "m-seed0" / "metrics.json").write_text(json.dumps({**run, "metrics": {"a": {"hr@10": 0.5}}}))
    (tmp_path / "n-seed0.partial").mkdir()
    (tmp_path / "n-seed0.partial" / "metrics.json").write_text(json.dumps({**run, "model": "n", "metrics": {}}))
    with caplog.at_level("WARNING", logger="tfcdr"):
        runs = results.collect_runs([tmp_path])
    assert [r["model"] for r in runs] == ["m"]
    assert "n-seed0.partial" in caplog.text and "1 incomplete" in caplog.text
    with pytest.raises(DataError, match="incomplete run"):
        results.collect_runs([tmp_path / "n-seed0.partial"])
    (tmp_path / "m-seed0" / "metrics.json").write_text('{"model": "m", "met')
    with pytest.raises(DataError, match="m-seed0/metrics.json: corrupt metrics.json"):
        results.collect_runs([tmp_path])


@pytest.mark.slow
def test_a_killed_train_resumes_to_the_metrics_of_an_uninterrupted_one(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"embedding_dim": 8, "patience": 20, "learning_rate": 0.01}))

    def train(output):
        argv = [sys.executable, "-m", "tfcdr.cli", "-q", "train", "--model", "bpr-mf", "--epochs", "6"]
        return subprocess.Popen([*argv, "--config", str(config), "--output", str(output)])

    killed = train(tmp_path / "resumed")
    backup = tmp_path / "resumed.partial" / "backup" / "training_metadata.json"
    while not backup.exists() and killed.poll() is None:
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "resumed").exists()  # killed mid-training, nothing published
    assert json.loads(backup.read_text())["epoch"] < 6
    assert train(tmp_path / "resumed").wait() == 0
    assert train(tmp_path / "whole").wait() == 0
    resumed, whole = (results.read_run(tmp_path / name / "metrics.json") for name in ("resumed", "whole"))
    assert resumed["metrics"] == whole["metrics"]
    assert resumed["history"] == whole["history"]
    assert not (tmp_path / "resumed.partial").exists()


def test_compare_marks_the_best_model_and_those_not_significantly_worse(tmp_path):
    from tests.test_case import tiny_data
    from tfcdr.experiment import compare

    data = tiny_data()
    configs = {"bpr-mf": {**CONFIG, "epochs": 1}}
    compare(["pop", "bias", "bpr-mf"], dataset=data, seeds=(0, 1), configs=configs, output=tmp_path, verbose=0)
    for run in ("pop-seed0", "bias-seed1", "bpr-mf-seed0"):
        values = pd.read_csv(tmp_path / run / "per_user.csv.gz")
        assert {"domain", "user", "hr@10"} <= set(values.columns) and len(values) > 0
    board = pd.read_csv(tmp_path / "leaderboard.csv")
    assert {"p_value", "p_holm", "best", "tied_with_best"} <= set(board.columns)
    hr = board[board["metric"] == "hr@10"].set_index(["domain", "model"])
    for domain in data.domain_names:
        assert hr.loc[domain, "best"].sum() == 1
        # pop and bias rank items alike on 0/1 data: one cannot be significantly worse than the other.
        assert (
            hr.loc[(domain, "pop"), "tied_with_best"]
            and hr.loc[(domain, "bias"), "tied_with_best"]
            or (hr.loc[domain, "best"].idxmax() == "bpr-mf")
        )
    text = (tmp_path / "leaderboard.md").read_text()
    assert "**" in text and "Wilcoxon" in text
    assert (tmp_path / "leaderboard_ci.png").read_bytes()[:4] == b"\x89PNG"
    # The same marks from the run folders alone (tfcdr leaderboard).
    again = results.mark_leaderboard(
        results.leaderboard(results.collect_runs([tmp_path])), results.collect_runs([tmp_path])
    )
    pd.testing.assert_series_equal(
        again.set_index(["model", "domain", "metric"])["p_holm"].sort_index(),
        board.set_index(["model", "domain", "metric"])["p_holm"].sort_index(),
        check_dtype=False,
        rtol=1e-9,
    )
