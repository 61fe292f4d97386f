"""EMCDR: embed each domain with MF, then map source user factors to the target."""

import keras
import numpy as np
from keras import ops

from tfcdr.data import keys
from tfcdr.models.cdr_model import CDRModel, bpr_loss, normal_embedding, pointwise_loss
from tfcdr.serialization import register

# Which pipeline each latent model trains on (see `tfcdr.data.pipelines`).
INPUT_KINDS = {"bpr": "pairwise", "mse": "rating"}


@register
class EMCDR(CDRModel):
    """Per-domain MF plus a learned map from source to target user factors.

    Each domain has its own user and item factors, trained with BPR (as
    `BPRMF`, `loss_type="bpr"`, for implicit feedback) or with squared
    error on the ratings (`loss_type="mse"`, the paper's MF, for the
    `rating` protocol; `tfcdr.models.MODELS` switches to it there). A
    mapping `f` (linear `M u`, or an MLP with one tanh hidden layer) is
    fit on the users who have training data in both domains so that
    `f(U_source[u]) ~ U_target[u]`. In the target, a user without target
    training interactions (a cold-start user) is scored with
    `f(U_source[u]) . V_target[i] + b_target[i]`; a warm user with her own
    target factor, unless `map_all_users=True`.

    Training. The paper trains in sequence: MF in each domain to
    convergence, then the mapping on the fixed factors. Here the three
    losses are minimized together in one `fit`: `compute_loss` returns
    `L_source + L_target + mapping_weight * MSE(f(sg(U_s[u])),
    sg(U_t[u])) + l2 terms`, where `sg` is stop-gradient and `u` runs over
    the batch's users who have training data in both domains. Because of
    the stop-gradients the mapping term never moves the factors, so the MF
    part is exactly the paper's; the mapping tracks the factors while they
    converge and is fit to the final ones by the end (early stopping
    restores factors and mapping of the same epoch). This keeps the
    standard `fit_model` path and needs no custom `train_step`.

    Which users have training data in a domain is kept in the non-trainable
    weight `training_users` [num_domains, num_users] (1 = has training
    rows). `compute_loss` fills it from every training batch it sees (the
    pairwise pipeline visits every training row once per epoch), so after
    the first epoch it is exact with no help from the trainer; it is saved
    with the model so a reloaded or exported model scores cold users the
    same way. `set_training_users(split)` fills it at once when scoring a
    model that was not trained on the split.

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: factor size K (32).
        loss_type: "bpr" (pairwise input) or "mse" (rating input).
        l2: L2 weight on the factors of each batch; 1e-2 as `BPRMF`.
        mapping_l2: L2 weight on the mapping's kernels (whole kernels: every
            weight of a dense layer gets data gradient each step).
        mapping: "mlp" (EMCDR-MLP, the paper's better variant) or "linear"
            (EMCDR-LM, `f(u) = M u`).
        hidden_units: width of the MLP's hidden layer (default 2 * K).
        mapping_weight: weight of the mapping loss in the sum (1.0). It only
            scales the mapping's gradients.
        source_domain: the domain mapped from (default the first).
        target_domain: the domain mapped to (default the last).
        bidirectional: also learn target -> source, so cold-start users of
            the source domain are scored from their target factors.
        map_all_users: score every user through the mapping, warm or not.
        embedding_stddev: std of the normal factor initializer (0.1).

    Reference:
        Man et al., Cross-Domain Recommendation: An Embedding and Mapping
        Approach, IJCAI 2017: latent factor modeling (here BPR-MF), linear
        and MLP latent space mapping, cross-domain recommendation for
        cold-start users. SharedVAE's baseline setting: K = 20, BPR, MLP
        mapping.
    """

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        loss_type="bpr",
        l2=1e-2,
        mapping_l2=1e-4,
        mapping="mlp",
        hidden_units=None,
        mapping_weight=1.0,
        source_domain=None,
        target_domain=None,
        bidirectional=False,
        map_all_users=False,
        embedding_stddev=0.1,
        **kwargs,
    ):
        super().__init__(domains, num_users, num_items, **kwargs)
        if len(self.domains) < 2:
            raise ValueError("EMCDR needs a source and a target domain; got one domain")
        if loss_type not in INPUT_KINDS:
            raise ValueError(f"loss_type must be one of {sorted(INPUT_KINDS)}, got {loss_type!r}")
        self.loss_type = loss_type
        if mapping not in ("linear", "mlp"):
            raise ValueError(f"mapping must be 'linear' or 'mlp', got {mapping!r}")
        self.embedding_dim = int(embedding_dim)
        self.l2 = float(l2)
        self.mapping = mapping
        self.hidden_units = int(hidden_units) if hidden_units else 2 * self.embedding_dim
        self.mapping_weight = float(mapping_weight)
        self.source_domain = str(source_domain or self.domains[0])
        self.target_domain = str(target_domain or self.domains[-1])
        for name in (self.source_domain, self.target_domain):
            self.check_domain(name)
        if self.source_domain == self.target_domain:
            raise ValueError(f"source_domain and target_domain are both {self.source_domain!r}")
        self.bidirectional = bool(bidirectional)
        self.map_all_users = bool(map_all_users)
        self.embedding_stddev = float(embedding_stddev)
        # Keras tracks metric attributes: `mapping_loss` shows in the fit logs.
        self.mapping_tracker = keras.metrics.Mean(name="mapping_loss")
        self.mapping_l2 = float(mapping_l2)
        regularizer = keras.regularizers.L2(self.mapping_l2) if self.mapping_l2 else None

        def embedding(count, dim, name, stddev):
            return normal_embedding(count, dim, name, stddev, self.l2)

        k = self.embedding_dim
        self.user_factors = {
            d: embedding(self.num_users, k, f"user_factors_{d}", self.embedding_stddev) for d in self.domains
        }
        self.item_factors = {
            d: embedding(self.num_items[d], k, f"item_factors_{d}", self.embedding_stddev) for d in self.domains
        }
        self.item_biases = {d: embedding(self.num_items[d], 1, f"item_bias_{d}", 0.0) for d in self.domains}

        # (from, to) pairs; the mapping layers of each are named after it.
        self.directions = [(self.source_domain, self.target_domain)]
        if self.bidirectional:
            self.directions.append((self.target_domain, self.source_domain))
        self.mappings = {}
        for source, target in self.directions:
            if self.mapping == "linear":
                layers = [
                    keras.layers.Dense(
                        k,
                        use_bias=False,
                        kernel_regularizer=regularizer,
                        name=f"map_{source}_to_{target}",
                    )
                ]
            else:
                layers = [
                    keras.layers.Dense(
                        self.hidden_units,
                        activation="tanh",
                        kernel_regularizer=regularizer,
                        name=f"map_{source}_to_{target}_hidden",
                    ),
                    keras.layers.Dense(
                        k,
                        kernel_regularizer=regularizer,
                        name=f"map_{source}_to_{target}_output",
                    ),
                ]
            width = k
            for layer in layers:
                layer.build((None, width))
                width = layer.units
            self.mappings[f"{source}_to_{target}"] = layers
        if self.loss_type == "mse":
            self.add_rating_offsets()
        self.training_users = self.add_weight(
            shape=(len(self.domains), self.num_users),
            initializer="zeros",
            trainable=False,
            name="training_users",
        )
        self.build()

    @property
    def input_kind(self):
        return INPUT_KINDS[self.loss_type]

    def map_factors(self, source, target, factors):
        """f_{source -> target}(factors): float [n, K] -> [n, K]."""
        x = factors
        for layer in self.mappings[f"{source}_to_{target}"]:
            x = layer(x)
        return x

    def user_vectors(self, domain, user_ids):
        """The user factors a domain scores with: own, or mapped for cold users."""
        own = self.user_factors[domain](user_ids)
        for source, target in self.directions:
            if target != domain:
                continue
            mapped = self.map_factors(source, target, self.user_factors[source](user_ids))
            if self.map_all_users:
                return mapped
            warm = ops.take(self.training_users[self.domains.index(domain)], user_ids)
            return ops.where(ops.expand_dims(warm > 0, -1), own, mapped)
        return own

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        users = self.user_vectors(domain, user_ids)
        items = self.item_factors[domain](item_ids)
        bias = ops.squeeze(self.item_biases[domain](item_ids), axis=-1)
        return ops.sum(users * items, axis=-1) + bias + self.rating_offset(domain)

    def _own_score(self, domain, user_ids, item_ids):
        # Training pairs come from training rows, so their users are warm:
        # the MF of each domain trains its own factors, as in the paper.
        users = self.user_factors[domain](user_ids)
        items = self.item_factors[domain](item_ids)
        return (
            ops.sum(users * items, axis=-1)
            + ops.squeeze(self.item_biases[domain](item_ids), axis=-1)
            + self.rating_offset(domain)
        )

    def call(self, inputs, training=None):
        # Training scores use each domain's own factors, never the map.
        if self.loss_type == "mse":
            return {
                domain: self._own_score(domain, features[keys.USER_ID], features[keys.ITEM_ID])
                for domain, features in inputs.items()
            }
        return self.pair_scores(inputs, self._own_score)

    def mapping_loss(self, user_ids):
        """Mean squared error of every mapping over `user_ids` warm in both domains.

        Both factor tables enter through stop-gradient, so this term trains
        the mapping only, as the paper fits it on fixed factors.
        """
        total = 0.0
        for source, target in self.directions:
            both = ops.take(self.training_users[self.domains.index(source)], user_ids) * ops.take(
                self.training_users[self.domains.index(target)], user_ids
            )
            # Rows read directly: calling the layers here would also add their
            # (batch L2) activity losses for rows this term does not train.
            inputs = ops.stop_gradient(self.user_factors[source].rows(user_ids))
            wanted = ops.stop_gradient(self.user_factors[target].rows(user_ids))
            error = ops.mean(ops.square(self.map_factors(source, target, inputs) - wanted), axis=-1)
            total += ops.sum(both * error) / ops.maximum(ops.sum(both), 1.0)
        return total

    def record_training_users(self, inputs):
        """Marks the users of each domain's training batch as warm there."""
        marks = self.training_users.value
        for domain, features in inputs.items():
            users = ops.cast(features[keys.USER_ID], "int32")
            row = ops.full_like(users, self.domains.index(domain))
            indices = ops.stack([row, users], axis=1)
            marks = ops.scatter_update(marks, indices, ops.ones_like(users, dtype=marks.dtype))
        self.training_users.assign(marks)

    def set_training_users(self, split):
        """Fills `training_users` from a `Split`'s training rows (optional: fit does it)."""
        marks = np.zeros((len(self.domains), self.num_users), np.float32)
        for index, domain in enumerate(self.domains):
            marks[index, split.domains[domain].train["user"].to_numpy()] = 1.0
        self.training_users.assign(marks)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training and x is not None:
            self.record_training_users(x)
        if self.loss_type == "mse":
            losses = {d: pointwise_loss(y[d], scores, "mse") for d, scores in y_pred.items()}
        else:
            losses = {d: bpr_loss(scores) for d, scores in y_pred.items()}
        self.record_domain_losses(losses)
        total = sum(losses.values()) + self.regularization_loss()
        if x is not None:
            users = ops.concatenate([ops.cast(f[keys.USER_ID], "int32") for f in x.values()], axis=0)
            mapping = self.mapping_loss(users)
            self.mapping_tracker.update_state(mapping)
            total += self.mapping_weight * mapping
        return total

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "loss_type": self.loss_type,
                "l2": self.l2,
                "mapping_l2": self.mapping_l2,
                "mapping": self.mapping,
                "hidden_units": self.hidden_units,
                "mapping_weight": self.mapping_weight,
                "source_domain": self.source_domain,
                "target_domain": self.target_domain,
                "bidirectional": self.bidirectional,
                "map_all_users": self.map_all_users,
                "embedding_stddev": self.embedding_stddev,
            }
        )
        return config
