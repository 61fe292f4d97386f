"""DDTCDR: deep dual transfer between domains through a latent orthogonal map."""

import itertools

import numpy as np
from keras import ops

from tfcdr.errors import DataError
from tfcdr.layers.feature_autoencoder import FeatureAutoencoder
from tfcdr.layers.mlp_tower import MLPTower
from tfcdr.layers.orthogonal_mapping import OrthogonalMapping
from tfcdr.models.cdr_model import PointwiseModel, normal_embedding
from tfcdr.serialization import register


@register
class DDTCDR(PointwiseModel):
    """Per-domain rating networks that also rate through the other domains' networks.

    For a user u and an item i of domain A (eq. 2-3):

        r_A = (1 - alpha) RS_A(W_uA, W_iA) + alpha RS_B(X W_uA, W_iA)
        r_B = (1 - alpha) RS_B(W_uB, W_iB) + alpha RS_A(X^T W_uB, W_iB)

    `RS_d` is domain d's rating network (an `MLPTower` on the concatenated
    user and item embeddings, sigmoid output: ratings are scaled to [0, 1])
    and `X` an `OrthogonalMapping` kept orthogonal after every optimizer
    step (polar projection, see that layer). Nothing is detached: the loss
    of domain A trains X, RS_B, W_uA and W_iA through the cross-domain term,
    and one step minimizes `MSE_A + MSE_B` (plus regularization) over the
    joint rating batch, so both directions learn together (Algorithm 1).
    `transfer_rate` is alpha (0.03 in the paper).

    Single-domain users (sec. 3.3): alpha is 0 for a user who has training
    ratings in only one domain. Which users have training ratings in which
    domain lives in the non-trainable weight `user_domains` [num_domains,
    num_users], filled by `prepare(split)` (which `fit_model` calls) or
    `set_user_domains(split)`, and saved with the model. Before it is set
    every user counts as single-domain, so the model is the alpha = 0 one.

    More domains (eq. 7): each unordered pair of domains (a, b), a listed
    first, has one orthogonal X mapping a's user space to b's, and X^T maps
    b's to a's, so eq. 7's X_jk (k's space to j's) is X or X^T of the pair
    {j, k}: `r_k = (1 - alpha) RS_k(W_uk, W_ik) + alpha * mean_j
    RS_j(X_jk W_uk, W_ik)`.
    The mean runs over the other domains the user has training ratings in,
    which is eq. 7's `1 / (n - 1)` sum for a user in every domain and keeps
    sec. 3.3's rule (alpha = 0 when there are none).

    Embeddings (sec. 3.1). `W_ud` is the sum of a trainable user-id
    embedding of domain d (`use_ids`) and, when user features are given
    (`user_feature_dim > 0`), the code of domain d's user
    `FeatureAutoencoder`; the same for items. With ids only (every dataset
    has them) the encoder input is the id: a one-layer encoder on a one-hot
    id is an embedding lookup. Ids are kept by default beside features
    because a handful of demographic features cannot tell users apart.
    Feature matrices reach the model as plain arrays: the constructor takes
    only their widths; `set_feature_tables(user_matrix, item_matrices)` (or
    `prepare(split)` when the split carries raw feature tables) stores them
    in non-trainable weights, so the config stays plain JSON and a `.keras`
    file reloads exactly. The autoencoders are pre-trained on their
    reconstruction loss before the recommender
    (`tfcdr.training.pretrain_features.pretrain_feature_autoencoders`, which
    `prepare` runs for `pretrain_epochs`), then frozen; with
    `fine_tune_features=True` they keep training with the recommender and
    `reconstruction_weight` times their loss is added to it.

    `transfer_rate=0` builds no mapping: the model is then exactly the
    single-domain NCF rating network of each domain ("ncf-rating").

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: size of the feature embeddings and of X (8).
        hidden_units: widths of each rating network (32, 16, 8).
        transfer_rate: alpha in [0, 1).
        user_feature_dim: width of the encoded user features (0: none).
        item_feature_dims: widths of each domain's encoded item features,
            a list in `domains` order or a dict (default 0: none).
        use_ids: add id embeddings to the feature embeddings.
        autoencoder: "ae" or "vae" (Table 7).
        fine_tune_features: train the autoencoders jointly after pretraining.
        reconstruction_weight: weight of their loss when fine-tuning.
        pretrain_epochs: epochs of autoencoder pretraining `prepare` runs.
        orthogonality: "polar" (re-orthogonalize X after each step) or
            "penalty" (the released code's soft penalty; for comparison).
        l2: L2 weight on the id embeddings of each batch (`normal_embedding`;
            1e-2: `tfcdr sweep --param l2` over 1e-5..1e-1 under `rating` moved
            RMSE by < 0.004 on Douban and ml1m-genre, 1e-2 best or within
            0.003 of the best on both).
        dropout: dropout in the rating networks.
        embedding_stddev: std of the normal id-embedding initializer.

    Example:
        >>> model = DDTCDR(["books", "music"], 100, {"books": 50, "music": 40})
        >>> model.prepare(split)      # which users are in both domains
        >>> fit_model(model, split)   # or let fit_model call prepare

    Reference:
        Li & Tuzhilin, DDTCDR: Deep Dual Transfer Cross Domain
        Recommendation, WSDM 2020 (sec. 3.1 eq. 1, sec. 3.2, sec. 3.3
        eq. 2-3, sec. 3.5 eq. 7, Algorithm 1, Table 7).
    """

    input_kind = "rating"
    # Both domains' MSE in one step: the dual updates of Algorithm 1.
    loss_type = "mse"

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=8,
        hidden_units=(32, 16, 8),
        transfer_rate=0.03,
        user_feature_dim=0,
        item_feature_dims=None,
        use_ids=True,
        autoencoder="ae",
        fine_tune_features=False,
        reconstruction_weight=0.1,
        pretrain_epochs=20,
        orthogonality="polar",
        l2=1e-2,
        dropout=0.0,
        embedding_stddev=0.1,
        **kwargs,
    ):
        super().__init__(domains, num_users, num_items, **kwargs)
        if not 0.0 <= float(transfer_rate) < 1.0:
            raise ValueError(f"transfer_rate must be in [0, 1), got {transfer_rate}")
        if isinstance(item_feature_dims, dict):
            item_feature_dims = [int(item_feature_dims.get(d, 0)) for d in self.domains]
        item_feature_dims = list(item_feature_dims or [0] * len(self.domains))
        if len(item_feature_dims) != len(self.domains):
            raise ValueError("item_feature_dims needs one width per domain")
        if not use_ids and (not user_feature_dim or not all(item_feature_dims)):
            raise ValueError(
                "use_ids=False needs user features and item features in every domain: "
                "without ids or features nothing tells users (or items) apart"
            )
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.transfer_rate = float(transfer_rate)
        self.user_feature_dim = int(user_feature_dim)
        self.item_feature_dims = dict(zip(self.domains, (int(d) for d in item_feature_dims), strict=True))
        self.use_ids = bool(use_ids)
        self.autoencoder = autoencoder
        self.fine_tune_features = bool(fine_tune_features)
        self.reconstruction_weight = float(reconstruction_weight)
        self.pretrain_epochs = int(pretrain_epochs)
        self.orthogonality = orthogonality
        self.l2 = float(l2)
        self.dropout = float(dropout)
        self.embedding_stddev = float(embedding_stddev)
        k = self.embedding_dim

        def embedding(count, name):
            return normal_embedding(count, k, name, self.embedding_stddev, self.l2)

        def feature_autoencoder(width, name):
            layer = FeatureAutoencoder(
                width, k, autoencoder=autoencoder, reconstruction_weight=self.reconstruction_weight, name=name
            )
            layer.build()
            # Frozen after pretraining unless fine-tuned (pretraining unfreezes it).
            layer.trainable = self.fine_tune_features
            return layer

        self.user_embeddings, self.item_embeddings = {}, {}
        self.user_autoencoders, self.item_autoencoders = {}, {}
        self.item_feature_tables = {}
        self.rating_networks = {}
        for d in self.domains:
            if self.use_ids:
                self.user_embeddings[d] = embedding(self.num_users, f"user_embedding_{d}")
                self.item_embeddings[d] = embedding(self.num_items[d], f"item_embedding_{d}")
            if self.user_feature_dim:
                self.user_autoencoders[d] = feature_autoencoder(self.user_feature_dim, f"user_autoencoder_{d}")
            if self.item_feature_dims[d]:
                self.item_autoencoders[d] = feature_autoencoder(self.item_feature_dims[d], f"item_autoencoder_{d}")
            tower = MLPTower(self.hidden_units, dropout=self.dropout, name=f"rating_network_{d}")
            tower.build((None, 2 * k))
            self.rating_networks[d] = tower

        # One X per unordered pair (a, b), a listed first: X maps a's user
        # space to b's and X^T maps back (eq. 2-3; eq. 7 for n >= 3).
        self.mappings = {}
        if self.transfer_rate > 0:
            for a, b in itertools.combinations(self.domains, 2):
                mapping = OrthogonalMapping(method=orthogonality, name=f"mapping_{a}_{b}")
                mapping.build((None, k))
                self.mappings[f"{a}_{b}"] = mapping

        self.user_domains = self.add_weight(
            shape=(len(self.domains), self.num_users), initializer="zeros", trainable=False, name="user_domains"
        )
        self.user_feature_table = None
        if self.user_feature_dim:
            self.user_feature_table = self.add_weight(
                shape=(self.num_users, self.user_feature_dim),
                initializer="zeros",
                trainable=False,
                name="user_features",
            )
        for d in self.domains:
            if self.item_feature_dims[d]:
                self.item_feature_tables[d] = self.add_weight(
                    shape=(self.num_items[d], self.item_feature_dims[d]),
                    initializer="zeros",
                    trainable=False,
                    name=f"item_features_{d}",
                )
        self.features_set = self.features_pretrained = None
        if self.uses_features:
            self.features_set = self.add_weight(shape=(), initializer="zeros", trainable=False, name="features_set")
            self.features_pretrained = self.add_weight(
                shape=(), initializer="zeros", trainable=False, name="features_pretrained"
            )
        self.build()

    @property
    def uses_features(self):
        return bool(self.user_feature_dim or any(self.item_feature_dims.values()))

    # --- data-dependent state ------------------------------------------------

    def prepare(self, split):
        """Marks each user's domains and, with features, sets and pretrains them.

        Feature tables are taken from the split when it carries raw tables
        (`user_features`, `item_features`) and none are set yet; otherwise
        they must have been set with `set_feature_tables` (or restored from
        a `.keras` file). Autoencoders are pretrained once.
        """
        self.set_user_domains(split)
        if not self.uses_features:
            return
        if not float(self.features_set):
            from tfcdr.data.features import encode_features, has_features

            if not has_features(split):
                raise DataError(
                    "this DDTCDR model takes user/item features, but none are set and the "
                    "split carries none; call model.set_feature_tables(...) first"
                )
            tables = encode_features(split)
            self.set_feature_tables(
                None if tables.users is None else tables.users.matrix,
                {d: e.matrix for d, e in tables.items.items() if e is not None},
            )
        if self.pretrain_epochs and not float(self.features_pretrained):
            from tfcdr.training.pretrain_features import pretrain_feature_autoencoders

            pretrain_feature_autoencoders(self, epochs=self.pretrain_epochs)

    def set_user_domains(self, split):
        """Fills `user_domains` from a split's training ratings (1 = rated there)."""
        marks = np.zeros((len(self.domains), self.num_users), np.float32)
        for index, domain in enumerate(self.domains):
            if domain not in split.domains:
                raise DataError(f"the split lacks domain {domain!r}; it has {split.domain_names}")
            marks[index, split.domains[domain].train["user"].to_numpy()] = 1.0
        self.user_domains.assign(marks)

    def set_feature_tables(self, user_matrix=None, item_matrices=None):
        """Stores encoded feature matrices (e.g. from `tfcdr.data.features`).

        Args:
            user_matrix: float [num_users, user_feature_dim], or None when
                the model takes no user features.
            item_matrices: dict domain -> float [num_items, width] for the
                domains whose `item_feature_dims` is not 0.
        """
        item_matrices = dict(item_matrices or {})
        expected = {"users": (self.user_feature_table, user_matrix)}
        expected.update({d: (self.item_feature_tables.get(d), item_matrices.get(d)) for d in self.domains})
        for name, (weight, matrix) in expected.items():
            if weight is None:
                if matrix is not None:
                    raise DataError(f"the model takes no {name} features; build it with their width")
                continue
            if matrix is None:
                raise DataError(f"the model needs {name} features of shape {tuple(weight.shape)}")
            matrix = np.asarray(matrix, np.float32)
            if matrix.shape != tuple(weight.shape):
                raise DataError(
                    f"{name} features have shape {matrix.shape}; the model was built for {tuple(weight.shape)}"
                )
            weight.assign(matrix)
        if self.features_set is not None:
            self.features_set.assign(1.0)

    def feature_autoencoders(self):
        """(name, autoencoder, feature rows) to pretrain, one per domain and side.

        A domain's user autoencoder sees only the users who rated there
        (all users before `set_user_domains`): the paper trains each
        domain's autoencoders apart "to avoid the information leak".
        """
        out = []
        marks = np.asarray(self.user_domains)
        for index, d in enumerate(self.domains):
            if d in self.user_autoencoders:
                users = np.asarray(self.user_feature_table)
                present = marks[index] > 0
                out.append((f"user_{d}", self.user_autoencoders[d], users[present] if present.any() else users))
            if d in self.item_autoencoders:
                out.append((f"item_{d}", self.item_autoencoders[d], np.asarray(self.item_feature_tables[d])))
        return out

    # --- the model -----------------------------------------------------------

    def user_representation(self, domain, user_ids, training=None):
        """W_ud: id embedding plus feature embedding of domain d, [n, k]."""
        return self._representation(
            self.user_embeddings.get(domain),
            self.user_autoencoders.get(domain),
            self.user_feature_table,
            user_ids,
            training,
        )

    def item_representation(self, domain, item_ids, training=None):
        """W_id: id embedding plus feature embedding of domain d's items, [n, k]."""
        return self._representation(
            self.item_embeddings.get(domain),
            self.item_autoencoders.get(domain),
            self.item_feature_tables.get(domain),
            item_ids,
            training,
        )

    def _representation(self, embedding, autoencoder, table, ids, training):
        parts = []
        if embedding is not None:
            parts.append(embedding(ids))
        if autoencoder is not None:
            features = ops.take(table, ids, axis=0)
            # Only a fine-tuned autoencoder adds its reconstruction loss.
            parts.append(autoencoder(features, training=bool(training) and self.fine_tune_features))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def rate(self, domain, users, items, training=None):
        """RS_d(users, items): domain d's rating network, ratings in [0, 1]."""
        logits = self.rating_networks[domain](ops.concatenate([users, items], axis=-1), training=training)
        return ops.sigmoid(logits)

    def map_user(self, source, target, users):
        """Maps user embeddings from `source`'s latent space to `target`'s (X or X^T)."""
        if self.domains.index(source) < self.domains.index(target):
            return self.mappings[f"{source}_{target}"](users)
        return self.mappings[f"{target}_{source}"].inverse(users)

    def score(self, domain, user_ids, item_ids, training=None):
        """Predicted scaled ratings of eq. 2-3 (eq. 7 for n >= 3 domains), [n]."""
        self.check_domain(domain)
        users = self.user_representation(domain, user_ids, training)
        items = self.item_representation(domain, item_ids, training)
        within = self.rate(domain, users, items, training)
        if not self.mappings:
            return within
        present = ops.take(self.user_domains, user_ids, axis=1)
        k = self.domains.index(domain)
        cross_sum, count = 0.0, 0.0
        for j, other in enumerate(self.domains):
            if j == k:
                continue
            cross = self.rate(other, self.map_user(domain, other, users), items, training)
            cross_sum += present[j] * cross
            count += present[j]
        # alpha = 0 for a user without ratings here or in any other domain (sec. 3.3).
        alpha = self.transfer_rate * present[k] * ops.minimum(count, 1.0)
        return (1.0 - alpha) * within + alpha * cross_sum / ops.maximum(count, 1.0)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "hidden_units": list(self.hidden_units),
                "transfer_rate": self.transfer_rate,
                "user_feature_dim": self.user_feature_dim,
                "item_feature_dims": [self.item_feature_dims[d] for d in self.domains],
                "use_ids": self.use_ids,
                "autoencoder": self.autoencoder,
                "fine_tune_features": self.fine_tune_features,
                "reconstruction_weight": self.reconstruction_weight,
                "pretrain_epochs": self.pretrain_epochs,
                "orthogonality": self.orthogonality,
                "l2": self.l2,
                "dropout": self.dropout,
                "embedding_stddev": self.embedding_stddev,
            }
        )
        return config
