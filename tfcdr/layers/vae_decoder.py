"""VAEDecoder: the dense decoder of a VAE, the mirror of `VAEEncoder`."""

import keras

from tfcdr.serialization import register


@register
class VAEDecoder(keras.layers.Layer):
    """Dense stack from a latent vector back to an interaction vector (eq. 5).

    Hidden layers `hidden_1` .. `hidden_n` use `activation` (tanh); the
    `reconstruction` layer has `output_dim` units and `output_activation`.
    The paper uses a sigmoid output because interactions are in [0, 1]
    (the default). Models that train with cross-entropy pass
    `output_activation=None` and take logits instead: the same function,
    but the loss from logits stays finite where a saturated sigmoid would
    round to 0 or 1, and ranking by logits avoids the ties saturation makes.

    Args:
        output_dim: number of items reconstructed.
        hidden_units: widths of the hidden layers, the encoder's reversed,
            e.g. (256, 512) for an encoder of (512, 256).
        activation: hidden activation (tanh).
        output_activation: activation of the reconstruction ("sigmoid"),
            or None for logits.
        kernel_regularizer: regularizer of every kernel (eq. 5's L2 term).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float [batch, latent] (for the target decoder of a shared
            VAE, the source and target latents concatenated, eq. 6).

    Returns:
        float [batch, output_dim].

    Example:
        >>> decoder = VAEDecoder(300, hidden_units=(256,))
        >>> decoder(np.zeros((2, 128))).shape
        TensorShape([2, 300])

    Reference:
        Ahangama et al., SharedVAE, eq. 5-6 and sec. 5.1.4 (tanh hidden layers,
        sigmoid output).
    """

    def __init__(
        self,
        output_dim,
        hidden_units=(256,),
        activation="tanh",
        output_activation="sigmoid",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        hidden_units = tuple(int(u) for u in hidden_units)
        if int(output_dim) < 1:
            raise ValueError(f"output_dim must be positive, got {output_dim}")
        if hidden_units and min(hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive widths, got {hidden_units}")
        self.output_dim = int(output_dim)
        self.hidden_units = hidden_units
        self.activation = keras.activations.get(activation)
        self.output_activation = keras.activations.get(output_activation)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.hidden = [
            keras.layers.Dense(
                units,
                activation=self.activation,
                kernel_regularizer=self.kernel_regularizer,
                name=f"hidden_{index + 1}",
            )
            for index, units in enumerate(hidden_units)
        ]
        self.reconstruction = keras.layers.Dense(
            self.output_dim,
            activation=self.output_activation,
            kernel_regularizer=self.kernel_regularizer,
            name="reconstruction",
        )

    def build(self, input_shape):
        width = input_shape[-1]
        for layer in self.hidden:
            layer.build((None, width))
            width = layer.units
        self.reconstruction.build((None, width))

    def call(self, inputs):
        x = inputs
        for layer in self.hidden:
            x = layer(x)
        return self.reconstruction(x)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[:-1]), self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "output_dim": self.output_dim,
                "hidden_units": list(self.hidden_units),
                "activation": keras.activations.serialize(self.activation),
                "output_activation": keras.activations.serialize(self.output_activation),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config
