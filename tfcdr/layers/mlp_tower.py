"""MLPTower: the NCF-MLP tower of named fully connected layers."""

import keras

from tfcdr.serialization import register


@register
class MLPTower(keras.layers.Layer):
    """ReLU layers `fc_1` ... `fc_n` followed by a one-unit `prediction` layer.

    The layer names are stable so that other code can freeze, copy or
    transfer them by name (network-based layer transfer reads `fc_1`..`fc_4`).

    Args:
        hidden_units: widths of the hidden layers, e.g. (64, 32, 16, 8).
        activation: hidden activation.
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: optional regularizer of every kernel.
        dropout: dropout rate after each hidden layer.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float [batch, features].
        training: bool, for dropout.

    Returns:
        float [batch] logits (no sigmoid: losses take logits, and ranking by
        logits avoids the ties a saturated sigmoid creates).

    Example:
        >>> tower = MLPTower((64, 32, 16, 8))
        >>> tower(np.zeros((2, 64))).shape
        TensorShape([2])
    """

    def __init__(
        self,
        hidden_units=(64, 32, 16, 8),
        activation="relu",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        hidden_units = tuple(int(u) for u in hidden_units)
        if not hidden_units or min(hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive widths, got {hidden_units}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.hidden_units = hidden_units
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dropout = dropout
        self.hidden = [
            keras.layers.Dense(
                units,
                activation=self.activation,
                kernel_initializer=_fresh(self.kernel_initializer),
                kernel_regularizer=self.kernel_regularizer,
                name=f"fc_{index + 1}",
            )
            for index, units in enumerate(hidden_units)
        ]
        self.dropouts = [keras.layers.Dropout(dropout) for _ in hidden_units]
        self.prediction = keras.layers.Dense(1, kernel_initializer=_fresh(self.kernel_initializer), name="prediction")

    def build(self, input_shape):
        width = input_shape[-1]
        for layer in self.hidden:
            layer.build((None, width))
            width = layer.units
        self.prediction.build((None, width))

    def call(self, inputs, training=None):
        x = inputs
        for layer, dropout in zip(self.hidden, self.dropouts, strict=True):
            x = dropout(layer(x), training=training)
        return keras.ops.squeeze(self.prediction(x), axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": list(self.hidden_units),
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "dropout": self.dropout,
            }
        )
        return config


def _fresh(initializer):
    """A new instance per weight: one unseeded instance repeats its draw for equal shapes."""
    return keras.initializers.get(keras.initializers.serialize(initializer))
