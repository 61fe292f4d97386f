"""CDFM: a factorization machine over the merged domains, the domain a field."""

import logging

import keras
import keras_rs
import numpy as np
from keras import ops

from tfcdr.models.cdr_model import PointwiseModel, normal_embedding
from tfcdr.serialization import register

logger = logging.getLogger("tfcdr")

INPUT_KINDS = {"bce": "pointwise", "mse": "rating"}


@register
class CDFM(PointwiseModel):
    """Second-order factorization machine on (user, item, domain[, side]) fields.

    All domains are merged into one FM. The fields of an example of domain
    d are the user id, the item id (items of every domain in one vocabulary,
    domain d's ids offset by the sizes of the domains before it), the domain
    id and, when sizes are given, a user side-feature field and an item
    side-feature field of domain d. The score (Rendle 2010, eq. 1, with
    fields as the non-zero features) is

        y = w0 + sum_f w_f + sum_{f < g} <v_f, v_g>
          = w0 + sum_f w_f + 0.5 * (||sum_f v_f||^2 - sum_f ||v_f||^2),

    the pairwise sum computed by keras-rs' `DotInteraction`. The user's
    factor meets every domain's items and the domain's factor, so what the
    user shows in one domain informs the others. This is the FM baseline of
    the CoNet paper: factorization on the merged domains aligned by the
    shared users (there run with libFM).

    Side features are dense vectors looked up per id from non-trainable
    tables stored in the model (`user_side_features`,
    `item_side_features_<domain>`), so `score(domain, users, items)` and the
    exported model need nothing but ids. A side field's value is
    `x @ V_side` (and its linear term `x @ w_side`): the usual pooled
    multi-hot field of DeepFM. It leaves out the interactions inside one
    field (genre x genre of the same movie), which are a constant per user
    or per item that the id's own linear weight can absorb. Fill the tables
    with `set_side_features`; `encode_side_features(data)` turns a
    `CrossDomainData`'s feature tables into the arrays (see there).

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: factor size of every field (32).
        loss_type: "bce" (implicit feedback, logits; input "pointwise") or
            "mse" (ratings scaled to [0, 1]; input "rating").
        l2: L2 weight on the factors and linear weights of each batch; 1e-2
            as `BPRMF`.
        user_feature_dim: width of the user side-feature vectors (0: none).
        item_feature_dims: dict domain -> width of its item side-feature
            vectors, or a list in `domains` order (missing or 0: none).
        domain_weights: per-domain loss weights (see `PointwiseModel`).
        embedding_stddev: std of the normal factor initializer (0.1; with
            much smaller factors the products start near a saddle at zero
            and learn slowly).

    Reference:
        Rendle, Factorization Machines, ICDM 2010; Rendle, Factorization
        Machines with libFM, ACM TIST 2012 (the version CoNet compares with).
    """

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        loss_type="bce",
        l2=1e-2,
        user_feature_dim=0,
        item_feature_dims=None,
        domain_weights=None,
        embedding_stddev=0.1,
        **kwargs,
    ):
        super().__init__(domains, num_users, num_items, domain_weights=domain_weights, **kwargs)
        if loss_type not in INPUT_KINDS:
            raise ValueError(f"loss_type must be one of {sorted(INPUT_KINDS)}, got {loss_type!r}")
        if isinstance(item_feature_dims, list | tuple):
            item_feature_dims = dict(zip(self.domains, item_feature_dims, strict=True))
        item_feature_dims = dict(item_feature_dims or {})
        unknown = set(item_feature_dims) - set(self.domains)
        if unknown:
            raise ValueError(f"item_feature_dims names unknown domains {sorted(unknown)}")
        self.embedding_dim = int(embedding_dim)
        self.loss_type = loss_type
        self.l2 = float(l2)
        self.user_feature_dim = int(user_feature_dim)
        self.item_feature_dims = {d: int(item_feature_dims.get(d, 0)) for d in self.domains}
        self.embedding_stddev = float(embedding_stddev)
        regularizer = keras.regularizers.L2(self.l2) if self.l2 else None

        def embedding(count, dim, name, stddev):
            return normal_embedding(count, dim, name, stddev, self.l2)

        def projection(width, units, name):
            layer = keras.layers.Dense(units, use_bias=False, kernel_regularizer=regularizer, name=name)
            layer.build((None, width))
            return layer

        k = self.embedding_dim
        self.item_offsets = dict(
            zip(
                self.domains,
                np.cumsum([0] + [self.num_items[d] for d in self.domains])[:-1].tolist(),
                strict=True,
            )
        )
        total_items = sum(self.num_items.values())
        self.global_bias = self.add_weight(shape=(), initializer="zeros", name="global_bias")
        self.user_linear = embedding(self.num_users, 1, "user_linear", 0.0)
        self.item_linear = embedding(total_items, 1, "item_linear", 0.0)
        self.domain_linear = embedding(len(self.domains), 1, "domain_linear", 0.0)
        self.user_factors = embedding(self.num_users, k, "user_factors", self.embedding_stddev)
        self.item_factors = embedding(total_items, k, "item_factors", self.embedding_stddev)
        self.domain_factors = embedding(len(self.domains), k, "domain_factors", self.embedding_stddev)
        self.interaction = keras_rs.layers.DotInteraction(name="interaction")

        self.user_side = None
        if self.user_feature_dim:
            self.user_side = self.add_weight(
                shape=(self.num_users, self.user_feature_dim),
                initializer="zeros",
                trainable=False,
                name="user_side_features",
            )
            self.user_side_linear = projection(self.user_feature_dim, 1, "user_side_linear")
            self.user_side_factors = projection(self.user_feature_dim, k, "user_side_factors")
        self.item_side, self.item_side_linear, self.item_side_factors = {}, {}, {}
        for d, width in self.item_feature_dims.items():
            if not width:
                continue
            self.item_side[d] = self.add_weight(
                shape=(self.num_items[d], width),
                initializer="zeros",
                trainable=False,
                name=f"item_side_features_{d}",
            )
            self.item_side_linear[d] = projection(width, 1, f"item_side_linear_{d}")
            self.item_side_factors[d] = projection(width, k, f"item_side_factors_{d}")
        self.build()

    @property
    def input_kind(self):
        return INPUT_KINDS[self.loss_type]

    def fields(self, domain, user_ids, item_ids):
        """(linear terms [n, F], factors: list of F float [n, K]) of each example."""
        self.check_domain(domain)
        items = ops.cast(item_ids, "int32") + self.item_offsets[domain]
        domain_ids = ops.full_like(items, self.domains.index(domain))
        linear = [
            self.user_linear(user_ids),
            self.item_linear(items),
            self.domain_linear(domain_ids),
        ]
        factors = [
            self.user_factors(user_ids),
            self.item_factors(items),
            self.domain_factors(domain_ids),
        ]
        if self.user_side is not None:
            side = ops.take(self.user_side, user_ids, axis=0)
            linear.append(self.user_side_linear(side))
            factors.append(self.user_side_factors(side))
        if domain in self.item_side:
            side = ops.take(self.item_side[domain], item_ids, axis=0)
            linear.append(self.item_side_linear[domain](side))
            factors.append(self.item_side_factors[domain](side))
        return ops.concatenate(linear, axis=-1), factors

    def score(self, domain, user_ids, item_ids, training=None):
        linear, factors = self.fields(domain, user_ids, item_ids)
        pairwise = ops.sum(self.interaction(factors), axis=-1)
        return self.global_bias + ops.sum(linear, axis=-1) + pairwise

    def prepare(self, split):
        """Fills the side-feature tables from the split's feature tables.

        They are encoded by `tfcdr.data.features.encode_features`, the same
        encoding `build_model` measured the widths with.
        """
        if not self.user_feature_dim and not any(self.item_feature_dims.values()):
            return
        from tfcdr.data.features import encode_features

        tables = encode_features(split)
        self.set_side_features(
            None if tables.users is None or not self.user_feature_dim else tables.users.matrix,
            {d: e.matrix for d, e in tables.items.items() if e is not None and self.item_feature_dims.get(d)},
        )

    def set_side_features(self, user_features=None, item_features=None):
        """Copies side-feature arrays into the model's lookup tables.

        Args:
            user_features: float [num_users, user_feature_dim], row = user index.
            item_features: dict domain -> float [num_items, width], row = item
                index of that domain.
        """
        if user_features is not None:
            if self.user_side is None:
                raise ValueError("the model was built with user_feature_dim=0")
            self.user_side.assign(_checked(user_features, self.user_side.shape, "user_features"))
        for d, table in (item_features or {}).items():
            if d not in self.item_side:
                raise ValueError(f"the model has no item side features for domain {d!r} (item_feature_dims)")
            self.item_side[d].assign(_checked(table, self.item_side[d].shape, f"item_features[{d!r}]"))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "loss_type": self.loss_type,
                "l2": self.l2,
                "user_feature_dim": self.user_feature_dim,
                "item_feature_dims": dict(self.item_feature_dims),
                "embedding_stddev": self.embedding_stddev,
            }
        )
        return config


def _checked(array, shape, name):
    array = np.asarray(array, np.float32)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} has shape {array.shape}; the model expects {tuple(shape)}")
    return array
