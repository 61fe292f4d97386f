"""Shared test helpers: tiny splits, the layer test and the model tests.

Every layer and model test of the zoo goes through these, so each one checks
the same contract: shapes, weights, config round-trip, symbolic and eager
calls, a training step that reaches every weight, and saving.
"""

import functools
import json

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from tfcdr.data import inputs
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.splits import make_split
from tfcdr.data.synthetic import make_synthetic
from tfcdr.export import export_scoring


@functools.cache
def tiny_data(num_domains=2, implicit=True, seed=0):
    """A small synthetic dataset (200 users, 150 items per domain)."""
    return make_synthetic(
        num_domains=num_domains,
        num_users=200,
        num_items=150,
        interactions_per_user=(12, 6),
        implicit=implicit,
        seed=seed,
    )


@functools.cache
def tiny_split(protocol="loo-sampled", num_domains=2, implicit=True, seed=0):
    """A split of `tiny_data`, cached across tests (treat it as read-only)."""
    return make_split(tiny_data(num_domains, implicit, seed), protocol, seed=seed)


@functools.cache
def feature_split():
    """A small split whose users and items have side features."""
    rng = np.random.default_rng(0)
    users = [str(k) for k in range(80)]
    frames = {
        name: pd.DataFrame({"user": rng.choice(users, 1200), "item": rng.integers(0, 120, 1200).astype(str)})
        for name in ("source", "target")
    }
    user_table = pd.DataFrame({"gender": rng.choice(["F", "M"], 80), "age": rng.choice([1, 18, 25], 80)}, index=users)
    items = {
        name: pd.DataFrame(
            {"genres": rng.choice(["Action|Comedy", "Drama", "Comedy"], 120), "year": rng.integers(1950, 2000, 120)},
            index=np.arange(120).astype(str),
        )
        for name in frames
    }
    data = CrossDomainData.from_frames("toy", frames, implicit=True, user_features=user_table, item_features=items)
    return make_split(data, "loo-sampled", seed=0, num_negatives=20)


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_trainable_weights=None,
    expected_num_non_trainable_weights=0,
    call_kwargs=None,
):
    """Checks a layer the way every tfcdr layer must behave.

    - eager call gives `expected_output_shape` (a shape or a structure of
      shapes matching the output);
    - symbolic call on `keras.Input`s gives the same shapes;
    - weight counts are as expected;
    - `get_config` is JSON-serializable and `from_config` rebuilds a layer
      whose outputs equal the original's once weights are copied;
    - one gradient step: every trainable weight gets a non-zero gradient
      from the sum of the outputs (plus the layer's own losses).
    """
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    output = layer(input_data, **call_kwargs)
    _assert_shapes(output, expected_output_shape)

    def symbolic(value):
        value = np.asarray(value)
        return keras.Input(shape=value.shape[1:], batch_size=value.shape[0], dtype=str(value.dtype))

    symbolic_inputs = tf.nest.map_structure(symbolic, input_data)
    symbolic_output = layer_cls(**init_kwargs)(symbolic_inputs, **call_kwargs)
    _assert_shapes(symbolic_output, expected_output_shape)

    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    config = layer.get_config()
    json.dumps(config)
    clone = layer_cls.from_config(json.loads(json.dumps(config)))
    clone(input_data, **call_kwargs)
    clone.set_weights(layer.get_weights())
    tf.nest.map_structure(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6),
        _numpy(layer(input_data, **call_kwargs)),
        _numpy(clone(input_data, **call_kwargs)),
    )

    with tf.GradientTape() as tape:
        out = layer(input_data, **{**call_kwargs, "training": True} if "training" in _call_args(layer) else call_kwargs)
        total = sum(tf.reduce_sum(tf.cast(o, tf.float32)) for o in tf.nest.flatten(out))
        if layer.losses:
            total += tf.add_n(layer.losses)
    gradients = tape.gradient(total, layer.trainable_weights)
    for weight, gradient in zip(layer.trainable_weights, gradients, strict=True):
        assert gradient is not None, f"no gradient reaches {weight.path}"
        assert np.any(np.asarray(tf.convert_to_tensor(gradient)) != 0), f"zero gradient for {weight.path}"
    return layer


def run_model_test(model, split, batch_size=64, extra_skip=()):
    """One training step of a zoo model on `split` reaches every trainable weight.

    Also checks the config round-trips through JSON and the rebuilt model
    has the same weights layout, and that `score` returns one finite value
    per pair in every domain.
    """
    model.prepare(split)
    dataset = inputs.training_dataset(split, model.input_kind, batch_size=batch_size, negative_ratio=2, seed=0)
    batch = next(iter(dataset))
    x = batch[0]
    y = batch[1] if len(batch) > 1 else None
    sample_weight = batch[2] if len(batch) > 2 else None
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
    assert np.isfinite(float(loss)), "loss is not finite"
    gradients = tape.gradient(loss, model.trainable_weights)
    for weight, gradient in zip(model.trainable_weights, gradients, strict=True):
        if any(skip in weight.path for skip in extra_skip):
            continue
        assert gradient is not None, f"no gradient reaches {weight.path}"
        assert np.any(np.asarray(tf.convert_to_tensor(gradient)) != 0), f"zero gradient for {weight.path}"

    config = json.loads(json.dumps(model.get_config()))
    clone = type(model).from_config(config)
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]

    for domain in model.domains:
        users = tf.constant([0, 1, 2], tf.int32)
        items = tf.constant([0, 1, 2], tf.int32)
        scores = np.asarray(model.score(domain, users, items))
        assert scores.shape == (3,) and np.all(np.isfinite(scores))
    return loss


def run_model_saving_test(model, tmp_path):
    """`.keras` reload and SavedModel export both reproduce the model's scores."""
    users = tf.constant(np.arange(8) % model.num_users, tf.int32)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    export_dir = tmp_path / "saved_model"
    export_scoring(model, export_dir)
    served = tf.saved_model.load(str(export_dir))
    for domain in model.domains:
        items = tf.constant(np.arange(8) % model.num_items[domain], tf.int32)
        expected = np.asarray(model.score(domain, users, items))
        np.testing.assert_allclose(np.asarray(reloaded.score(domain, users, items)), expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            getattr(served, f"score_{domain}")(users, items).numpy(), expected, rtol=1e-5, atol=1e-6
        )
    return reloaded


def _assert_shapes(output, expected):
    if isinstance(expected, tuple) and all(isinstance(d, int | type(None)) for d in expected):
        assert tuple(output.shape) == expected, f"shape {tuple(output.shape)} != {expected}"
        return
    tf.nest.map_structure(lambda o, e: _assert_shapes(o, tuple(e)), output, expected)


def _numpy(structure):
    return tf.nest.map_structure(lambda t: np.asarray(t), structure)


def _call_args(layer):
    import inspect

    return inspect.signature(layer.call).parameters
