"""CDRModel: what every model of the zoo offers to training, evaluation and export."""

import keras
import keras_rs
from keras import ops

from tfcdr.data import keys
from tfcdr.errors import DataError
from tfcdr.layers.row_embedding import RowEmbedding
from tfcdr.training import distribute
from tfcdr.training.global_batch_l2 import GlobalBatchL2


def normal_embedding(count, dim, name, stddev=0.01, l2=0.0):
    """A built `RowEmbedding` with N(0, stddev^2) init and optional L2 on the rows looked up.

    `RowEmbedding` is a `keras.layers.Embedding` that gathers from the table
    variable, so that a step reads only the batch's rows (see its docstring).

    The L2 term is `l2 * mean over the looked-up rows of ||row||^2` (Keras'
    activity regularizer, which divides by the batch size), added to
    `layer.losses` at each call: only the users and items of the batch are
    regularized, as in BPR and the MF papers. A penalty on the whole table
    (`embeddings_regularizer`) instead gives every row a gradient each step,
    which Adam rescales to a full-size step: rows the data rarely touches
    (and cold-start users, never) are driven to zero, and on sparse data the
    factors collapse and the model ranks by item bias alone. Under several
    replicas the mean is over the global batch (`GlobalBatchL2`).
    """
    layer = RowEmbedding(
        count,
        dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=stddev),
        activity_regularizer=GlobalBatchL2(l2) if l2 else None,
        name=name,
    )
    layer.build()
    return layer


_PAIRWISE_LOGISTIC = keras_rs.losses.PairwiseLogisticLoss()
_PAIRWISE_LOGISTIC_ROWS = keras_rs.losses.PairwiseLogisticLoss(reduction=None)


def bpr_loss(pair_scores):
    """BPR loss of `[n, 2]` (positive, negative) scores.

    keras-rs' `PairwiseLogisticLoss` with the positive item first in each
    row. It divides the sum over the list's pairs by the list size, so the
    value is `0.5 * mean(-log sigmoid(s_pos - s_neg))`: half the textbook
    BPR mean. Adam is indifferent to the scale; an L2 weight or another
    loss term added to it weighs twice what it would beside the textbook
    mean (the zoo's defaults are tuned on this scale).

    Under a strategy with several replicas it is this replica's share of
    the global batch's mean (`distribute.replica_mean`), not keras-rs' own
    `mean / replicas`, which is off when the replicas' shares differ.
    """
    labels = ops.broadcast_to(ops.convert_to_tensor([[1.0, 0.0]], pair_scores.dtype), ops.shape(pair_scores))
    if not distribute.replicated():
        return _PAIRWISE_LOGISTIC(labels, pair_scores)
    return distribute.replica_mean(_PAIRWISE_LOGISTIC_ROWS(labels, pair_scores))


def pointwise_loss(labels, predictions, loss_type="bce", reduce=True):
    """Loss of one domain: BCE on logits ("bce") or squared error on ratings ("mse").

    The mean over the examples (under several replicas, this replica's
    share of the global batch's mean: `distribute.replica_mean`), or with
    `reduce=False` the [n] per-example losses.
    """
    labels = ops.cast(labels, predictions.dtype)
    if loss_type == "mse":
        losses = ops.square(labels - predictions)
    else:
        losses = keras.losses.binary_crossentropy(labels[:, None], predictions[:, None], from_logits=True)
    return distribute.replica_mean(losses) if reduce else losses


