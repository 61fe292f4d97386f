"""CrossUnit: one layer of two towers coupled by CoNet's cross connections."""

import keras
from keras import ops

from tfcdr.serialization import register


@register
class CrossUnit(keras.layers.Layer):
    """Two dense layers, one per tower, each also fed the other tower's input.

    Implements eq. (3) of CoNet with biases:

        a_A' = act(a_A W_A + a_B H + b_A)        (3a)
        a_B' = act(a_B W_B + a_A H + b_B)        (3b)

    `H` is the task relationship matrix: the transfer gate that decides how
    much of the other tower's representation reaches this one (eq. 4). As in
    the paper (its footnote 1) one `H` serves both directions; with
    `share_task_relationship=False` each direction has its own (`H_to_a`
    maps tower B into tower A, `H_to_b` the reverse), which also allows the
    two towers' input widths to differ. `H` maps the input width to
    `units` like `W`, so contiguous layers may have different widths.

    With `lasso_weight > 0` the layer adds the lasso penalty of eq. (8),
    `lasso_weight * sum_ij |h_ij|`, to its `losses` (an L1 regularizer on
    every `H`); this is CoNet-lasso.

    Weight names: `kernel_a`, `bias_a`, `kernel_b`, `bias_b` and
    `task_relationship` (shared) or `task_relationship_to_a`,
    `task_relationship_to_b`.

    Args:
        units: output width of each tower.
        activation: activation of both towers (ReLU in the paper).
        share_task_relationship: one `H` for both directions (the paper).
        lasso_weight: lambda of eq. (8); 0 disables the penalty.
        use_bias: add `b_A`, `b_B`.
        kernel_initializer: initializer of `W_A`, `W_B`.
        task_relationship_initializer: initializer of `H`.
        bias_initializer: initializer of the biases.
        kernel_regularizer: optional regularizer of `W_A`, `W_B`.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: pair `(a_A, a_B)` of float [batch, width] activations.

    Returns:
        Pair `(a_A', a_B')` of float [batch, units].

    Example:
        >>> unit = CrossUnit(32)
        >>> a, b = unit((np.zeros((2, 64)), np.zeros((2, 64))))
        >>> a.shape, b.shape
        (TensorShape([2, 32]), TensorShape([2, 32]))

    Reference:
        Hu, Zhang and Yang, CoNet: Collaborative Cross Networks for
        Cross-Domain Recommendation, CIKM 2018, eqs. (3), (4), (8).
    """

    def __init__(
        self,
        units,
        activation="relu",
        share_task_relationship=True,
        lasso_weight=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        task_relationship_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"units must be a positive width, got {units}")
        if float(lasso_weight) < 0:
            raise ValueError(f"lasso_weight must be >= 0, got {lasso_weight}")
        self.units = int(units)
        self.activation = keras.activations.get(activation)
        self.share_task_relationship = bool(share_task_relationship)
        self.lasso_weight = float(lasso_weight)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.task_relationship_initializer = keras.initializers.get(task_relationship_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"CrossUnit takes a pair of inputs (a_A, a_B), got {len(input_shape)}")
        width_a, width_b = int(input_shape[0][-1]), int(input_shape[1][-1])
        if self.share_task_relationship and width_a != width_b:
            raise ValueError(
                f"a shared task_relationship needs equal input widths, got {width_a} and {width_b}; "
                "use share_task_relationship=False for towers of different widths"
            )
        # Keras' L1 computes lasso_weight * sum|H|: exactly eq. (8).
        lasso = keras.regularizers.L1(self.lasso_weight) if self.lasso_weight else None

        def kernel(name, width, initializer, regularizer):
            # An unseeded Keras initializer instance repeats its draw for
            # every weight of the same shape; a clone draws afresh, so W_A,
            # W_B and the H's do not start equal.
            return self.add_weight(
                shape=(width, self.units), initializer=initializer.clone(), regularizer=regularizer, name=name
            )

        self.kernel_a = kernel("kernel_a", width_a, self.kernel_initializer, self.kernel_regularizer)
        self.kernel_b = kernel("kernel_b", width_b, self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias_a = self.add_weight(shape=(self.units,), initializer=self.bias_initializer, name="bias_a")
            self.bias_b = self.add_weight(shape=(self.units,), initializer=self.bias_initializer, name="bias_b")
        if self.share_task_relationship:
            self.task_relationship = kernel("task_relationship", width_a, self.task_relationship_initializer, lasso)
        else:
            self.task_relationship_to_a = kernel(
                "task_relationship_to_a", width_b, self.task_relationship_initializer, lasso
            )
            self.task_relationship_to_b = kernel(
                "task_relationship_to_b", width_a, self.task_relationship_initializer, lasso
            )

    def task_relationships(self):
        """The pair (H into tower A, H into tower B): one matrix twice when shared."""
        if self.share_task_relationship:
            return self.task_relationship, self.task_relationship
        return self.task_relationship_to_a, self.task_relationship_to_b

    def call(self, inputs):
        a, b = inputs
        to_a, to_b = self.task_relationships()
        new_a = ops.matmul(a, self.kernel_a) + ops.matmul(b, to_a)
        new_b = ops.matmul(b, self.kernel_b) + ops.matmul(a, to_b)
        if self.use_bias:
            new_a = new_a + self.bias_a
            new_b = new_b + self.bias_b
        return self.activation(new_a), self.activation(new_b)

    def compute_output_shape(self, input_shape):
        return tuple((*tuple(shape[:-1]), self.units) for shape in input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "share_task_relationship": self.share_task_relationship,
                "lasso_weight": self.lasso_weight,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "task_relationship_initializer": keras.initializers.serialize(self.task_relationship_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config
