"""FeatureAutoencoder: DDTCDR's one-layer feature encoder and decoder."""

import keras
from keras import ops

from tfcdr.serialization import register

TYPES = ("ae", "vae")


@register
class FeatureAutoencoder(keras.layers.Layer):
    """Encodes a dense feature vector into a small embedding and decodes it back.

    DDTCDR (sec. 3.1) turns each domain's user and item features into
    feature embeddings with a one-layer MLP encoder, trained with a one-layer
    MLP decoder on the reconstruction loss of eq. 1,
    `L = ||x - dec(enc(x))||^2` (summed over features, averaged over rows).
    With `autoencoder="vae"` (Table 7's VAE) the encoder gives the mean and
    log-variance of a Gaussian code, the decoder reads a reparameterized
    sample, and the loss adds `kl_weight * KL(q(z|x) || N(0, I))`.

    The layer's output, what a recommender reads, is the code: `enc(x)` for
    the AE and the mean for the VAE, so scoring is deterministic. When called
    with `training=True` it also adds `reconstruction_weight` times its
    reconstruction loss to `self.losses`, which is how a model fine-tunes the
    autoencoder jointly with its own loss; `reconstruction_loss` gives the
    unweighted loss for pre-training (`tfcdr.training.pretrain_features`).

    Args:
        feature_dim: width of the feature vectors (the decoder's output).
        embedding_dim: width of the code (8, as in the paper).
        autoencoder: "ae" or "vae".
        activation: activation of the AE encoder ("tanh"); the VAE's mean
            and log-variance heads are linear.
        kl_weight: weight of the KL term ("vae" only).
        reconstruction_weight: weight of the loss added when training.
        seed: seed of the VAE's sampling noise.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float [batch, feature_dim].
        training: bool; True adds the weighted reconstruction loss.

    Returns:
        float [batch, embedding_dim] feature embeddings.

    Example:
        >>> autoencoder = FeatureAutoencoder(feature_dim=40)
        >>> autoencoder(np.zeros((2, 40), "float32")).shape
        TensorShape([2, 8])

    Reference:
        Li & Tuzhilin, DDTCDR, WSDM 2020 (sec. 3.1, eq. 1; Table 7 AE vs
        VAE); Kingma & Welling, Auto-Encoding Variational Bayes, 2013.
    """

    def __init__(
        self,
        feature_dim,
        embedding_dim=8,
        autoencoder="ae",
        activation="tanh",
        kl_weight=1.0,
        reconstruction_weight=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(feature_dim) < 1 or int(embedding_dim) < 1:
            raise ValueError(f"feature_dim and embedding_dim must be positive, got {feature_dim}, {embedding_dim}")
        if autoencoder not in TYPES:
            raise ValueError(f"autoencoder must be one of {TYPES}, got {autoencoder!r}")
        if float(kl_weight) < 0 or float(reconstruction_weight) < 0:
            raise ValueError("kl_weight and reconstruction_weight must be >= 0")
        self.feature_dim = int(feature_dim)
        self.embedding_dim = int(embedding_dim)
        self.autoencoder = autoencoder
        self.activation = keras.activations.get(activation)
        self.kl_weight = float(kl_weight)
        self.reconstruction_weight = float(reconstruction_weight)
        self.seed = seed
        variational = autoencoder == "vae"
        self.encoder = keras.layers.Dense(
            self.embedding_dim, activation=None if variational else self.activation, name="encoder"
        )
        self.encoder_log_var = keras.layers.Dense(self.embedding_dim, name="encoder_log_var") if variational else None
        self.decoder = keras.layers.Dense(self.feature_dim, name="decoder")
        self.seed_generator = keras.random.SeedGenerator(seed) if variational else None

    def build(self, input_shape=None):
        self.encoder.build((None, self.feature_dim))
        if self.encoder_log_var is not None:
            self.encoder_log_var.build((None, self.feature_dim))
        self.decoder.build((None, self.embedding_dim))

    def call(self, inputs, training=None):
        code = self.encoder(inputs)
        if training and self.reconstruction_weight:
            self.add_loss(self.reconstruction_weight * self._loss(inputs, code, training=True))
        return code

    def reconstruction_loss(self, inputs, training=True):
        """Eq. 1 (plus the KL term for the VAE), averaged over the rows of `inputs`."""
        return self._loss(inputs, self.encoder(inputs), training=training)

    def _loss(self, inputs, code, training):
        if self.encoder_log_var is None:
            reconstruction = self.decoder(code)
            return ops.mean(ops.sum(ops.square(inputs - reconstruction), axis=-1))
        log_var = self.encoder_log_var(inputs)
        sample = code
        if training:
            noise = keras.random.normal(ops.shape(code), seed=self.seed_generator)
            sample = code + ops.exp(0.5 * log_var) * noise
        reconstruction = self.decoder(sample)
        error = ops.sum(ops.square(inputs - reconstruction), axis=-1)
        kl = -0.5 * ops.sum(1.0 + log_var - ops.square(code) - ops.exp(log_var), axis=-1)
        return ops.mean(error + self.kl_weight * kl)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[:-1]), self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "feature_dim": self.feature_dim,
                "embedding_dim": self.embedding_dim,
                "autoencoder": self.autoencoder,
                "activation": keras.activations.serialize(self.activation),
                "kl_weight": self.kl_weight,
                "reconstruction_weight": self.reconstruction_weight,
                "seed": self.seed,
            }
        )
        return config
