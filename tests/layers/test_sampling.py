import numpy as np
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.sampling import Sampling


def _stats(batch=4, width=3):
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(batch, width)).astype("float32"),
        rng.normal(size=(batch, width)).astype("float32"),
    )


def test_layer_contract():
    run_layer_test(
        Sampling,
        {"seed": 1},
        _stats(),
        expected_output_shape=tf.TensorShape([4, 3]),
        expected_num_trainable_weights=0,
    )


def test_mean_outside_training_and_draws_of_the_right_spread_in_training():
    mean = np.full((20000, 2), 3.0, "float32")
    log_var = np.log(np.full((20000, 2), 4.0, "float32"))
    layer = Sampling(seed=0)
    np.testing.assert_array_equal(np.asarray(layer((mean, log_var))), mean)
    z = np.asarray(layer((mean, log_var), training=True))
    assert abs(z.mean() - 3.0) < 0.05 and abs(z.std() - 2.0) < 0.05


def test_gradient_reaches_mean_and_log_variance():
    mean, log_var = (tf.Variable(v) for v in _stats())
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(Sampling(seed=0)((mean, log_var), training=True))
    grad_mean, grad_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(grad_mean.numpy(), 1.0)
    assert np.all(grad_log_var.numpy() != 0)
