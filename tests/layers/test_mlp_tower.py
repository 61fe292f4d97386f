import numpy as np
import pytest

from tests.test_case import run_layer_test
from tfcdr.layers import MLPTower


def test_layer_contract():
    run_layer_test(
        MLPTower,
        {"hidden_units": (8, 4), "dropout": 0.1, "kernel_regularizer": "l2"},
        np.random.default_rng(0).normal(size=(5, 6)).astype("float32"),
        expected_output_shape=(5,),
        expected_num_trainable_weights=6,
    )


def test_layers_are_named_for_transfer():
    tower = MLPTower((64, 32, 16, 8))
    tower.build((None, 64))
    assert [layer.name for layer in tower.hidden] == ["fc_1", "fc_2", "fc_3", "fc_4"]
    assert tower.prediction.name == "prediction"
    assert [layer.kernel.shape for layer in tower.hidden] == [(64, 64), (64, 32), (32, 16), (16, 8)]


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="hidden_units"):
        MLPTower(())
    with pytest.raises(ValueError, match="dropout"):
        MLPTower((4,), dropout=1.0)
