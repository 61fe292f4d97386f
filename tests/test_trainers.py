"""The trainers/ recipes run, and give what `tfcdr train` gives for the same seed."""

import importlib.util
import json
import pathlib

import keras
import numpy as np
import pytest

from tfcdr.experiment import run_experiment
from tfcdr.transfer import frozen_layer_names
from tfcdr.transfer.layer_transfer import tower_layer

TRAINERS = pathlib.Path(__file__).resolve().parents[1] / "trainers"


def _script(name):
    spec = importlib.util.spec_from_file_location(f"trainers_{name}", TRAINERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_train_recipe_equals_the_library_run(tmp_path):
    train = _script("train")
    assert train.main(["--model", "mlp", "--epochs", "2", "--seed", "3", "--output", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "metrics.json").read_text())
    expected, _ = run_experiment("mlp", seed=3, epochs=2, verbose=0)
    assert written == expected["metrics"]
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    assert reloaded.name == "mlp"


@pytest.mark.slow
def test_transfer_recipe_trains_a_target_with_frozen_source_layers():
    transfer = _script("transfer")
    source, target, metrics = transfer.transfer("synthetic:source", "synthetic:target", "config-6", epochs=1)
    assert frozen_layer_names(target) == ("fc_3", "fc_4")
    for name in ("fc_3", "fc_4"):
        copied = tower_layer(target.towers["target"], name).get_weights()
        trained = tower_layer(source.towers["source"], name).get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(copied, trained, strict=True)), name
    assert list(metrics) == ["target"] and 0.0 <= metrics["target"]["hr@10"] <= 1.0
