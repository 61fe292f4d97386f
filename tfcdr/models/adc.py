"""ADC: a shared MLP over a user's per-domain factors, domains balanced by GradNorm."""

import keras
import numpy as np
from keras import ops

from tfcdr.data import keys, pipelines
from tfcdr.models.bpr_mf import BPRMF
from tfcdr.models.cdr_model import CDRModel, bpr_loss, normal_embedding
from tfcdr.serialization import register
from tfcdr.training import distribute
from tfcdr.training.gradnorm import GradNormModel
from tfcdr.training.sparse_adam import SparseAdam

# Optimization of the two initialization stages run by `prepare`.
PRETRAIN_BATCH_SIZE = 1024
PRETRAIN_LEARNING_RATE = 5e-3
LAYERWISE_BATCH_SIZE = 256
LAYERWISE_LEARNING_RATE = 1e-3


@register
class ADC(GradNormModel, CDRModel):
    """Adaptive Deep Cross-domain recommendation (ADC, sec. III).

    Each domain k has user factors `u^(k)` and item factors `v^(k)` (d =
    `embedding_dim`). A user's input is the concatenation of her p user
    factors, `u_con`; for a domain in which she has no training
    interactions her factor there is replaced by the mean of her factors in
    the domains where she has some (sec. III-A). `u_con` goes through the
    shared ReLU layers `shared_1..shared_h` (`shared_layers`) and the last
    shared layer W (`decoupling`, linear, p*d units), whose output is split
    into the decoupled representations `z_u^(k)` (sec. III-B). Domain k
    scores `z_u^(k) . v_i^(k)` (+ an item bias if `item_bias`).

    Loss of domain k (eqs. 1-2) on its (u, i+, i-) triples: BPR on the
    scores plus `cross_domain_weight * sum_{q != k} ||z_u^(q) - z_u^(k)||^2`.
    The representations being regularized are the decoupled `z_u` (those
    the model scores with); the MF factors only feed the MLP. The domains
    are combined as `sum_k w_k L_k` (eq. 3) with w learned by GradNorm on W
    (eqs. 4-5; see `GradNormModel`); `loss_weighting="equal"` gives
    `w_k = 1`.

    Initialization (`prepare(split)`, run once; the state is saved):
    which users have training data in each domain goes into the
    non-trainable `user_presence` [p, num_users] (all ones until then);
    `pretrain_epochs` > 0 trains a per-domain `BPRMF` of the same size and
    copies its user and item factors (the paper factorizes each R^(k); BPR
    matches the ranking loss used here; 0 keeps the random init); and
    `layerwise_epochs` > 0 with h > 1 first trains a copy with only the
    first hidden layer, then starts from its factors and `shared_1`
    (sec. III-C's layer-wise initialization; the deeper layers and W start
    fresh since their shapes differ).

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: d, the size of factors and decoupled representations.
        shared_layers: widths of the h shared ReLU layers.
        cross_domain_weight: lambda of eq. 2.
        l2: L2 weight on the factors of each batch (as `BPRMF`, 1e-2).
        kernel_l2: L2 weight on the shared layers' kernels (whole kernels).
        item_bias: add a learned item bias to eq. 1's score (as `BPRMF`
            does; False gives eq. 1 exactly).
        embedding_stddev: std of the normal factor initializer.
        pretrain_epochs: epochs of per-domain BPR-MF in `prepare` (0 skips).
        layerwise_epochs: epochs of the one-hidden-layer warm-up (0 skips).
        loss_weighting, asymmetry, initial_loss, weight_learning_rate: see
            `GradNormModel` (asymmetry is the paper's gamma).

    Call arguments:
        inputs: `{domain: {USER_ID, POSITIVE_ITEM_ID, NEGATIVE_ITEM_ID}}`.

    Returns:
        `{domain: {"pair_scores": [n, 2], "cross_domain": [n]}}`: positive
        and negative scores, and each row's eq. 2 penalty (unweighted).

    Example:
        >>> model = ADC(["books", "movies", "music"], 100, [50, 60, 70])
        >>> model.score("music", np.array([0, 1]), np.array([3, 4])).shape
        TensorShape([2])

    Reference:
        Rafailidis and Weiss, Adaptive Deep Learning of Cross-Domain Loss
        in Collaborative Filtering (ADC), sec. III.
    """

    input_kind = "pairwise"
    gradnorm_layer = "decoupling"

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        shared_layers=(128, 128),
        cross_domain_weight=1e-3,
        l2=1e-2,
        kernel_l2=1e-5,
        item_bias=True,
        embedding_stddev=0.1,
        pretrain_epochs=10,
        layerwise_epochs=2,
        loss_weighting="gradnorm",
        asymmetry=1.5,
        initial_loss="first_epoch",
        weight_learning_rate=0.01,
        **kwargs,
    ):
        super().__init__(
            domains,
            num_users,
            num_items,
            loss_weighting=loss_weighting,
            asymmetry=asymmetry,
            initial_loss=initial_loss,
            weight_learning_rate=weight_learning_rate,
            **kwargs,
        )
        shared_layers = tuple(int(u) for u in shared_layers)
        if not shared_layers or min(shared_layers) < 1:
            raise ValueError(f"shared_layers must be positive widths, got {shared_layers}")
        if cross_domain_weight < 0 or l2 < 0 or kernel_l2 < 0:
            raise ValueError("cross_domain_weight, l2 and kernel_l2 must be >= 0")
        if pretrain_epochs < 0 or layerwise_epochs < 0:
            raise ValueError("pretrain_epochs and layerwise_epochs must be >= 0")
        self.embedding_dim = int(embedding_dim)
        self.shared_layers = shared_layers
        self.cross_domain_weight = float(cross_domain_weight)
        self.l2 = float(l2)
        self.kernel_l2 = float(kernel_l2)
        self.item_bias = bool(item_bias)
        self.embedding_stddev = float(embedding_stddev)
        self.pretrain_epochs = int(pretrain_epochs)
        self.layerwise_epochs = int(layerwise_epochs)

        d, p = self.embedding_dim, len(self.domains)
        self.user_factors = {
            k: normal_embedding(self.num_users, d, f"user_factors_{k}", self.embedding_stddev, self.l2)
            for k in self.domains
        }
        self.item_factors = {
            k: normal_embedding(self.num_items[k], d, f"item_factors_{k}", self.embedding_stddev, self.l2)
            for k in self.domains
        }
        self.item_biases = (
            {k: normal_embedding(self.num_items[k], 1, f"item_bias_{k}", 0.0) for k in self.domains}
            if self.item_bias
            else {}
        )
        regularizer = keras.regularizers.L2(self.kernel_l2) if self.kernel_l2 else None
        self.shared = []
        width = p * d
        for index, units in enumerate(shared_layers):
            layer = keras.layers.Dense(
                units, activation="relu", kernel_regularizer=regularizer, name=f"shared_{index + 1}"
            )
            layer.build((None, width))
            self.shared.append(layer)
            width = units
        self.decoupling = keras.layers.Dense(p * d, kernel_regularizer=regularizer, name="decoupling")
        self.decoupling.build((None, width))
        self.user_presence = self.add_weight(
            shape=(p, self.num_users), initializer="ones", trainable=False, name="user_presence"
        )
        self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False, name="initialized")
        self.build()

    def prepare(self, split):
        """Fills `user_presence` from `split`; on the first call, initializes factors and `shared_1`."""
        presence = np.zeros((len(self.domains), self.num_users), np.float32)
        for index, domain in enumerate(self.domains):
            presence[index, split.domains[domain].train["user"].unique()] = 1.0
        self.user_presence.assign(presence)
        if float(self.initialized.numpy()) > 0.5:
            return  # a second `prepare` (e.g. resumed training) keeps what was learned
        if self.pretrain_epochs:
            self._pretrain_factors(split)
        if self.layerwise_epochs and len(self.shared_layers) > 1:
            self._layerwise_warm_up(split)
        self.initialized.assign(1.0)

    def user_inputs(self, user_ids):
        """`u_con` [n, p*d]: a user's factors, absent domains filled with her mean factor."""
        factors = ops.stack([self.user_factors[k](user_ids) for k in self.domains], axis=1)
        present = ops.expand_dims(ops.transpose(ops.take(self.user_presence, user_ids, axis=1)), -1)
        count = ops.sum(present, axis=1, keepdims=True)
        # A user with no training data anywhere keeps her own factors.
        mean = ops.where(
            count > 0,
            ops.sum(present * factors, axis=1, keepdims=True) / ops.maximum(count, 1.0),
            ops.mean(factors, axis=1, keepdims=True),
        )
        filled = ops.where(count > 0, present * factors + (1.0 - present) * mean, factors)
        return ops.reshape(filled, (-1, len(self.domains) * self.embedding_dim))

    def user_representations(self, user_ids, training=None):
        """Decoupled representations `z_u` [n, p, d] (sec. III-B)."""
        hidden = self.user_inputs(user_ids)
        for layer in self.shared:
            hidden = layer(hidden, training=training)
        return ops.reshape(self.decoupling(hidden), (-1, len(self.domains), self.embedding_dim))

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        z = self.user_representations(user_ids, training=training)[:, self.domains.index(domain)]
        return self._item_scores(domain, z, item_ids)

    def score_all_items(self, domain, user_ids):
        self.check_domain(domain)
        z = self.user_representations(user_ids)[:, self.domains.index(domain)]
        scores = ops.matmul(z, ops.transpose(self.item_factors[domain].embeddings))
        if self.item_bias:
            scores = scores + ops.reshape(self.item_biases[domain].embeddings, (1, -1))
        return scores

    def call(self, inputs, training=None):
        out = {}
        for domain, features in inputs.items():
            z_all = self.user_representations(features[keys.USER_ID], training=training)
            z = z_all[:, self.domains.index(domain)]
            positive = self._item_scores(domain, z, features[keys.POSITIVE_ITEM_ID])
            negative = self._item_scores(domain, z, features[keys.NEGATIVE_ITEM_ID])
            # The q = k term is 0, so the sum over all q is eq. 2's sum over q != k.
            cross = ops.sum(ops.square(z_all - ops.expand_dims(z, 1)), axis=(1, 2))
            out[domain] = {"pair_scores": ops.stack([positive, negative], axis=1), "cross_domain": cross}
        return out

    def domain_losses(self, x, y, y_pred, training=True):
        losses = {}
        for domain, outputs in y_pred.items():
            losses[domain] = bpr_loss(outputs["pair_scores"]) + self.cross_domain_weight * distribute.replica_mean(
                outputs["cross_domain"]
            )
        return losses

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "shared_layers": list(self.shared_layers),
                "cross_domain_weight": self.cross_domain_weight,
                "l2": self.l2,
                "kernel_l2": self.kernel_l2,
                "item_bias": self.item_bias,
                "embedding_stddev": self.embedding_stddev,
                "pretrain_epochs": self.pretrain_epochs,
                "layerwise_epochs": self.layerwise_epochs,
            }
        )
        return config

    def _item_scores(self, domain, z, item_ids):
        scores = ops.sum(z * self.item_factors[domain](item_ids), axis=-1)
        if self.item_bias:
            scores = scores + ops.squeeze(self.item_biases[domain](item_ids), axis=-1)
        return scores

    def _copy_factors(self, source, target):
        for k in self.domains:
            target.user_factors[k].embeddings.assign(source.user_factors[k].embeddings)
            target.item_factors[k].embeddings.assign(source.item_factors[k].embeddings)
            if target.item_bias and source.item_biases:
                target.item_biases[k].embeddings.assign(source.item_biases[k].embeddings)

    def _pretrain_factors(self, split):
        mf = BPRMF(
            self.domains,
            self.num_users,
            [self.num_items[k] for k in self.domains],
            embedding_dim=self.embedding_dim,
            l2=self.l2,
            name="adc_pretraining",
        )
        mf.compile(optimizer=SparseAdam(PRETRAIN_LEARNING_RATE))
        mf.fit(
            pipelines.pairwise(split, batch_size=PRETRAIN_BATCH_SIZE, seed=0),
            epochs=self.pretrain_epochs,
            verbose=0,
            shuffle=False,
        )
        self._copy_factors(mf, self)

    def _layerwise_warm_up(self, split):
        config = self.get_config()
        config.update(
            shared_layers=[self.shared_layers[0]], pretrain_epochs=0, layerwise_epochs=0, name="adc_layerwise"
        )
        warm = type(self).from_config(config)
        warm.user_presence.assign(self.user_presence)
        self._copy_factors(self, warm)
        warm.compile(optimizer=SparseAdam(LAYERWISE_LEARNING_RATE))
        warm.fit(
            pipelines.pairwise(split, batch_size=LAYERWISE_BATCH_SIZE, seed=0),
            epochs=self.layerwise_epochs,
            verbose=0,
            shuffle=False,
        )
        self._copy_factors(warm, self)
        self.shared[0].set_weights(warm.shared[0].get_weights())
