import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.mmd import MMD


def _normal(n, d=4, shift=0.0, seed=0):
    return (np.random.default_rng(seed).normal(size=(n, d)) + shift).astype("float32")


def test_layer_contract():
    run_layer_test(
        MMD,
        {"bandwidth": 2.0},
        (_normal(6), _normal(5, seed=1)),
        expected_output_shape=(),
        expected_num_trainable_weights=0,
    )


@pytest.mark.parametrize("bandwidth", [None, 2.0])
def test_near_zero_for_one_distribution_and_growing_with_a_mean_shift(bandwidth):
    layer = MMD(bandwidth)
    same = float(layer((_normal(400, seed=0), _normal(400, seed=1))))
    shifted = [float(layer((_normal(400, seed=0), _normal(400, shift=s, seed=1)))) for s in (0.5, 1.0, 2.0)]
    assert 0.0 <= same < 0.01
    assert same < shifted[0] < shifted[1] < shifted[2]
    assert shifted[0] > 5 * same


def test_matches_the_kernel_formula():
    x, y = _normal(3, d=2), _normal(2, d=2, seed=1)

    def k(a, b):
        return np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / 2.0)

    expected = k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()
    assert float(MMD(1.0)((x, y))) == pytest.approx(expected, rel=1e-5)


def test_zero_weights_drop_points():
    x, y = _normal(5), _normal(4, shift=1.0, seed=1)
    keep = np.array([1, 1, 0, 1, 0], "float32")
    weighted = MMD(1.5)((x, y), sample_weights=(keep, np.ones(4, "float32")))
    assert float(weighted) == pytest.approx(float(MMD(1.5)((x[keep == 1], y))), rel=1e-5)


def test_gradient_moves_samples_together():
    x = tf.Variable(_normal(50))
    y = _normal(50, shift=1.0, seed=1)
    with tf.GradientTape() as tape:
        value = MMD()((x, y))
    step = -tape.gradient(value, x)
    # Descending MMD moves x toward y (positive shift in every coordinate).
    assert float(tf.reduce_mean(step)) > 0
