"""SharedVAE: cross-domain recommendation with two VAEs linked at the latent layer."""

import keras
import numpy as np
from keras import ops

from tfcdr.data import keys
from tfcdr.data.pipelines import interaction_matrix
from tfcdr.errors import DataError
from tfcdr.layers.mmd import MMD
from tfcdr.layers.sampling import Sampling
from tfcdr.layers.shared_vae import SharedVAE
from tfcdr.layers.vae_decoder import VAEDecoder
from tfcdr.layers.vae_encoder import VAEEncoder
from tfcdr.models.cdr_model import CDRModel
from tfcdr.serialization import register

ARCHITECTURES = ("shared", "single", "merged", "coldstart")
_LINKS = {"shared": "latent", "single": "none", "coldstart": "mapped"}

# Sec. 5.1.4. beta: the paper's value is garbled in our copy; the authors'
# released code uses 90 (its `hadamard`) on Amazon; MovieLens, denser,
# prefers a small beta (Fig. 2), read as 10.
MOVIELENS_PRESET = {"hidden_units": [256], "latent_dim": 128, "nonzero_weight": 10.0}
# The paper's model serves the target domain: its epoch is chosen on the
# target's validation figure, not the mean with the source (which the
# source decoder, overfitting sooner, would pull to an earlier epoch).
MOVIELENS_TRAINING = {"batch_size": 32, "learning_rate": 1e-3, "epochs": 50, "monitor": "target"}
AMAZON_PRESET = {"hidden_units": [512, 256], "latent_dim": 128, "nonzero_weight": 90.0}
AMAZON_TRAINING = {"batch_size": 128, "learning_rate": 1e-3, "epochs": 50, "monitor": "target"}
# Merged0/Merged (sec. 5.3): one VAE twice as wide, latent 256.
MERGED_MOVIELENS_PRESET = {"hidden_units": [512], "latent_dim": 256}
MERGED_AMAZON_PRESET = {"hidden_units": [1024, 512], "latent_dim": 256}

# Table 2's larger domains: MovieLens 2,262 target items, Amazon 59,880. The
# two presets are the ends of `sized_preset`'s rule, which switches at their
# geometric mean (11,638 items): the input width n* is what the layer sizes
# are chosen relative to.
MOVIELENS_ITEMS = 2262
AMAZON_ITEMS = 59880
SIZE_SWITCH = round(float(np.sqrt(MOVIELENS_ITEMS * AMAZON_ITEMS)))

# Zoo entries (MovieLens sizes; `sized_preset` moves them to Amazon's on large
# data). "...0" is beta = 0; MMD0 drops the MMD term.
PRESETS = {
    "sharedvae": {**MOVIELENS_PRESET},
    "sharedvae-single0": {
        **MOVIELENS_PRESET,
        "architecture": "single",
        "nonzero_weight": 0.0,
        "mmd_weight": 0.0,
    },
    "sharedvae-single": {
        **MOVIELENS_PRESET,
        "architecture": "single",
        "mmd_weight": 0.0,
    },
    "sharedvae-merged0": {
        **MOVIELENS_PRESET,
        **MERGED_MOVIELENS_PRESET,
        "architecture": "merged",
        "nonzero_weight": 0.0,
        "mmd_weight": 0.0,
    },
    "sharedvae-merged": {
        **MOVIELENS_PRESET,
        **MERGED_MOVIELENS_PRESET,
        "architecture": "merged",
        "mmd_weight": 0.0,
    },
    "sharedvae-mmd0": {**MOVIELENS_PRESET, "mmd_weight": 0.0},
    "sharedvae-coldstart": {**MOVIELENS_PRESET, "architecture": "coldstart"},
    # auxiliary_dim None: the caller passes the feature width (an error otherwise).
    "sharedvae-aux": {
        **MOVIELENS_PRESET,
        "auxiliary_dim": None,
        "auxiliary_units": [256, 128],
    },
}


