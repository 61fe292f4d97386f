"""VAEEncoder: the dense encoder of a VAE, with an optional auxiliary sub-encoder."""

import keras
from keras import ops

from tfcdr.serialization import register


@register
class VAEEncoder(keras.layers.Layer):
    """Dense stack to the mean and log-variance of a Gaussian latent (eq. 3-4).

    Hidden layers `hidden_1` .. `hidden_n` use `activation` (tanh in the
    paper); the heads `z_mean` and `z_log_var` are linear, so the latent
    is `N(z_mean, exp(z_log_var))`. Draw from it with `Sampling`.

    With `auxiliary_units` the layer also takes a dense per-user vector
    (e.g. a Doc2Vec embedding or one-hot demographics) through its own
    stack `auxiliary_1` .. and concatenates that with the last hidden layer
    before the heads: the paper's sub-encoder merged at the encoder's final
    layer (sec. 7). Merging there rather than at the input keeps the dense
    auxiliary vector from dominating the sparse interaction vector.

    Args:
        hidden_units: widths of the hidden layers, e.g. (512, 256) for
            Amazon or (256,) for MovieLens.
        latent_dim: size of the latent layer (128).
        activation: hidden activation (tanh).
        auxiliary_units: widths of the auxiliary sub-encoder, e.g.
            (256, 128); empty for none.
        kernel_regularizer: regularizer of every kernel (the L2 term of
            eq. 5).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float [batch, input_dim], or `[vectors, auxiliary]` with
            auxiliary float [batch, auxiliary_dim] when `auxiliary_units`.

    Returns:
        Tuple `(z_mean, z_log_var)`, each float [batch, latent_dim].

    Example:
        >>> encoder = VAEEncoder((256,), latent_dim=128)
        >>> mean, log_var = encoder(np.zeros((2, 300)))

    Reference:
        Ahangama et al., cross-domain linking with shared VAEs ("SharedVAE"),
        eq. 3-4 and sec. 7.
    """

    def __init__(
        self,
        hidden_units=(256,),
        latent_dim=128,
        activation="tanh",
        auxiliary_units=(),
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        hidden_units = tuple(int(u) for u in hidden_units)
        auxiliary_units = tuple(int(u) for u in auxiliary_units or ())
        if not hidden_units or min(hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive widths, got {hidden_units}")
        if auxiliary_units and min(auxiliary_units) < 1:
            raise ValueError(f"auxiliary_units must be positive widths, got {auxiliary_units}")
        if int(latent_dim) < 1:
            raise ValueError(f"latent_dim must be positive, got {latent_dim}")
        self.hidden_units = hidden_units
        self.latent_dim = int(latent_dim)
        self.activation = keras.activations.get(activation)
        self.auxiliary_units = auxiliary_units
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

        def dense(units, name, activation=None):
            return keras.layers.Dense(
                units,
                activation=activation,
                kernel_regularizer=self.kernel_regularizer,
                name=name,
            )

        self.hidden = [dense(u, f"hidden_{i + 1}", self.activation) for i, u in enumerate(hidden_units)]
        self.auxiliary = [dense(u, f"auxiliary_{i + 1}", self.activation) for i, u in enumerate(auxiliary_units)]
        self.z_mean = dense(self.latent_dim, "z_mean")
        self.z_log_var = dense(self.latent_dim, "z_log_var")

    def build(self, input_shape):
        vector_shape, auxiliary_shape = self._split_shape(input_shape)
        width = _build_stack(self.hidden, vector_shape[-1])
        if self.auxiliary:
            width += _build_stack(self.auxiliary, auxiliary_shape[-1])
        self.z_mean.build((None, width))
        self.z_log_var.build((None, width))

    def call(self, inputs):
        vectors, auxiliary = self._split(inputs)
        h = vectors
        for layer in self.hidden:
            h = layer(h)
        if self.auxiliary:
            a = auxiliary
            for layer in self.auxiliary:
                a = layer(a)
            h = ops.concatenate([h, a], axis=-1)
        return self.z_mean(h), self.z_log_var(h)

    def _split(self, inputs):
        if not self.auxiliary:
            return inputs, None
        if not isinstance(inputs, list | tuple) or len(inputs) != 2:
            raise ValueError(
                f"a VAEEncoder with auxiliary_units takes [vectors, auxiliary]; got {type(inputs).__name__}"
            )
        return inputs[0], inputs[1]

    def _split_shape(self, input_shape):
        # A single shape is itself a tuple, so look at its first element.
        if input_shape and isinstance(input_shape[0], list | tuple):
            if not self.auxiliary:
                raise ValueError("this VAEEncoder has no auxiliary_units; it takes one input")
            return input_shape[0], input_shape[1]
        if self.auxiliary:
            raise ValueError("a VAEEncoder with auxiliary_units takes [vectors, auxiliary]; got one input")
        return input_shape, None

    def compute_output_shape(self, input_shape):
        vector_shape, _ = self._split_shape(input_shape)
        shape = (*tuple(vector_shape[:-1]), self.latent_dim)
        return shape, shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": list(self.hidden_units),
                "latent_dim": self.latent_dim,
                "activation": keras.activations.serialize(self.activation),
                "auxiliary_units": list(self.auxiliary_units),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config


def _build_stack(layers, width):
    """Builds dense layers in sequence from input `width`; returns the last width."""
    for layer in layers:
        layer.build((None, width))
        width = layer.units
    return width
