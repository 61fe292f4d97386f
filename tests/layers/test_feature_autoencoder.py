import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.feature_autoencoder import FeatureAutoencoder


def _features(n=6, dim=5, seed=0):
    return (np.random.default_rng(seed).random((n, dim)) < 0.4).astype("float32")


def test_layer_contract_ae():
    run_layer_test(
        FeatureAutoencoder,
        {"feature_dim": 5, "embedding_dim": 3},
        _features(),
        expected_output_shape=(6, 3),
        expected_num_trainable_weights=4,
    )


def test_layer_contract_vae():
    run_layer_test(
        FeatureAutoencoder,
        {"feature_dim": 5, "embedding_dim": 3, "autoencoder": "vae", "seed": 1},
        _features(),
        expected_output_shape=(6, 3),
        expected_num_trainable_weights=6,
    )


def test_ae_loss_is_eq_1_summed_over_features():
    layer = FeatureAutoencoder(5, 3)
    x = _features()
    reconstruction = np.asarray(layer.decoder(layer(x)))
    expected = np.mean(np.sum((x - reconstruction) ** 2, axis=1))
    assert float(layer.reconstruction_loss(x)) == pytest.approx(expected, rel=1e-5)


def test_vae_code_is_the_deterministic_mean_and_loss_adds_kl():
    layer = FeatureAutoencoder(5, 3, autoencoder="vae", seed=0)
    x = _features()
    np.testing.assert_allclose(np.asarray(layer(x)), np.asarray(layer(x)))
    mean, log_var = np.asarray(layer.encoder(x)), np.asarray(layer.encoder_log_var(x))
    reconstruction = np.asarray(layer.decoder(mean))
    kl = -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=1)
    expected = np.mean(np.sum((x - reconstruction) ** 2, axis=1) + kl)
    assert float(layer.reconstruction_loss(x, training=False)) == pytest.approx(expected, rel=1e-5)


def test_training_call_adds_weighted_loss():
    layer = FeatureAutoencoder(5, 3, reconstruction_weight=0.5)
    x = _features()
    layer(x, training=True)
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(0.5 * float(layer.reconstruction_loss(x)), rel=1e-5)
    layer(x, training=False)
    assert not layer.losses


def test_reconstruction_improves_with_training():
    keras.utils.set_random_seed(0)
    layer = FeatureAutoencoder(5, 3)
    x = _features(64)
    optimizer = keras.optimizers.Adam(0.05)
    before = float(layer.reconstruction_loss(x))
    for _ in range(100):
        with tf.GradientTape() as tape:
            loss = layer.reconstruction_loss(x)
        optimizer.apply(tape.gradient(loss, layer.trainable_weights), layer.trainable_weights)
    assert float(layer.reconstruction_loss(x)) < 0.5 * before


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="autoencoder"):
        FeatureAutoencoder(5, autoencoder="aae")
    with pytest.raises(ValueError, match="positive"):
        FeatureAutoencoder(0)
