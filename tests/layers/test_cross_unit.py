import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers import CrossUnit


def _inputs(width_a=6, width_b=6, batch=5):
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(batch, width_a)).astype("float32"),
        rng.normal(size=(batch, width_b)).astype("float32"),
    )


def test_layer_contract_shared_task_relationship():
    run_layer_test(
        CrossUnit,
        {"units": 4, "lasso_weight": 0.1},
        _inputs(),
        expected_output_shape=(tf.TensorShape([5, 4]), tf.TensorShape([5, 4])),
        expected_num_trainable_weights=5,
    )


def test_layer_contract_one_task_relationship_per_direction_and_different_widths():
    run_layer_test(
        CrossUnit,
        {"units": 4, "share_task_relationship": False, "activation": "tanh"},
        _inputs(width_a=6, width_b=3),
        expected_output_shape=(tf.TensorShape([5, 4]), tf.TensorShape([5, 4])),
        expected_num_trainable_weights=6,
    )


@pytest.mark.parametrize("shared", [True, False])
def test_outputs_follow_equation_3(shared):
    a, b = _inputs(width_a=6, width_b=6)
    unit = CrossUnit(4, share_task_relationship=shared, bias_initializer="random_normal")
    out_a, out_b = unit((a, b))
    to_a, to_b = (np.asarray(h) for h in unit.task_relationships())
    if shared:
        assert np.array_equal(to_a, to_b)
    else:
        assert not np.allclose(to_a, to_b)
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    expected_a = relu(a @ np.asarray(unit.kernel_a) + b @ to_a + np.asarray(unit.bias_a))
    expected_b = relu(b @ np.asarray(unit.kernel_b) + a @ to_b + np.asarray(unit.bias_b))
    np.testing.assert_allclose(np.asarray(out_a), expected_a, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out_b), expected_b, rtol=1e-5, atol=1e-6)


def test_contiguous_layers_of_different_widths():
    unit = CrossUnit(3)
    out_a, out_b = unit(_inputs(width_a=8, width_b=8))
    assert unit.task_relationship.shape == (8, 3) and out_a.shape == out_b.shape == (5, 3)


@pytest.mark.parametrize("shared", [True, False])
def test_lasso_loss_is_lambda_times_sum_of_absolute_entries(shared):
    unit = CrossUnit(4, share_task_relationship=shared, lasso_weight=0.3)
    unit(_inputs())
    matrices = {id(h): np.asarray(h) for h in unit.task_relationships()}.values()
    expected = 0.3 * sum(np.abs(h).sum() for h in matrices)
    assert len(unit.losses) == len(matrices)
    assert float(sum(unit.losses)) == pytest.approx(expected, rel=1e-5)
    assert not CrossUnit(4).losses


def test_bad_hyperparameters_are_refused():
    with pytest.raises(ValueError, match="units"):
        CrossUnit(0)
    with pytest.raises(ValueError, match="lasso_weight"):
        CrossUnit(4, lasso_weight=-1.0)
    with pytest.raises(ValueError, match="equal input widths"):
        CrossUnit(4)(_inputs(width_a=6, width_b=3))