def sized_preset(preset, num_items):
    """A zoo entry's preset and training at the paper's preset for data of this size.

    The paper gives two presets (sec. 5.1.4): MovieLens (n-256-128, batch 32,
    beta 10 here) and Amazon (n-512-256-128, batch 128, beta 90; merged
    variants twice as wide). The rule: the largest domain's item count
    `num_items` (the VAE's input width) at or above `SIZE_SWITCH`, the
    geometric mean of the paper's two (2,262 and 59,880), takes Amazon's,
    below it MovieLens'. An entry's beta = 0 (the "...0" ablations) stays 0.

    Args:
        preset: the zoo entry's preset (e.g. `PRESETS["sharedvae-merged"]`).
        num_items: the largest domain's number of items.

    Returns:
        (preset, training options, a sentence saying which and why).
    """
    amazon = num_items >= SIZE_SWITCH
    merged = preset.get("architecture") == "merged"
    base = AMAZON_PRESET if amazon else MOVIELENS_PRESET
    sizes = {**base, **((MERGED_AMAZON_PRESET if amazon else MERGED_MOVIELENS_PRESET) if merged else {})}
    out = {**preset, "hidden_units": list(sizes["hidden_units"]), "latent_dim": sizes["latent_dim"]}
    if preset.get("nonzero_weight", base["nonzero_weight"]):
        out["nonzero_weight"] = base["nonzero_weight"]
    training = AMAZON_TRAINING if amazon else MOVIELENS_TRAINING
    layers = "-".join(str(u) for u in out["hidden_units"])
    note = (
        f"SharedVAE {'Amazon' if amazon else 'MovieLens'} preset (encoder n-{layers}-{out['latent_dim']}, "
        f"beta {out.get('nonzero_weight', base['nonzero_weight']):g}, batch {training['batch_size']}): the largest "
        f"domain has {num_items:,} items, {'at or above' if amazon else 'below'} {SIZE_SWITCH:,} (between the "
        f"paper's MovieLens {MOVIELENS_ITEMS:,} and Amazon {AMAZON_ITEMS:,}); a config's values still win"
    )
    return out, dict(training), note


