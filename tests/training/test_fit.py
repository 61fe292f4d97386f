import keras
import numpy as np
import pytest

from tests.test_case import tiny_split
from tfcdr.errors import DataError
from tfcdr.evaluation import EvaluationCallback, evaluate
from tfcdr.models import build_model
from tfcdr.training import fit_model


def test_same_seed_gives_identical_metrics():
    split = tiny_split()
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        model = build_model("mlp", split, embedding_dim=8, hidden_units=(8, 4))
        fit_model(model, split, epochs=2, batch_size=128, seed=11, verbose=0, steps_per_execution=1)
        results.append(evaluate(model, split, "test"))
    assert results[0] == results[1]


def test_callback_logs_every_domain_and_aliases():
    split = tiny_split()
    model = build_model("bpr-mf", split, embedding_dim=4)
    callback = EvaluationCallback(split)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    expected = evaluate(model, split, "valid")
    assert logs["val_target_hr@10"] == expected["target"]["hr@10"]
    assert logs["val_source_ndcg@20"] == expected["source"]["ndcg@20"]
    assert np.isclose(logs["val_mean_hr@10"], np.mean([expected[d]["hr@10"] for d in split.domain_names]))


def test_early_stopping_restores_best_validation_epoch():
    split = tiny_split()
    keras.utils.set_random_seed(0)
    model = build_model("mlp", split, embedding_dim=8, hidden_units=(8, 4))
    history = fit_model(model, split, epochs=4, batch_size=128, patience=1, verbose=0, learning_rate=0.05)
    best = max(history.history["val_mean_hr@10"])
    now = evaluate(model, split, "valid")
    assert np.isclose(np.mean([now[d]["hr@10"] for d in split.domain_names]), best, atol=1e-6)


def test_monitor_target_restores_the_targets_best_epoch_not_the_means():
    split = tiny_split()
    keras.utils.set_random_seed(0)
    model = build_model("mlp", split, embedding_dim=8, hidden_units=(8, 4))
    history = fit_model(
        model, split, epochs=6, batch_size=128, patience=6, verbose=0, learning_rate=0.05, monitor="target"
    ).history
    now = evaluate(model, split, "valid")
    assert np.isclose(now["target"]["hr@10"], max(history["val_target_hr@10"]), atol=1e-6)
    # The test means something only if the two monitors pick different epochs.
    assert np.argmax(history["val_target_hr@10"]) != np.argmax(history["val_mean_hr@10"])


def test_unknown_monitor_is_a_clear_error():
    split = tiny_split()
    model = build_model("mlp", split, embedding_dim=8, hidden_units=(8, 4))
    with pytest.raises(ValueError, match="monitor must be one of"):
        fit_model(model, split, epochs=1, monitor="books")


def _nan_model(split):
    model = build_model("bpr-mf", split, embedding_dim=4)
    model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    return model


@pytest.mark.parametrize("protocol", ["loo-sampled", "full-ranking", "rating"])
def test_nan_weight_model_gets_the_worst_score_in_evaluate_and_the_callback(protocol):
    split = tiny_split(protocol, implicit=protocol != "rating")
    model = _nan_model(split)
    results = evaluate(model, split, "test")
    callback = EvaluationCallback(split)
    callback.set_model(model)
    logs = {}
    callback.on_epoch_end(0, logs)
    for domain in split.domain_names:
        if protocol == "rating":
            assert results[domain]["rmse"] == float("inf")
            assert logs[f"val_{domain}_rmse"] == float("inf")
        else:
            headline = "hr@10" if protocol == "loo-sampled" else "recall@10"
            assert results[domain][headline] == 0.0
            assert logs[f"val_{domain}_{headline}"] == 0.0


def test_nan_loss_stops_training_with_a_clear_error():
    split = tiny_split()
    model = build_model("mlp", split, embedding_dim=8, hidden_units=(8, 4))
    with pytest.raises(DataError, match="loss became nan"):
        fit_model(model, split, epochs=3, batch_size=128, learning_rate=float("nan"), verbose=0)


class _Interrupt(keras.callbacks.Callback):
    """Stops the process's fit like a kill would, right after epoch `at` was backed up."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize(("name", "patience"), [("mlp", 5), ("bpr-mf", 1)])
def test_a_resumed_fit_ends_like_an_uninterrupted_one(name, patience, tmp_path):
    split = tiny_split()
    options = dict(epochs=5, batch_size=128, learning_rate=0.05, patience=patience, seed=4, verbose=0)

    def fresh():
        keras.utils.set_random_seed(4)
        return build_model(name, split, embedding_dim=8)

    model = fresh()
    whole = fit_model(model, split, **options).history
    expected = evaluate(model, split, "test")
    with pytest.raises(KeyboardInterrupt):
        fit_model(fresh(), split, backup_dir=tmp_path / "backup", callbacks=[_Interrupt(1)], **options)
    model = fresh()
    resumed = fit_model(model, split, backup_dir=tmp_path / "backup", **options).history
    assert resumed == whole
    assert evaluate(model, split, "test") == expected
