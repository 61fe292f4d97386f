"""SparseAdam: Adam whose embedding-table updates touch only the batch's rows."""

import keras
import tensorflow as tf
from keras import ops

from tfcdr.serialization import register


def unique_rows(gradient):
    """`gradient` (a `tf.IndexedSlices`) with each row once, duplicate rows' values summed.

    A batch that looks a user up twice yields her row twice in the
    gradient; the dense gradient holds their sum, and Adam's moments must
    see that sum, not two separate updates.
    """
    rows, positions = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, positions, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, gradient.dense_shape)


@register
class SparseAdam(keras.optimizers.Adam):
    """Adam with lazy, row-sparse updates for gradients that are `tf.IndexedSlices`.

    The gradient of an embedding look-up is a `tf.IndexedSlices` holding
    the batch's rows only. Keras 3's Adam (`update_step`) mixes it with the
    full-size moments (`gradient - m`), which turns it into a dense tensor:
    every step then reads and writes the whole table and both moments, so a
    step costs O(vocabulary) instead of O(batch) (keras-team/keras issue
    19992). Here such a gradient updates only its rows, as the "lazy Adam"
    of TF1's `LazyAdamOptimizer` and TF Addons' `LazyAdam`:

        m_r <- m_r + (1 - beta_1) (g_r - m_r)
        v_r <- v_r + (1 - beta_2) (g_r^2 - v_r)
        theta_r <- theta_r - alpha_t m_r / (sqrt(v_r) + epsilon),
        alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)

    for the rows r in the batch (duplicates summed first), with t the
    optimizer's global iteration (Kingma & Ba, 2015, Algorithm 1, as Keras'
    Adam writes it). The moments of rows outside the batch are not decayed
    and their parameters do not move; a row that is in every batch follows
    exactly Adam's trajectory. Dense gradients get Keras' Adam update
    unchanged, and `amsgrad` keeps `v_hat` per row.

    Gradient clipping (`clipnorm`, `clipvalue`, `global_clipnorm`) keeps
    the gradient sparse, on the duplicate-summed rows so that norms equal
    the dense ones. Options that act on whole tables every step or that
    Keras cannot apply to a `tf.IndexedSlices` are refused:
    `weight_decay` (decays every row each step; use an L2 on the looked-up
    rows, as the zoo's models do), `gradient_accumulation_steps` (dense
    accumulators) and `loss_scale_factor`. `use_ema` works but its
    moving averages are updated in full each step.

    Args:
        learning_rate, beta_1, beta_2, epsilon, amsgrad: as in
            `keras.optimizers.Adam`.
        **kwargs: other `keras.optimizers.Optimizer` arguments (`clipnorm`,
            `clipvalue`, `global_clipnorm`, `use_ema`, `name`, ...).

    Example:
        >>> model.compile(optimizer=SparseAdam(1e-3))

    Reference:
        Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        for option in ("weight_decay", "gradient_accumulation_steps", "loss_scale_factor"):
            if kwargs.get(option) is not None:
                raise ValueError(
                    f"SparseAdam does not support {option}={kwargs[option]!r}: it would update or convert whole "
                    "embedding tables every step; use keras.optimizers.Adam (training option optimizer='adam')"
                )
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad, **kwargs
        )

    def _clip_gradients(self, grads):
        if not (self.clipnorm or self.clipvalue or self.global_clipnorm):
            return grads
        grads = [unique_rows(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        if self.global_clipnorm and self.global_clipnorm > 0 and not (self.clipnorm and self.clipnorm > 0):
            # Keras' global clipping multiplies an IndexedSlices by a tensor,
            # which densifies it; TensorFlow's scales the values only.
            return tf.clip_by_global_norm(grads, self.global_clipnorm)[0]
        # Per-variable clipnorm (tf.clip_by_norm) and clipvalue (ops.clip)
        # keep a tf.IndexedSlices as it is.
        return super()._clip_gradients(grads)

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        gradient = unique_rows(gradient)
        rows = gradient.indices
        dtype = variable.dtype
        grad = tf.cast(gradient.values, dtype)
        lr = ops.cast(learning_rate, dtype)
        # The global iteration, as in Keras' Adam: a row's bias correction
        # does not depend on how often the row was seen.
        step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), step)
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)

        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        # Same arithmetic as Keras' dense update, on the rows only, so that
        # a row gets bit-for-bit the values dense Adam would give it.
        m_rows = self._read_rows(m, rows)
        m_rows = m_rows + (grad - m_rows) * (1 - self.beta_1)
        v_rows = self._read_rows(v, rows)
        v_rows = v_rows + (ops.square(grad) - v_rows) * (1 - self.beta_2)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            v_rows = ops.maximum(self._read_rows(v_hat, rows), v_rows)
            self.assign(v_hat, tf.IndexedSlices(v_rows, rows))
        self.assign_sub(variable, tf.IndexedSlices((m_rows * alpha) / (ops.sqrt(v_rows) + self.epsilon), rows))

    @staticmethod
    def _read_rows(variable, rows):
        # A gather on the tf.Variable itself (ResourceGather) reads only the
        # rows; converting the Keras variable to a tensor would read it all.
        if isinstance(variable, keras.Variable):
            variable = variable.value
        return tf.gather(variable, rows)


# The zoo's training option `optimizer`: its names and what they build.
OPTIMIZERS = {"sparse_adam": SparseAdam, "adam": keras.optimizers.Adam}
DEFAULT_OPTIMIZER = "sparse_adam"


def make_optimizer(optimizer=DEFAULT_OPTIMIZER, learning_rate=1e-3):
    """The optimizer a zoo model is compiled with.

    Args:
        optimizer: a name of `OPTIMIZERS` ("sparse_adam", the default:
            row-sparse `SparseAdam`; "adam": Keras' dense Adam), or a
            `keras.optimizers.Optimizer`, returned as it is. None means
            the default.
        learning_rate: step size of a named optimizer.
    """
    if optimizer is None:
        optimizer = DEFAULT_OPTIMIZER
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a keras Optimizer, got {optimizer!r}")
    return OPTIMIZERS[optimizer](learning_rate)