@register
class SharedVAECDR(CDRModel):
    """SharedVAE and its ablations, cold-start and auxiliary-information models.

    Each user's training interaction vectors `x_s`, `x_t` are encoded by
    per-domain VAEs; the target decoder reads `[z_s, z_t]` and the source
    decoder `z_s` alone (asymmetric transfer, eq. 6). The loss (eq. 10) is

        sum_d L_rec,d + kl_weight * sum_d KL_d + l2 * sum ||W||^2
          + mmd_weight * MMD(z_s, z_t)  [+ mapping_weight * L_m, eq. 16]

    with the reconstruction of eq. 8, `sum_j (1 + beta x_j) BCE(x_j, x^_j)`:
    `BCE(R, R^) + beta BCE(R, R^ * R)` where the second term only sees the
    non-zero entries. Per-user sums are averaged over the batch's users who
    have training interactions in the domain: the paper keeps only users
    of both domains (sec. 5.1.1), and an all-zero vector of a user absent
    from a domain says "unknown", not "dislikes every item", so it is fed
    to the encoder but never reconstructed (its KL and MMD weight are 0).

    `architecture` selects the paper's models: "shared" (Fig. 1); "single"
    (independent per-domain VAEs: Single0/Single in each domain);
    "merged" (one VAE over the concatenated vectors, Merged0/Merged);
    "coldstart" (sec. 6: the target decoder reads `mapping(z_s)`, eq.
    13-15, with the mapping loss of eq. 16 to the target latent, so target
    scores need no target data). `nonzero_weight=0` gives the "...0"
    variants, `mmd_weight=0` MMD0. `auxiliary_dim > 0` adds the sec. 7
    sub-encoder for a dense per-user vector merged at each encoder's last
    layer (`set_user_features`).

    Scores of a user are the decoder's logits for her training vectors,
    which the model keeps in the non-trainable weights `user_history_<d>`
    [num_users, num_items[d]] filled by `prepare(split)`; they are saved
    with the model, so a reloaded or exported model scores identically.
    The latent mean is used (no sampling) outside training.

    Args:
        domains, num_users, num_items: see `CDRModel`; exactly two domains.
        architecture: one of `ARCHITECTURES` (above).
        hidden_units: encoder hidden widths (decoders mirror them).
        latent_dim: latent size per domain.
        nonzero_weight: beta of eq. 8 (>= 0).
        mmd_weight: weight of the MMD term of eq. 10 (0 for MMD0).
        mmd_bandwidth: Gaussian kernel width, None for the batch heuristic
            (see `tfcdr.layers.MMD`).
        kl_weight: weight of the KL terms (1 in the paper).
        mapping_weight: weight of eq. 16's mapping loss (coldstart only).
        l2: L2 weight on every kernel (eq. 5; 1e-4 as the released code).
        auxiliary_dim: width of the per-user auxiliary vector, 0 for none.
        auxiliary_units: the auxiliary sub-encoder's widths (256, 128).
        source_domain, target_domain: default the first and last domain.
        seed: seed of the reparameterization noise.

    Reference:
        Ahangama et al., SharedVAE: eq. 3-8 and 10, sec. 5.3 (ablations),
        sec. 6 (eq. 13-16), sec. 7.
    """

    input_kind = "user_vectors"

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        architecture="shared",
        hidden_units=(256,),
        latent_dim=128,
        nonzero_weight=10.0,
        mmd_weight=1.0,
        mmd_bandwidth=None,
        kl_weight=1.0,
        mapping_weight=1.0,
        l2=1e-4,
        auxiliary_dim=0,
        auxiliary_units=(256, 128),
        source_domain=None,
        target_domain=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(domains, num_users, num_items, **kwargs)
        if len(self.domains) != 2:
            raise ValueError(f"SharedVAECDR needs exactly two domains (source, target); got {self.domains}")
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        for name, value in (
            ("nonzero_weight", nonzero_weight),
            ("mmd_weight", mmd_weight),
            ("kl_weight", kl_weight),
        ):
            if float(value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if auxiliary_dim is None:
            raise ValueError(
                "auxiliary_dim is required: pass the width of the users' feature vectors, "
                "e.g. build_model('sharedvae-aux', split, auxiliary_dim=features.shape[1])"
            )
        if architecture == "merged" and float(mmd_weight) > 0:
            raise ValueError("the merged architecture has one latent space: set mmd_weight=0")
        self.architecture = architecture
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.latent_dim = int(latent_dim)
        self.nonzero_weight = float(nonzero_weight)
        self.mmd_weight = float(mmd_weight)
        self.mmd_bandwidth = None if mmd_bandwidth is None else float(mmd_bandwidth)
        self.kl_weight = float(kl_weight)
        self.mapping_weight = float(mapping_weight)
        self.l2 = float(l2)
        self.auxiliary_dim = int(auxiliary_dim)
        self.auxiliary_units = tuple(int(u) for u in auxiliary_units)
        sub_encoder = self.auxiliary_units if self.auxiliary_dim else ()
        self.source_domain = str(source_domain or self.domains[0])
        self.target_domain = str(target_domain or self.domains[-1])
        if {self.source_domain, self.target_domain} != set(self.domains):
            raise ValueError(
                f"source_domain and target_domain must be the two domains {self.domains}; "
                f"got {self.source_domain!r} and {self.target_domain!r}"
            )
        self.seed = None if seed is None else int(seed)
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None
        n_s, n_t = (
            self.num_items[self.source_domain],
            self.num_items[self.target_domain],
        )
        auxiliary_shape = [(None, self.auxiliary_dim)] if self.auxiliary_dim else []

        if architecture == "merged":
            self.encoder = VAEEncoder(
                self.hidden_units,
                self.latent_dim,
                auxiliary_units=sub_encoder,
                kernel_regularizer=regularizer,
                name="merged_encoder",
            )
            self.sampling = Sampling(self.seed, name="sampling")
            self.decoder = VAEDecoder(
                n_s + n_t,
                self.hidden_units[::-1],
                output_activation=None,
                kernel_regularizer=regularizer,
                name="merged_decoder",
            )
            self.encoder.build([(None, n_s + n_t), *auxiliary_shape] if self.auxiliary_dim else (None, n_s + n_t))
            self.decoder.build((None, self.latent_dim))
        else:
            self.vae = SharedVAE(
                n_s,
                n_t,
                self.hidden_units,
                self.latent_dim,
                link=_LINKS[architecture],
                output_activation=None,
                auxiliary_units=sub_encoder,
                kernel_regularizer=regularizer,
                seed=self.seed,
                name="shared_vae",
            )
            self.vae.build([(None, n_s), (None, n_t), *auxiliary_shape])
        self.mmd = MMD(self.mmd_bandwidth, name="mmd")
        self.user_history = {
            d: self.add_weight(
                shape=(self.num_users, self.num_items[d]),
                initializer="zeros",
                trainable=False,
                name=f"user_history_{d}",
            )
            for d in self.domains
        }
        self.user_features = (
            self.add_weight(
                shape=(self.num_users, self.auxiliary_dim),
                initializer="zeros",
                trainable=False,
                name="user_features",
            )
            if self.auxiliary_dim
            else None
        )
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        # Only the terms the loss has show up in the logs.
        self.mmd_tracker = keras.metrics.Mean(name="mmd_loss") if self.mmd_weight else None
        self.mapping_tracker = keras.metrics.Mean(name="mapping_loss") if architecture == "coldstart" else None
        self.build()

    # -- data-dependent state -------------------------------------------------

    def prepare(self, split):
        """Fills the users' training histories and, if the split has them, features.

        The auxiliary vectors come from the split's user feature table
        encoded by `tfcdr.data.features.encode_features`; without one they
        must have been set with `set_user_features`.
        """
        self.set_user_history(split)
        if self.user_features is None:
            return
        if getattr(split, "user_features", None) is not None:
            from tfcdr.data.features import encode_features

            self.set_user_features(encode_features(split).users.matrix)
        elif not np.any(np.asarray(self.user_features)):
            raise DataError(
                "this model reads auxiliary user features (auxiliary_dim="
                f"{self.auxiliary_dim}); call model.set_user_features(array) before training"
            )

    def set_user_history(self, split):
        """Copies each domain's training interactions of `split` into `user_history_<d>`."""
        for d in self.domains:
            if d not in split.domains:
                raise DataError(f"the split has no domain {d!r}; it has {split.domain_names}")
            matrix = interaction_matrix(split, d)
            if matrix.shape != tuple(self.user_history[d].shape):
                raise DataError(
                    f"domain {d!r} of the split is {matrix.shape} users x items; "
                    f"the model was built for {tuple(self.user_history[d].shape)}"
                )
            self.user_history[d].assign(matrix)

    def set_user_features(self, features):
        """Sets the dense auxiliary vector of every user: float [num_users, auxiliary_dim]."""
        if self.user_features is None:
            raise ValueError("the model was built with auxiliary_dim=0")
        features = np.asarray(features, np.float32)
        if features.shape != tuple(self.user_features.shape):
            raise DataError(
                f"user features have shape {features.shape}; the model expects "
                f"{tuple(self.user_features.shape)} (num_users, auxiliary_dim)"
            )
        self.user_features.assign(features)

    # -- forward pass and loss -------------------------------------------------

    def call(self, inputs, training=None):
        vectors = [inputs[self.source_domain], inputs[self.target_domain]]
        auxiliary = self._auxiliary(inputs[keys.USER_ID])
        if self.architecture == "merged":
            merged = ops.concatenate(vectors, axis=-1)
            mean, log_var = self.encoder([merged, auxiliary] if self.auxiliary_dim else merged)
            z = self.sampling((mean, log_var), training=training)
            logits = self._split_merged(self.decoder(z))
            return {
                "logits": logits,
                "latents": {
                    "merged_mean": mean,
                    "merged_log_var": log_var,
                    "merged_z": z,
                },
            }
        out = self.vae([*vectors, auxiliary] if self.auxiliary_dim else vectors, training=training)
        logits = {
            self.source_domain: out.pop("source_output"),
            self.target_domain: out.pop("target_output"),
        }
        return {"logits": logits, "latents": out}

    def reconstruction_loss(self, vectors, logits):
        """Eq. 8 per user: `sum_j (1 + nonzero_weight * x_j) * BCE(x_j, sigmoid(logit_j))`."""
        vectors = ops.cast(vectors, logits.dtype)
        cross_entropy = ops.binary_crossentropy(vectors, logits, from_logits=True)
        return ops.sum((1.0 + self.nonzero_weight * vectors) * cross_entropy, axis=-1)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        latents = y_pred["latents"]
        present = {d: ops.cast(ops.any(x[d] > 0, axis=-1), "float32") for d in self.domains}
        losses = {
            d: _masked_mean(self.reconstruction_loss(x[d], y_pred["logits"][d]), present[d]) for d in self.domains
        }
        self.record_domain_losses(losses)
        if self.architecture == "merged":
            either = ops.maximum(present[self.source_domain], present[self.target_domain])
            kl = _masked_mean(_kl(latents["merged_mean"], latents["merged_log_var"]), either)
        else:
            roles = {"source": self.source_domain, "target": self.target_domain}
            kl = sum(
                _masked_mean(_kl(latents[f"{r}_mean"], latents[f"{r}_log_var"]), present[d]) for r, d in roles.items()
            )
        self.kl_tracker.update_state(kl)
        total = sum(losses.values()) + self.kl_weight * kl + self.regularization_loss()
        if self.mmd_weight:
            mmd = self.mmd(
                (latents["source_z"], latents["target_z"]),
                sample_weights=(
                    present[self.source_domain],
                    present[self.target_domain],
                ),
            )
            self.mmd_tracker.update_state(mmd)
            total += self.mmd_weight * mmd
        if self.architecture == "coldstart":
            # Eq. 16 over users whose target latent encodes target data.
            distance = ops.sum(ops.square(latents["mapped_z"] - latents["target_z"]), axis=-1)
            mapping = _masked_mean(distance, present[self.target_domain])
            self.mapping_tracker.update_state(mapping)
            total += self.mapping_weight * mapping
        return total

    # -- scoring ----------------------------------------------------------------

    def score_all_items(self, domain, user_ids):
        """Logits of every item of `domain` decoded from the users' stored histories."""
        self.check_domain(domain)
        user_ids = ops.cast(user_ids, "int32")
        vectors = {d: ops.take(self.user_history[d], user_ids, axis=0) for d in self.domains}
        auxiliary = self._auxiliary(user_ids)
        if self.architecture == "merged":
            merged = ops.concatenate([vectors[self.source_domain], vectors[self.target_domain]], axis=-1)
            mean, _ = self.encoder([merged, auxiliary] if self.auxiliary_dim else merged)
            return self._split_merged(self.decoder(mean))[domain]
        vae = self.vae

        def latent(encode, d):
            return encode(vectors[d], auxiliary, training=False)[0]

        if domain == self.source_domain:
            return vae.decode_source(latent(vae.encode_source, domain))
        # Only encode what the target decoder reads: the cold-start model
        # never touches target data, the Single model never source data.
        z_s = None if vae.link == "none" else latent(vae.encode_source, self.source_domain)
        z_t = None if vae.link == "mapped" else latent(vae.encode_target, self.target_domain)
        return vae.decode_target(z_s, z_t)

    def score(self, domain, user_ids, item_ids):
        # Candidate lists repeat each user ~100 times: decode each user once.
        users, inverse = ops.unique(ops.cast(user_ids, "int32"), return_inverse=True)
        scores = self.score_all_items(domain, users)
        flat = ops.cast(inverse, "int32") * self.num_items[domain] + ops.cast(item_ids, "int32")
        return ops.take(ops.reshape(scores, (-1,)), flat)

    def _auxiliary(self, user_ids):
        return None if self.user_features is None else ops.take(self.user_features, user_ids, axis=0)

    def _split_merged(self, logits):
        n_s = self.num_items[self.source_domain]
        return {
            self.source_domain: logits[:, :n_s],
            self.target_domain: logits[:, n_s:],
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "architecture": self.architecture,
                "hidden_units": list(self.hidden_units),
                "latent_dim": self.latent_dim,
                "nonzero_weight": self.nonzero_weight,
                "mmd_weight": self.mmd_weight,
                "mmd_bandwidth": self.mmd_bandwidth,
                "kl_weight": self.kl_weight,
                "mapping_weight": self.mapping_weight,
                "l2": self.l2,
                "auxiliary_dim": self.auxiliary_dim,
                "auxiliary_units": list(self.auxiliary_units),
                "source_domain": self.source_domain,
                "target_domain": self.target_domain,
                "seed": self.seed,
            }
        )
        return config


def _kl(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per row."""
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)


def _masked_mean(values, mask):
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)
