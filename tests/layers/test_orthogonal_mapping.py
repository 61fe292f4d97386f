import keras
import numpy as np
import pytest

from tests.test_case import run_layer_test
from tfcdr.layers.orthogonal_mapping import OrthogonalMapping


def _rows(n=5, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _orthogonality_error(mapping):
    x = np.asarray(mapping.kernel)
    return np.max(np.abs(x.T @ x - np.eye(len(x))))


def test_layer_contract():
    run_layer_test(OrthogonalMapping, {}, _rows(), expected_output_shape=(5, 4), expected_num_trainable_weights=1)


def test_layer_contract_inverse_and_penalty():
    run_layer_test(
        OrthogonalMapping,
        {"method": "penalty", "penalty_weight": 0.1},
        _rows(),
        expected_output_shape=(5, 4),
        expected_num_trainable_weights=1,
        call_kwargs={"inverse": True},
    )


def test_inverse_undoes_forward_and_matches_transpose():
    mapping = OrthogonalMapping()
    w = _rows()
    forward = np.asarray(mapping(w))
    x = np.asarray(mapping.kernel)
    np.testing.assert_allclose(forward, w @ x.T, atol=1e-5)
    np.testing.assert_allclose(np.asarray(mapping.inverse(forward)), w, atol=1e-5)


def _train(method, steps=30):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    mapping = OrthogonalMapping(method=method, penalty_weight=1e-4)
    model = keras.Model(inputs, mapping(inputs))
    # A large learning rate and a non-orthogonal target pull X far off the group.
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    w = _rows(64, 6)
    target = w @ (3.0 * np.random.default_rng(1).normal(size=(6, 6))).astype("float32")
    model.fit(w, target, epochs=1, batch_size=64 // steps + 1, verbose=0)
    return mapping


def test_polar_method_keeps_x_orthogonal_during_training():
    mapping = _train("polar")
    assert _orthogonality_error(mapping) < 1e-4
    w = _rows(3, 6, seed=2)
    np.testing.assert_allclose(np.asarray(mapping.inverse(mapping(w))), w, atol=1e-4)


def test_penalty_method_only_approximates_orthogonality():
    # The released code's soft constraint drifts: this is why polar is the default.
    assert _orthogonality_error(_train("penalty")) > 1e-2


def test_bad_method_is_refused():
    with pytest.raises(ValueError, match="method"):
        OrthogonalMapping(method="cayley")
