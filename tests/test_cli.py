import json

import pytest
import tensorflow as tf

from tfcdr.cli import main


def test_data_describe_synthetic(capsys):
    assert main(["data", "describe", "synthetic"]) == 0
    out = capsys.readouterr().out
    assert "source" in out and "target" in out and "users in every domain" in out


def test_unknown_dataset_is_a_clear_error(capsys):
    assert main(["data", "describe", "no-such-dataset"]) == 2
    err = capsys.readouterr().err
    assert "no-such-dataset" in err and "ml1m-genre" in err


def test_unknown_model_is_a_clear_error(capsys, tmp_path):
    assert main(["train", "--model", "nope", "--output", str(tmp_path)]) == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_bad_config_file_names_file_and_line(capsys, tmp_path):
    config = tmp_path / "config.json"
    config.write_text('{\n  "epochs": 1,\n  oops\n}')
    assert main(["train", "--model", "mlp", "--config", str(config), "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "config.json, line 3" in err


def test_train_writes_results(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"embedding_dim": 8, "hidden_units": [16, 8], "batch_size": 512}))
    output = tmp_path / "run"
    code = main(
        [
            "-q",
            "train",
            "--model",
            "mlp",
            "--epochs",
            "2",
            "--seed",
            "3",
            "--config",
            str(config),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    result = json.loads((output / "metrics.json").read_text())
    assert result["model"] == "mlp" and result["dataset"] == "synthetic"
    assert result["protocol"] == "loo-sampled" and result["seed"] == 3
    assert list(result["metrics"]) == ["source", "target"]
    assert 0.0 <= result["metrics"]["target"]["hr@10"] <= 1.0
    assert len(result["history"]["loss"]) == 2 and "val_target_hr@10" in result["history"]
    assert result["config"]["model"]["embedding_dim"] == 8
    for name in ("summary.md", "training_curves.png", "model.keras"):
        assert (output / name).stat().st_size > 0
    assert any((output / "logs").rglob("*tfevents*"))
    # evaluate checks the split against the run's: seed 3's split is the model's, seed 0's is not.
    model_file = str(output / "model.keras")
    capsys.readouterr()
    assert main(["-q", "evaluate", "--model-file", model_file, "--seed", "3"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == result["metrics"]["target"]
    assert main(["-q", "evaluate", "--model-file", model_file, "--protocol", "cold-start", "--seed", "3"]) == 2
    err = capsys.readouterr().err
    assert "another split (protocol 'loo-sampled', not 'cold-start'" in err and "--force" in err
    assert main(["-q", "evaluate", "--model-file", model_file, "--force"]) == 0
    assert "seed 3, not 0" in capsys.readouterr().err


@pytest.mark.slow
def test_compare_writes_a_leaderboard(tmp_path, capsys):
    output = tmp_path / "compare"
    code = main(["-q", "compare", "--models", "mlp,bpr-mf", "--seeds", "0,1", "--epochs", "1", "--output", str(output)])
    assert code == 0
    board = (output / "leaderboard.md").read_text()
    assert "| target | mlp |" in board and "| source | bpr-mf |" in board
    assert "over 2 seeds" in board
    assert (output / "leaderboard.png").stat().st_size > 0
    runs = [json.loads(p.read_text()) for p in output.glob("*/metrics.json")]
    assert len(runs) == 4
    # Identical splits per seed across models.
    by_seed = {}
    for run in runs:
        by_seed.setdefault(run["seed"], set()).add(run["split_fingerprint"])
    assert all(len(v) == 1 for v in by_seed.values()) and len(by_seed) == 2


def test_transfer_rejects_unknown_configuration(capsys, tmp_path):
    argv = [
        "transfer",
        "--sources",
        "synthetic:source",
        "--targets",
        "synthetic:target",
        "--configs",
        "config-9",
        "--output",
        str(tmp_path),
    ]
    assert main(argv) == 2
    assert "config-9" in capsys.readouterr().err


@pytest.mark.slow
def test_train_export_then_export_again_and_tune(tmp_path, capsys):
    saved = tmp_path / "saved_models" / "bpr-mf"
    run = tmp_path / "run"
    assert (
        main(["-q", "train", "--model", "bpr-mf", "--epochs", "1", "--output", str(run), "--export", str(saved)]) == 0
    )
    assert main(["-q", "export", "--model-file", str(run / "model.keras"), "--output", str(saved), "--k", "5"]) == 0
    assert sorted(p.name for p in saved.iterdir()) == ["1", "2"]
    assert 'name: "bpr-mf"' in (saved.parent / "models.config").read_text()
    out = tf.saved_model.load(str(saved / "2")).signatures["recommend"](
        user=tf.constant(["42"]), domain=tf.constant(["target"])
    )
    assert out["item_ids"].shape == (1, 5)
    tuned = tmp_path / "tune"
    assert main(["-q", "tune", "--model", "bpr-mf", "--max-trials", "2", "--epochs", "1", "--output", str(tuned)]) == 0
    assert "2 trials: 2 completed, 0 failed" in capsys.readouterr().out
    assert (
        main(
            [
                "-q",
                "train",
                "--model",
                "bpr-mf",
                "--epochs",
                "1",
                "--config",
                str(tuned / "best_config.json"),
                "--output",
                str(tmp_path / "best"),
            ]
        )
        == 0
    )


def test_sweep_trains_each_value_on_one_split_and_plots_it(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(
        [
            "-q",
            "sweep",
            "--model",
            "mlp",
            "--param",
            "negative_ratio",
            "--values",
            "1,3",
            "--epochs",
            "1",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    runs = [json.loads((out / f"negative_ratio={v}-seed0" / "metrics.json").read_text()) for v in (1, 3)]
    assert [r["config"]["training"]["negative_ratio"] for r in runs] == [1, 3]
    assert runs[0]["split_fingerprint"] == runs[1]["split_fingerprint"]
    assert {r["zoo_model"] for r in runs} == {"mlp"}
    assert runs[0]["metrics"] != runs[1]["metrics"]
    board = (out / "leaderboard.md").read_text()
    assert "negative_ratio=1" in board and "negative_ratio=3" in board
    assert (out / "sweep.png").stat().st_size > 1000


def test_sweep_values_parse_json_and_reject_unknown_parameters(capsys):
    from tfcdr.cli import _sweep_values

    assert _sweep_values("0.2, 0.4") == [0.2, 0.4]
    assert _sweep_values("[[1], [1, 2]]") == [[1], [1, 2]]
    assert _sweep_values("linear,mlp") == ["linear", "mlp"]
    code = main(["sweep", "--model", "conet", "--param", "target_wieght", "--values", "0.2"])
    assert code != 0
    assert "no hyperparameter 'target_wieght'" in capsys.readouterr().err


def _three_domain_folder(tmp_path, **sizes):
    """A folder of three synthetic domains' CSV files (a user's dataset)."""
    from tfcdr.data.synthetic import make_synthetic

    data = make_synthetic(num_domains=3, **sizes)
    folder = tmp_path / "three"
    folder.mkdir()
    for name in data.domain_names:
        data.domains[name].interactions.assign(
            user=lambda t: data.user_vocab[t["user"]], item=lambda t, n=name: data.domains[n].item_vocab[t["item"]]
        )[["user", "item", "timestamp"]].to_csv(folder / f"{name}.csv", index=False)
    return folder, data


def test_pair_models_report_each_target_from_its_best_validated_source(tmp_path, capsys):
    import pandas as pd

    from tfcdr.results import file_name

    folder, data = _three_domain_folder(tmp_path, num_users=200, num_items=120, interactions_per_user=10)
    output = tmp_path / "pairs"
    code = main(
        [
            "-q",
            "compare",
            "--models",
            "bpr-mf",
            "--pair-models",
            "conet-lasso",
            "--dataset",
            str(folder),
            "--protocol",
            "adc",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--output",
            str(output),
        ]
    )
    assert code == 0
    pairs = pd.read_csv(output / "pairs.csv")
    assert len(pairs) == 6 and set(pairs["target"]) == set(data.domain_names)
    best = pd.read_csv(output / "leaderboard.csv").query("model == 'conet-lasso (best source)' and metric == 'ndcg@10'")
    for target, group in pairs.groupby("target"):
        chosen = group[group["chosen"]]
        assert len(chosen) == 1 and chosen["valid ndcg@10"].iloc[0] == group["valid ndcg@10"].max()
        source = chosen["source"].iloc[0]
        run_folder = output / "pairs" / f"{file_name(chosen['run'].iloc[0])}-seed0"
        run = json.loads((run_folder / "metrics.json").read_text())
        assert run["dataset"] and set(run["metrics"]) == {source, target}
        reported = best.set_index("domain").loc[target, "mean"]
        assert reported == pytest.approx(run["metrics"][target]["ndcg@10"])
    assert "| domain_0 | conet-lasso (best source) |" in (output / "leaderboard.md").read_text()
    # CoNet's default eq. 7 weight (0.5) is symmetric: one run per unordered pair serves both directions.
    assert len(list((output / "pairs").glob("*/metrics.json"))) == 3
    assert pairs.groupby("run").size().tolist() == [2, 2, 2]
    # The best-source result is a run folder of its own: `tfcdr leaderboard` rebuilds the table from the folder.
    assert main(["-q", "leaderboard", str(output), "--output", str(tmp_path / "joined")]) == 0
    joined = pd.read_csv(tmp_path / "joined" / "leaderboard.csv")
    assert set(joined["model"]) == {"bpr-mf", "conet-lasso (best source)"}
    assert joined.query("metric == 'ndcg@10'")["mean"].tolist() == pytest.approx(
        pd.read_csv(output / "leaderboard.csv").query("metric == 'ndcg@10'")["mean"].tolist()
    )


def test_pair_models_with_unequal_domain_weights_train_every_ordered_pair(tmp_path):
    folder, _ = _three_domain_folder(tmp_path, num_users=100, num_items=60, interactions_per_user=8)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"conet": {"target_weight": 0.7}}))
    output = tmp_path / "pairs"
    code = main(
        [
            "-q",
            "compare",
            "--pair-models",
            "conet",
            "--dataset",
            str(folder),
            "--protocol",
            "adc",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--config",
            str(config),
            "--output",
            str(output),
        ]
    )
    assert code == 0
    assert len(list((output / "pairs").glob("*/metrics.json"))) == 6


def test_compare_metrics_choose_the_table_columns_and_unknown_ones_are_refused(tmp_path, capsys):
    output = tmp_path / "compare"
    args = ["-q", "compare", "--models", "bpr-mf", "--seeds", "0", "--epochs", "1", "--output", str(output)]
    assert main([*args, "--metrics", "hr@5,ndcg@50"]) == 0
    header = next(line for line in (output / "leaderboard.md").read_text().splitlines() if line.startswith("| domain"))
    assert header == "| domain | model | hr@5 | ndcg@50 |"
    assert main([*args, "--metrics", "hr@7"]) == 2
    assert "does not measure ['hr@7']" in capsys.readouterr().err


def test_leaderboard_joins_runs_of_one_split_and_refuses_mixed_splits(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    common = ["--seeds", "0", "--epochs", "1"]
    assert main(["-q", "compare", "--models", "bpr-mf", *common, "--output", str(first)]) == 0
    assert main(["-q", "compare", "--models", "cmf", *common, "--output", str(second)]) == 0
    out = tmp_path / "joined"
    assert main(["-q", "leaderboard", str(first), str(second), "--metrics", "hr@5,hr@50", "--output", str(out)]) == 0
    text = (out / "leaderboard.md").read_text()
    assert "| target | bpr-mf |" in text and "| target | cmf |" in text and "hr@50" in text
    single = json.loads((second / "cmf-seed0" / "metrics.json").read_text())
    joined = pytest.importorskip("pandas").read_csv(out / "leaderboard.csv")
    row = joined.query("model == 'cmf' and domain == 'target' and metric == 'hr@5'")
    assert float(row["mean"].iloc[0]) == pytest.approx(single["metrics"]["target"]["hr@5"])
    # Another seed's split of the same dataset is not the same table.
    other = tmp_path / "c"
    assert main(["-q", "compare", "--models", "mlp", "--seeds", "1", "--epochs", "1", "--output", str(other)]) == 0
    run = json.loads((other / "mlp-seed1" / "metrics.json").read_text())
    run["seed"] = 0
    (other / "mlp-seed1" / "metrics.json").write_text(json.dumps(run))
    assert main(["-q", "leaderboard", str(first), str(other), "--output", str(tmp_path / "x")]) == 2
    assert "two different splits" in capsys.readouterr().err
    assert main(["-q", "leaderboard", str(first), str(first), "--output", str(tmp_path / "y")]) == 2
    assert "appears twice" in capsys.readouterr().err


def test_best_source_is_judged_at_the_epoch_whose_weights_were_kept():
    from types import SimpleNamespace

    from tfcdr.experiment import _best_sources

    def run(target_history, mean_history, test, monitor="mean"):
        return {
            "model": "conet",
            "seed": 0,
            "dataset": "d",
            "protocol": "adc",
            "split_fingerprint": "x",
            "train_seconds": 1.0,
            "history": {
                "val_t_ndcg@10": target_history,
                "val_mean_ndcg@10": mean_history,
                "val_target_ndcg@10": target_history,
            },
            "metrics": {"t": {"ndcg@10": test}},
            "config": {"training": {"monitor": monitor}},
        }

    # Source "a" peaks on the target at epoch 2, but epoch 1 was kept (best mean).
    pairs = {("a", "t"): run([0.20, 0.50], [0.40, 0.30], 0.1), ("b", "t"): run([0.30, 0.25], [0.30, 0.35], 0.2)}
    split = SimpleNamespace(protocol="adc", fingerprint=lambda: "full")
    best, rows = _best_sources("conet", pairs, split)
    assert best["sources"] == {"t": "b"} and best["metrics"]["t"]["ndcg@10"] == 0.2
    assert [r["valid ndcg@10"] for r in rows] == [0.20, 0.25]
    # Runs that kept the target's best epoch are judged there.
    pairs = {key: run(*[*value["history"].values()][:2], 0.1, monitor="target") for key, value in pairs.items()}
    best, rows = _best_sources("conet", pairs, split)
    assert best["sources"] == {"t": "a"} and [r["valid ndcg@10"] for r in rows] == [0.50, 0.30]


def test_domains_option_keeps_those_domains_in_that_order(tmp_path, capsys):
    output = tmp_path / "three"
    code = main(
        [
            "-q",
            "compare",
            "--models",
            "bpr-mf",
            "--seeds",
            "0",
            "--epochs",
            "1",
            "--output",
            str(output),
            "--domains",
            "target,source",
        ]
    )
    assert code == 0
    run = json.loads((output / "bpr-mf-seed0" / "metrics.json").read_text())
    assert list(run["metrics"]) == ["target", "source"]
    bad = [
        "-q",
        "compare",
        "--models",
        "bpr-mf",
        "--epochs",
        "1",
        "--domains",
        "books",
        "--output",
        str(tmp_path / "bad"),
    ]
    assert main(bad) == 2
    assert "select needs distinct domains" in capsys.readouterr().err


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own refusals
        return stop.code


@pytest.mark.parametrize(
    ("argv", "config", "fragment"),
    [
        (["train", "--model", "mlp"], {"embedding_dimm": 8}, "'mlp' has no hyperparameter 'embedding_dimm'; choose"),
        (["train", "--model", "mlp"], {"batch_size": 0}, "'batch_size' must be an integer >= 1 (value: 0)"),
        (["train", "--model", "mlp"], {"batch_size": -5}, "'batch_size' must be an integer >= 1 (value: -5)"),
        (["train", "--model", "mlp"], {"epochs": "3"}, "'epochs' must be an integer >= 1 (value: '3')"),
        (["train", "--model", "mlp"], {"learning_rate": float("nan")}, "'learning_rate' must be a positive finite"),
        (["train", "--model", "mlp"], [1, 2], "a config file holds one JSON object"),
        (["tune", "--model", "mlp"], {"patience": -1}, "'patience' must be an integer >= 0"),
        (["compare", "--models", "mlp"], {"epochs": 1}, "are not models of"),
        (["train", "--model", "mlp", "--seed", "-1"], None, "argument --seed: must be an integer >= 0, got -1"),
        (["compare", "--seeds", "0,0"], None, "argument --seeds: names ['0'] are given more than once"),
        (["compare", "--seeds", "0,x"], None, "argument --seeds: not an integer: 'x'"),
        (["compare", "--models", "mlp,mlp"], None, "argument --models: names ['mlp'] are given more than once"),
        (["compare", "--models", ""], None, "argument --models: needs at least one name"),
        (["tune", "--model", "mlp", "--max-trials", "0"], None, "argument --max-trials: must be an integer >= 1"),
        (["sweep", "--model", "mlp", "--param", "epochs", "--values", "1,1"], None, "--values gives ['1'] more"),
    ],
)
def test_bad_options_and_config_values_are_one_line_errors(argv, config, fragment, tmp_path, capsys):
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        argv = [*argv, "--config", str(tmp_path / "config.json")]
    assert _exit_code([*argv, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "error: " in err and fragment in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_unwritable_output_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["train", "--model", "mlp", "--output", str(tmp_path / "file" / "run")]) == 2
    assert "cannot be written" in capsys.readouterr().err
