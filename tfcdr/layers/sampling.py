"""Sampling: the reparameterization trick of a VAE."""

import keras
from keras import ops

from tfcdr.serialization import register


@register
class Sampling(keras.layers.Layer):
    """Draws `z = z_mean + exp(z_log_var / 2) * eps`, `eps ~ N(0, I)` (eq. 4).

    The draw is differentiable in `z_mean` and `z_log_var`, so the encoder
    trains through it. Outside training the layer returns `z_mean`: scores
    are then deterministic, which evaluation, reloading and serving need.

    Args:
        seed: optional int seed of the noise.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(z_mean, z_log_var)`, each float [batch, latent].
        training: draw noise when True; return `z_mean` otherwise.

    Returns:
        float [batch, latent].

    Example:
        >>> z = Sampling(seed=0)((np.zeros((2, 4)), np.zeros((2, 4))), training=True)

    Reference:
        Kingma and Welling, Auto-Encoding Variational Bayes, ICLR 2014;
        SharedVAE eq. 4.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs, training=None):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        noise = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config