class CDRModel(distribute.DistributedFitFixes, keras.Model):
    """Base class of tfcdr models.

    A model is built from plain sizes (never a data object): the domain
    names, the number of users (one vocabulary shared by all domains) and
    the number of items per domain. It creates all of its weights in the
    constructor and ends it with `self.build()`, so a `.keras` file reloads
    and exports without a sample batch.

    Subclasses set `input_kind` (which `tfcdr.data.pipelines` input they
    train on: "pointwise", "pairwise", "user_vectors" or "rating") and
    implement `score`. Their loss lives in `compute_loss`.

    Args:
        domains: domain names, source(s) first and target last.
        num_users: size of the shared user vocabulary.
        num_items: dict domain -> number of items, or a list in `domains`
            order.
        **kwargs: `keras.Model` arguments (e.g. `name`).
    """

    input_kind = "pointwise"

    def __init__(self, domains, num_users, num_items, **kwargs):
        super().__init__(**kwargs)
        domains = [str(d) for d in domains]
        if not domains or len(set(domains)) != len(domains):
            raise ValueError(f"domains must be distinct names, got {domains}")
        if isinstance(num_items, dict):
            missing = set(domains) - set(num_items)
            if missing:
                raise ValueError(f"num_items lacks domains {sorted(missing)}")
            num_items = [int(num_items[d]) for d in domains]
        if len(num_items) != len(domains):
            raise ValueError("num_items needs one count per domain")
        if int(num_users) < 1 or min(num_items) < 1:
            raise ValueError("num_users and num_items must be positive")
        self.domains = domains
        self.num_users = int(num_users)
        self.num_items = dict(zip(domains, num_items, strict=True))
        self.domain_trackers = {d: keras.metrics.Mean(name=f"{d}_loss") for d in domains}

    def build(self, input_shape=None):
        # Weights already exist (made in the constructor); nothing depends on
        # the input shape, which lets a saved model reload without data.
        self.built = True

    def prepare(self, split):
        """Sets state that comes from the data rather than from training.

        Called by `tfcdr.training.fit_model` before training. Models that
        need, e.g., users' training histories (autoencoders) or which users
        are in several domains keep them in non-trainable weights filled
        here, so the constructor still takes plain sizes only and a `.keras`
        file restores the state. The default does nothing.

        Args:
            split: the `tfcdr.data.splits.Split` the model is trained on.
        """

    def check_domain(self, domain):
        if domain not in self.num_items:
            raise DataError(f"unknown domain {domain!r}; the model has {self.domains}")

    def score(self, domain, user_ids, item_ids):
        """Scores (user, item) pairs in a domain: higher means recommend sooner.

        Args:
            domain: domain name.
            user_ids: int [n] user indices.
            item_ids: int [n] item indices of that domain.

        Returns:
            float [n]: logits for ranking models, predicted ratings for
            rating models.
        """
        raise NotImplementedError

    def score_all_items(self, domain, user_ids):
        """Scores every item of a domain for each user: float [n, num_items].

        The default tiles `score`; models that produce all items at once
        (autoencoders) override it.
        """
        self.check_domain(domain)
        count = self.num_items[domain]
        n = ops.shape(user_ids)[0]
        users = ops.reshape(ops.repeat(ops.expand_dims(user_ids, 1), count, axis=1), (-1,))
        items = ops.reshape(ops.tile(ops.expand_dims(ops.arange(count, dtype=user_ids.dtype), 0), (n, 1)), (-1,))
        return ops.reshape(self.score(domain, users, items), (n, count))

    def pair_scores(self, inputs, score=None):
        """Scores of each domain's (positive, negative) items: `{domain: [n, 2]}`.

        The output of pairwise (BPR-style) models' `call`; `score` defaults to
        `self.score`.
        """
        score = score or self.score
        out = {}
        for domain, features in inputs.items():
            positive = score(domain, features[keys.USER_ID], features[keys.POSITIVE_ITEM_ID])
            negative = score(domain, features[keys.USER_ID], features[keys.NEGATIVE_ITEM_ID])
            out[domain] = ops.stack([positive, negative], axis=1)
        return out

    def add_rating_offsets(self):
        """One unregularized scalar per domain added to the scores: `rating_offset(domain)`.

        Scaled ratings sit around a domain mean far from zero (about 0.7 on
        [0, 1]); without an offset the L2-penalized item biases and factors
        would have to carry it and are pulled below it. Factorization models
        add these under squared-error training only: ranking losses ignore a
        constant shift (BPR's gradient on it is exactly zero).
        """
        self.rating_offsets = {
            d: self.add_weight(shape=(), initializer="zeros", name=f"rating_offset_{d}") for d in self.domains
        }

    def rating_offset(self, domain):
        """The domain's rating offset, or 0 for models without offsets."""
        offsets = getattr(self, "rating_offsets", None)
        return offsets[domain] if offsets else 0.0

    def record_domain_losses(self, losses):
        """Updates the per-domain loss trackers shown as `<domain>_loss` in logs.

        Under several replicas `losses` are shares of the global mean; the
        trackers get them times the replica count, as Keras' `loss` does.
        """
        for domain, value in losses.items():
            self.domain_trackers[domain].update_state(distribute.unscale_for_replicas(value))

    def regularization_loss(self):
        """The sum of `self.losses`; under R replicas, this replica's 1/R share of it.

        Weight penalties are the same on every replica and the optimizer
        sums the replicas' gradients, hence 1/R (as Keras scales its own
        regularization); `GlobalBatchL2` activity terms are made to average
        to the global value over the replicas, so 1/R suits them too.
        """
        return distribute.scale_for_replicas(ops.sum(self.losses)) if self.losses else 0.0

    def get_config(self):
        return {
            "domains": list(self.domains),
            "num_users": self.num_users,
            "num_items": [self.num_items[d] for d in self.domains],
            "name": self.name,
        }


class PointwiseModel(CDRModel):
    """A model trained with per-domain binary cross-entropy on (user, item, label).

    Its `call` maps `{domain: {USER_ID, ITEM_ID}}` to `{domain: logits}`; the
    loss is `sum_d domain_weights[d] * BCE_d` plus regularization.

    Args:
        domain_weights: optional dict domain -> loss weight (default 1 each).
        **kwargs: `CDRModel` arguments.
    """

    input_kind = "pointwise"

    def __init__(self, domains, num_users, num_items, domain_weights=None, **kwargs):
        super().__init__(domains, num_users, num_items, **kwargs)
        weights = dict.fromkeys(self.domains, 1.0)
        weights.update(domain_weights or {})
        unknown = set(weights) - set(self.domains)
        if unknown:
            raise ValueError(f"domain_weights names unknown domains {sorted(unknown)}")
        self.domain_weights = {d: float(weights[d]) for d in self.domains}

    def call(self, inputs, training=None):
        return {
            domain: self.score(domain, features[keys.USER_ID], features[keys.ITEM_ID], training=training)
            for domain, features in inputs.items()
        }

    # "bce": logits of implicit feedback; "mse": predicted (scaled) ratings.
    loss_type = "bce"

    def domain_loss(self, labels, predictions):
        """One domain's mean loss: BCE on logits, or MSE when `loss_type` is "mse"."""
        return pointwise_loss(labels, predictions, self.loss_type)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = {domain: self.domain_loss(y[domain], predictions) for domain, predictions in y_pred.items()}
        self.record_domain_losses(losses)
        total = sum(self.domain_weights[d] * value for d, value in losses.items())
        return total + self.regularization_loss()

    def get_config(self):
        config = super().get_config()
        config["domain_weights"] = dict(self.domain_weights)
        return config
