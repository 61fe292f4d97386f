import numpy as np
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.vae_decoder import VAEDecoder


def _latent(batch=4, width=3):
    return np.random.default_rng(0).normal(size=(batch, width)).astype("float32")


def test_layer_contract():
    run_layer_test(
        VAEDecoder,
        {"output_dim": 10, "hidden_units": (6, 8), "kernel_regularizer": "l2"},
        _latent(),
        expected_output_shape=tf.TensorShape([4, 10]),
        expected_num_trainable_weights=6,
    )


def test_sigmoid_output_by_default_and_logits_on_request():
    z = _latent()
    probabilities = VAEDecoder(7, (5,))
    logits = VAEDecoder(7, (5,), output_activation=None)
    p = np.asarray(probabilities(z))
    logits(z)
    logits.set_weights(probabilities.get_weights())
    assert np.all((p > 0) & (p < 1))
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-np.asarray(logits(z)))), rtol=1e-5, atol=1e-6)
