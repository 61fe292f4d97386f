import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers.shared_vae import SharedVAE


def _inputs(batch=4, source=9, target=7, seed=0):
    rng = np.random.default_rng(seed)
    return [
        (rng.random((batch, source)) < 0.4).astype("float32"),
        (rng.random((batch, target)) < 0.4).astype("float32"),
    ]


def _shapes(batch=4, source=9, target=7, latent=3, mapped=False):
    shapes = {"source_output": [batch, source], "target_output": [batch, target]}
    for role in ("source", "target"):
        for part in ("mean", "log_var", "z"):
            shapes[f"{role}_{part}"] = [batch, latent]
    if mapped:
        shapes["mapped_z"] = [batch, latent]
    return {k: tf.TensorShape(v) for k, v in shapes.items()}


BASE = {"source_dim": 9, "target_dim": 7, "hidden_units": (5,), "latent_dim": 3}


@pytest.mark.parametrize("link", ["latent", "none"])
def test_layer_contract(link):
    run_layer_test(
        SharedVAE,
        {
            **BASE,
            "link": link,
            "seed": 0,
        },
        _inputs(),
        expected_output_shape=_shapes(),
        expected_num_trainable_weights=20,
    )


def test_layer_contract_cold_start_mapping():
    vae = run_layer_test(
        SharedVAE,
        {
            **BASE,
            "link": "mapped",
        },
        _inputs(),
        expected_output_shape=_shapes(mapped=True),
        expected_num_trainable_weights=22,
    )
    assert vae.mapping.kernel.shape == (3, 3)


def test_layer_contract_with_auxiliary_information():
    auxiliary = np.random.default_rng(2).normal(size=(4, 6)).astype("float32")
    run_layer_test(
        SharedVAE,
        {
            **BASE,
            "auxiliary_units": (4,),
        },
        [*_inputs(), auxiliary],
        expected_output_shape=_shapes(),
        expected_num_trainable_weights=24,
    )


def test_transfer_is_asymmetric():
    """Eq. 6: the target decoder reads [z_s, z_t]; the source decoder z_s only."""
    vae = SharedVAE(9, 7, hidden_units=(5,), latent_dim=3)
    vae(_inputs())
    rng = np.random.default_rng(3)
    z_s, z_t = (tf.constant(rng.normal(size=(4, 3)), tf.float32) for _ in range(2))
    z_t_moved = z_t + tf.constant(rng.normal(size=(4, 3)), tf.float32)
    z_s_moved = z_s + tf.constant(rng.normal(size=(4, 3)), tf.float32)
    # The source output has no way to depend on z_t ...
    source_before = np.asarray(vae(_inputs(), training=False)["source_output"])
    moved_inputs = _inputs()
    moved_inputs[1] = 1.0 - moved_inputs[1]
    np.testing.assert_array_equal(np.asarray(vae(moved_inputs, training=False)["source_output"]), source_before)
    # ... while the target output reads both latents.
    assert vae.target_decoder.hidden[0].kernel.shape == (6, 5)
    target = np.asarray(vae.decode_target(z_s, z_t))
    assert not np.allclose(np.asarray(vae.decode_target(z_s_moved, z_t)), target)
    assert not np.allclose(np.asarray(vae.decode_target(z_s, z_t_moved)), target)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([z_s, z_t])
        source = vae.decode_source(z_s)
        target = vae.decode_target(z_s, z_t)
    assert tape.gradient(source, z_t) is None
    assert np.any(tape.gradient(target, z_s).numpy() != 0)


def test_cold_start_link_predicts_target_without_target_data():
    vae = SharedVAE(9, 7, hidden_units=(5,), latent_dim=3, link="mapped")
    inputs = _inputs()
    before = np.asarray(vae(inputs)["target_output"])
    inputs[1] = np.zeros_like(inputs[1])
    np.testing.assert_array_equal(np.asarray(vae(inputs)["target_output"]), before)
    inputs[0] = 1.0 - inputs[0]
    assert not np.allclose(np.asarray(vae(inputs)["target_output"]), before)


def test_unknown_link_is_a_clear_error():
    with pytest.raises(ValueError, match="link must be one of"):
        SharedVAE(3, 3, link="both")
