import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.vae_encoder import VAEEncoder


def _vectors(batch=4, width=10, seed=0):
    return (np.random.default_rng(seed).random((batch, width)) < 0.3).astype("float32")


def test_layer_contract():
    run_layer_test(
        VAEEncoder,
        {"hidden_units": (8, 6), "latent_dim": 3, "kernel_regularizer": "l2"},
        _vectors(),
        expected_output_shape=(tf.TensorShape([4, 3]), tf.TensorShape([4, 3])),
        expected_num_trainable_weights=8,
    )


def test_layer_contract_with_auxiliary_sub_encoder():
    auxiliary = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    encoder = run_layer_test(
        VAEEncoder,
        {"hidden_units": (8,), "latent_dim": 3, "auxiliary_units": (6, 4)},
        [_vectors(), auxiliary],
        expected_output_shape=(tf.TensorShape([4, 3]), tf.TensorShape([4, 3])),
        expected_num_trainable_weights=10,
    )
    # Sec. 7: the sub-encoder joins at the last layer, so the heads read 8 + 4 units.
    assert encoder.z_mean.kernel.shape == (12, 3)


def test_hidden_layers_are_tanh_and_heads_linear():
    encoder = VAEEncoder((4,), latent_dim=2)
    x = _vectors(width=6)
    mean, log_var = encoder(x)
    h = np.tanh(x @ np.asarray(encoder.hidden[0].kernel) + np.asarray(encoder.hidden[0].bias))
    expected = h @ np.asarray(encoder.z_mean.kernel) + np.asarray(encoder.z_mean.bias)
    np.testing.assert_allclose(np.asarray(mean), expected, rtol=1e-5, atol=1e-6)


def test_auxiliary_encoder_needs_two_inputs():
    with pytest.raises(ValueError, match=r"\[vectors, auxiliary\]"):
        VAEEncoder((4,), 2, auxiliary_units=(3,))(_vectors())


def test_bad_widths_are_clear_errors():
    with pytest.raises(ValueError, match="hidden_units"):
        VAEEncoder((), 2)
    with pytest.raises(ValueError, match="latent_dim"):
        VAEEncoder((4,), 0)
