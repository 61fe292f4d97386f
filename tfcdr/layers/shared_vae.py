"""SharedVAE: a source and a target VAE linked at the latent layer."""

import keras
from keras import ops

from tfcdr.layers.sampling import Sampling
from tfcdr.layers.vae_decoder import VAEDecoder
from tfcdr.layers.vae_encoder import VAEEncoder
from tfcdr.serialization import register

LINKS = ("latent", "none", "mapped")


@register
class SharedVAE(keras.layers.Layer):
    """Two VAEs whose target decoder reads the source latent (eq. 6).

    Each domain has its own encoder (`source_encoder`, `target_encoder`,
    eq. 3-4) and decoder, so each keeps its own distributional properties.
    `link` says what the target decoder reads:

    - "latent" (eq. 6): the concatenation `[z_s, z_t]`. The source decoder
      reads `z_s` only, so the transfer is asymmetric: nothing of the
      (sparser) target reaches the source reconstruction.
    - "mapped" (sec. 6, eq. 13-15, the cold-start model): an intermediate
      layer `h = mapping(z_s)` (one dense layer, `activation`). Target
      reconstruction and prediction then need no target data; the model's
      mapping loss (eq. 16) pulls `h` toward the target encoder's `z_t`.
    - "none": `z_t` only, two independent VAEs (the Single ablation).

    The decoders mirror the encoders (`hidden_units` reversed).

    Args:
        source_dim: number of source items.
        target_dim: number of target items.
        hidden_units: encoder hidden widths, e.g. (512, 256) or (256,).
        latent_dim: latent size of each domain (128).
        link: "latent", "mapped" or "none" (above).
        activation: hidden activation (tanh).
        output_activation: decoder output activation ("sigmoid", the
            paper's); None gives logits.
        auxiliary_units: widths of the auxiliary sub-encoder each encoder
            gets (sec. 7); empty for none.
        kernel_regularizer: regularizer of every kernel (eq. 5's L2 term).
        seed: seed of the reparameterization noise.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `[source_vectors, target_vectors]` float [batch, source_dim]
            and [batch, target_dim], plus `auxiliary` float [batch, F] as a
            third element when `auxiliary_units`.
        training: sample the latents (else use their means).

    Returns:
        Dict of float tensors: `source_output` [batch, source_dim],
        `target_output` [batch, target_dim], and `<role>_mean`,
        `<role>_log_var`, `<role>_z` [batch, latent_dim] for role in
        (source, target); with link "mapped" also `mapped_z`.

    Example:
        >>> vae = SharedVAE(300, 2262, hidden_units=(256,), latent_dim=128)
        >>> out = vae([np.zeros((2, 300)), np.zeros((2, 2262))])
        >>> out["target_output"].shape
        TensorShape([2, 2262])

    Reference:
        Ahangama et al., SharedVAE, sec. 4.2 (eq. 6-7, Fig. 1), sec. 6
        (eq. 13-15, Fig. 4), sec. 7 (Fig. 5).
    """

    def __init__(
        self,
        source_dim,
        target_dim,
        hidden_units=(256,),
        latent_dim=128,
        link="latent",
        activation="tanh",
        output_activation="sigmoid",
        auxiliary_units=(),
        kernel_regularizer=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if link not in LINKS:
            raise ValueError(f"link must be one of {LINKS}, got {link!r}")
        self.source_dim = int(source_dim)
        self.target_dim = int(target_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.latent_dim = int(latent_dim)
        self.link = link
        self.activation = keras.activations.get(activation)
        self.output_activation = keras.activations.get(output_activation)
        self.auxiliary_units = tuple(int(u) for u in auxiliary_units or ())
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.seed = None if seed is None else int(seed)

        def encoder(name):
            return VAEEncoder(
                self.hidden_units,
                self.latent_dim,
                activation=self.activation,
                auxiliary_units=self.auxiliary_units,
                kernel_regularizer=self.kernel_regularizer,
                name=name,
            )

        def decoder(dim, name):
            return VAEDecoder(
                dim,
                self.hidden_units[::-1],
                activation=self.activation,
                output_activation=self.output_activation,
                kernel_regularizer=self.kernel_regularizer,
                name=name,
            )

        self.source_encoder = encoder("source_encoder")
        self.target_encoder = encoder("target_encoder")
        self.sampling = Sampling(self.seed, name="sampling")
        self.source_decoder = decoder(self.source_dim, "source_decoder")
        self.target_decoder = decoder(self.target_dim, "target_decoder")
        self.mapping = (
            keras.layers.Dense(
                self.latent_dim,
                activation=self.activation,
                kernel_regularizer=self.kernel_regularizer,
                name="mapping",
            )
            if link == "mapped"
            else None
        )

    @property
    def uses_auxiliary(self):
        return bool(self.auxiliary_units)

    def build(self, input_shape):
        source_shape, target_shape = input_shape[0], input_shape[1]
        auxiliary_shape = input_shape[2] if self.uses_auxiliary else None
        for encoder, shape in (
            (self.source_encoder, source_shape),
            (self.target_encoder, target_shape),
        ):
            encoder.build([shape, auxiliary_shape] if self.uses_auxiliary else shape)
        self.source_decoder.build((None, self.latent_dim))
        width = 2 * self.latent_dim if self.link == "latent" else self.latent_dim
        self.target_decoder.build((None, width))
        if self.mapping is not None:
            self.mapping.build((None, self.latent_dim))

    def call(self, inputs, training=None):
        auxiliary = inputs[2] if self.uses_auxiliary else None
        outputs = {}
        for role, encode in (
            ("source", self.encode_source),
            ("target", self.encode_target),
        ):
            mean, log_var, z = encode(inputs[0 if role == "source" else 1], auxiliary, training=training)
            outputs.update({f"{role}_mean": mean, f"{role}_log_var": log_var, f"{role}_z": z})
        code = self.target_code(outputs["source_z"], outputs["target_z"])
        if self.link == "mapped":
            outputs["mapped_z"] = code
        outputs["source_output"] = self.source_decoder(outputs["source_z"])
        outputs["target_output"] = self.target_decoder(code)
        return outputs

    def encode_source(self, vectors, auxiliary=None, training=None):
        """(mean, log_var, z) of the source latent, eq. 3-4."""
        return self._encode(self.source_encoder, vectors, auxiliary, training)

    def encode_target(self, vectors, auxiliary=None, training=None):
        """(mean, log_var, z) of the target latent, eq. 3-4."""
        return self._encode(self.target_encoder, vectors, auxiliary, training)

    def _encode(self, encoder, vectors, auxiliary, training):
        mean, log_var = encoder([vectors, auxiliary] if self.uses_auxiliary else vectors)
        return mean, log_var, self.sampling((mean, log_var), training=training)

    def target_code(self, source_z, target_z):
        """What the target decoder reads (eq. 6 / eq. 13); unused inputs may be None."""
        if self.link == "latent":
            return ops.concatenate([source_z, target_z], axis=-1)
        if self.link == "mapped":
            return self.mapping(source_z)
        return target_z

    def decode_source(self, source_z):
        """Source reconstruction from the source latent alone (eq. 3 mirrored)."""
        return self.source_decoder(source_z)

    def decode_target(self, source_z, target_z):
        """Target reconstruction from `target_code` (eq. 6, or eq. 14-15 when mapped)."""
        return self.target_decoder(self.target_code(source_z, target_z))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "source_dim": self.source_dim,
                "target_dim": self.target_dim,
                "hidden_units": list(self.hidden_units),
                "latent_dim": self.latent_dim,
                "link": self.link,
                "activation": keras.activations.serialize(self.activation),
                "output_activation": keras.activations.serialize(self.output_activation),
                "auxiliary_units": list(self.auxiliary_units),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "seed": self.seed,
            }
        )
        return config
