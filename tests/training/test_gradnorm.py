import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from tfcdr.training.gradnorm import MIN_WEIGHT, GradNormModel

NAMES = ("a", "b")


class TwoTasks(GradNormModel):
    """A shared tanh layer and one linear head per task; task "a"'s loss is 100x."""

    gradnorm_layer = "shared"

    def __init__(self, scale=100.0, **kwargs):
        super().__init__(loss_names=list(NAMES), **kwargs)
        self.scale = scale
        self.shared = keras.layers.Dense(8, activation="tanh", name="shared")
        self.heads = {n: keras.layers.Dense(1, name=f"head_{n}") for n in NAMES}

    def call(self, x, training=None):
        hidden = self.shared(x)
        return {n: ops.squeeze(self.heads[n](hidden), -1) for n in NAMES}

    def domain_losses(self, x, y, y_pred, training=True):
        return {n: (self.scale if n == "a" else 1.0) * ops.mean(ops.square(y[n] - y_pred[n])) for n in NAMES}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    direction = rng.normal(size=4)
    y = {
        "a": np.tanh(x @ direction).astype("float32"),
        "b": np.tanh(x @ (direction + 0.3 * rng.normal(size=4))).astype("float32"),
    }
    return x, y


class WeightLog(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.task_weights.numpy().copy())


def _fit(epochs=4, **kwargs):
    keras.utils.set_random_seed(0)
    model = TwoTasks(**kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    log = WeightLog()
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, callbacks=[log])
    return model, history, np.array(log.weights)


def test_weight_of_the_small_loss_rises_and_weights_stay_positive_summing_to_p():
    # A large weight learning rate drives "a"'s weight into the clip at
    # MIN_WEIGHT, which renormalization scales by p / sum(w) (about 1 here).
    model, history, weights = _fit(weight_learning_rate=0.5)
    assert weights[-1, 1] > 1.5 > 0.5 > weights[-1, 0]
    assert weights.min() > 0.9 * MIN_WEIGHT
    np.testing.assert_allclose(weights.sum(axis=1), 2.0, rtol=1e-5)
    for name in NAMES:
        assert f"{name}_loss" in history.history and f"{name}_weight" in history.history
    np.testing.assert_allclose(np.add(history.history["a_weight"], history.history["b_weight"]), 2.0, rtol=1e-5)


def test_first_epoch_mean_is_the_initial_loss():
    model, history, _ = _fit(epochs=2)
    assert float(model.initial_loss_ready.numpy()) == 1.0
    assert float(model.initial_loss_steps.numpy()) == 8  # 128 rows / 16, first epoch only
    initial = model.initial_loss_sum.numpy() / 8
    np.testing.assert_allclose(initial, [history.history["a_loss"][0], history.history["b_loss"][0]], rtol=1e-4)


def test_equal_weighting_keeps_ones_while_zero_asymmetry_still_balances_norms():
    _, history, weights = _fit(epochs=2, loss_weighting="equal")
    np.testing.assert_array_equal(weights, 1.0)
    assert "gradnorm_loss" not in history.history
    _, _, balanced = _fit(epochs=2, asymmetry=0.0, weight_learning_rate=0.1)
    # gamma = 0 equalizes G_k = w_k g_k: the 100x loss loses weight.
    assert balanced[-1, 0] < 0.5 < 1.5 < balanced[-1, 1]


def test_log_p_ranks_by_loss_magnitude():
    # The paper's constant L_k(0) cancels in r_k, which then compares loss
    # sizes: the 100x loss gets the larger target norm and gains weight.
    _, _, weights = _fit(epochs=2, initial_loss="log_p", weight_learning_rate=0.1)
    assert weights[-1, 0] > weights[-1, 1]


def test_target_norm_is_a_constant_of_the_gradnorm_loss():
    model = TwoTasks(asymmetry=1.5)
    weights = tf.constant([0.5, 1.5])
    norms = tf.constant([4.0, 1.0])
    ratios = tf.constant([0.8, 1.2])
    with tf.GradientTape() as tape:
        tape.watch(weights)
        loss = model.gradnorm_loss(weights, norms, ratios)
    actual = weights * norms
    target = tf.reduce_mean(actual) * ratios**1.5
    np.testing.assert_allclose(float(loss), float(tf.reduce_sum(tf.abs(actual - target))), rtol=1e-6)
    # d|G_k - T_k|/dw_k = sign(G_k - T_k) g_k: nothing flows through T_k.
    np.testing.assert_allclose(tape.gradient(loss, weights), np.sign(actual - target) * norms, rtol=1e-6)


def test_asymmetry_pushes_the_slower_task_only_when_positive():
    norms, ratios, weights = tf.constant([1.0, 1.0]), tf.constant([0.5, 1.5]), tf.constant([1.0, 1.0])
    gradients = {}
    for gamma in (0.0, 1.0):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = TwoTasks(asymmetry=gamma).gradnorm_loss(weights, norms, ratios)
        gradients[gamma] = tape.gradient(loss, weights).numpy()
    # gamma = 0: equal norms are already on target. gamma = 1: the slower
    # task (ratio 1.5) has a higher target, so descent raises its weight.
    assert float(TwoTasks(asymmetry=0.0).gradnorm_loss(weights, norms, ratios)) == 0.0
    assert gradients[1.0][1] < 0 < gradients[1.0][0]


@pytest.mark.parametrize(
    "kwargs", [{"loss_weighting": "dynamic"}, {"initial_loss": "first_batch"}, {"asymmetry": -1.0}]
)
def test_bad_options_raise(kwargs):
    with pytest.raises(ValueError):
        TwoTasks(**kwargs)
