"""CoNet: collaborative cross networks, two NCF-MLP towers joined by cross units."""

import keras
from keras import ops

from tfcdr.data import keys
from tfcdr.data.paired import paired_item_key
from tfcdr.layers.cross_unit import CrossUnit
from tfcdr.models.cdr_model import PointwiseModel, normal_embedding, pointwise_loss
from tfcdr.serialization import register
from tfcdr.training import distribute

INPUT_KINDS = {"bce": "paired_pointwise", "mse": "paired_rating"}


@register
class CoNet(PointwiseModel):
    """Two MLP towers over a shared user embedding, coupled by cross units.

    Each domain's tower is the NCF-MLP base network: `[P u, Q_d i]` through
    ReLU layers `hidden_units` to a logit. On each layer listed in
    `cross_layers` the towers are coupled by a `CrossUnit` (eq. 3): layer l
    of each tower also receives the other tower's layer l-1 through the task
    relationship matrix `H^l` (layer 0 is the embedding input). The loss is
    eq. (7), `target_weight * L_target + (1 - target_weight) * L_source`
    (BCE on logits, the target being `domains[-1]`), plus the lasso penalty
    of eq. (8) on every `H` when `lasso_weight > 0` (CoNet-lasso). With
    `loss_type="mse"` (the `rating` protocol, beyond the paper) the heads
    regress the scaled ratings instead, trained on squared error over the
    rated rows without negatives (`paired_ratings`).

    Training rows come from `tfcdr.data.paired.paired_pointwise`: one user
    with one example per domain, so both towers run on the same user at
    once as in the paper. An example of one domain that has no partner in
    the other (its user has fewer or no examples there) gets the other
    domain's learned "no item" embedding on the other tower, with weight 0
    on that tower's loss.

    Scoring runs the full model, cross units included: to score (u, i) in
    domain A, tower B receives `[P u, Q_B no_item]`, the user seen by the
    other domain's network without an item. "No item" is row `num_items[d]`
    of each item embedding table, trained by the unpaired examples above,
    so the scoring input is one the model was trained on.

    Layer names: `user_embedding`, `item_embedding_<domain>` (one extra "no
    item" row), `cross_unit_<l>` for coupled layers, `fc_<l>_<domain>` for
    uncoupled ones, `prediction_<domain>`.

    Args:
        domains: exactly two names, source first and target last.
        num_users, num_items: see `CDRModel`.
        embedding_dim: user and item embedding size (32).
        hidden_units: tower widths (64, 32, 16, 8).
        cross_layers: 1-based indices of the hidden layers computed by a
            cross unit; None couples all of them.
        target_weight: alpha of eq. (7), the weight of the target loss.
        lasso_weight: lambda of eq. (8); > 0 gives CoNet-lasso. Our BCE is a
            mean over examples while eq. (5) sums them, so the paper's 0.1
            over a batch of 128 is about 1e-3 here.
        share_task_relationship: one `H^l` for both directions (the paper).
        embedding_stddev: std of the normal embedding initializer (0.01).
        loss_type: "bce" (implicit feedback, the paper) or "mse" (ratings).

    Call arguments:
        inputs: a paired row batch `{USER_ID: [n], "<domain>_item_id": [n]}`
            (see `paired_pointwise`).

    Returns:
        dict domain -> float [n] logits.

    Example:
        >>> model = CoNet(["movies", "books"], num_users=100, num_items=[50, 80])
        >>> model.score("books", np.array([0, 1]), np.array([3, 4])).shape
        TensorShape([2])

    Reference:
        Hu, Zhang and Yang, CoNet: Collaborative Cross Networks for
        Cross-Domain Recommendation, CIKM 2018.
    """

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        hidden_units=(64, 32, 16, 8),
        cross_layers=None,
        target_weight=0.5,
        lasso_weight=0.0,
        share_task_relationship=True,
        embedding_stddev=0.01,
        loss_type="bce",
        **kwargs,
    ):
        domains = [str(d) for d in domains]
        if loss_type not in INPUT_KINDS:
            raise ValueError(f"loss_type must be one of {sorted(INPUT_KINDS)}, got {loss_type!r}")
        if len(domains) != 2:
            raise ValueError(f"CoNet couples exactly two domains (source, target), got {domains}")
        if not 0.0 <= float(target_weight) <= 1.0:
            raise ValueError(f"target_weight must be in [0, 1], got {target_weight}")
        source, target = domains
        weights = {source: 1.0 - float(target_weight), target: float(target_weight)}
        super().__init__(domains, num_users, num_items, domain_weights=weights, **kwargs)
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        if not self.hidden_units or min(self.hidden_units) < 1:
            raise ValueError(f"hidden_units must be positive widths, got {self.hidden_units}")
        depth = len(self.hidden_units)
        if cross_layers is None:
            cross_layers = range(1, depth + 1)
        self.cross_layers = tuple(sorted({int(layer) for layer in cross_layers}))
        if any(not 1 <= layer <= depth for layer in self.cross_layers):
            raise ValueError(f"cross_layers must be in 1..{depth}, got {list(self.cross_layers)}")
        self.target_weight = float(target_weight)
        self.lasso_weight = float(lasso_weight)
        self.share_task_relationship = bool(share_task_relationship)
        self.embedding_stddev = float(embedding_stddev)
        self.loss_type = loss_type

        def embedding(count, name):
            return normal_embedding(count, self.embedding_dim, name, self.embedding_stddev)

        # P is shared (task-shared parameters); Q_d, W_d and the heads are per domain.
        self.user_embedding = embedding(self.num_users, "user_embedding")
        self.item_embeddings = {d: embedding(self.num_items[d] + 1, f"item_embedding_{d}") for d in domains}
        self.cross_units = {}
        self.plain_layers = {}
        width = 2 * self.embedding_dim
        for layer, units in enumerate(self.hidden_units, start=1):
            if layer in self.cross_layers:
                unit = CrossUnit(
                    units,
                    share_task_relationship=self.share_task_relationship,
                    lasso_weight=self.lasso_weight,
                    name=f"cross_unit_{layer}",
                )
                unit.build(((None, width), (None, width)))
                self.cross_units[str(layer)] = unit
            else:
                for d in domains:
                    dense = keras.layers.Dense(units, activation="relu", name=f"fc_{layer}_{d}")
                    dense.build((None, width))
                    self.plain_layers[f"{layer}_{d}"] = dense
            width = units
        self.predictions = {}
        for d in domains:
            self.predictions[d] = keras.layers.Dense(1, name=f"prediction_{d}")
            self.predictions[d].build((None, width))
        self.build()

    @property
    def input_kind(self):
        return INPUT_KINDS[self.loss_type]

    def no_item(self, domain, like):
        """The "no item" index of `domain`, shaped like the int tensor `like`."""
        return ops.full_like(like, self.num_items[domain])

    def towers(self, user_ids, item_ids, training=None):
        """Runs both towers on one user per row: eq. (3) on the coupled layers.

        Args:
            user_ids: int [n] user indices.
            item_ids: dict domain -> int [n] item indices (a domain's
                `num_items` is its "no item").

        Returns:
            dict domain -> float [n] logits.
        """
        users = self.user_embedding(user_ids)
        hidden = [ops.concatenate([users, self.item_embeddings[d](item_ids[d])], axis=-1) for d in self.domains]
        for layer in range(1, len(self.hidden_units) + 1):
            if layer in self.cross_layers:
                hidden = list(self.cross_units[str(layer)](tuple(hidden)))
            else:
                hidden = [self.plain_layers[f"{layer}_{d}"](h) for d, h in zip(self.domains, hidden, strict=True)]
        return {d: ops.squeeze(self.predictions[d](h), axis=-1) for d, h in zip(self.domains, hidden, strict=True)}

    def call(self, inputs, training=None):
        items = {d: inputs[paired_item_key(d)] for d in self.domains}
        return self.towers(inputs[keys.USER_ID], items, training=training)

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        items = {d: item_ids if d == domain else self.no_item(d, item_ids) for d in self.domains}
        return self.towers(user_ids, items, training=training)[domain]

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # Eq. (7) over the examples each row really has: a side holding
        # "no item" has weight 0 and does not dilute its domain's mean.
        losses = {}
        for domain, outputs in y_pred.items():
            weights = (
                ops.ones_like(outputs) if sample_weight is None else ops.cast(sample_weight[domain], outputs.dtype)
            )
            per_example = pointwise_loss(y[domain], outputs, self.loss_type, reduce=False)
            losses[domain] = distribute.replica_mean(per_example, weights)
        self.record_domain_losses(losses)
        total = sum(self.domain_weights[d] * value for d, value in losses.items())
        return total + self.regularization_loss()

    @property
    def treats_domains_alike(self):
        """True when swapping source and target gives the same model (equal loss weights).

        The cross units couple the towers symmetrically, so only eq. 7's
        weight tells the two domains apart: with 0.5 a run on (a, b) is also
        the run on (b, a) (`tfcdr compare --pair-models` trains it once).
        """
        return self.target_weight == 0.5

    def get_config(self):
        config = super().get_config()
        # domain_weights follow from target_weight (eq. 7).
        config.pop("domain_weights")
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "hidden_units": list(self.hidden_units),
                "cross_layers": list(self.cross_layers),
                "target_weight": self.target_weight,
                "lasso_weight": self.lasso_weight,
                "share_task_relationship": self.share_task_relationship,
                "embedding_stddev": self.embedding_stddev,
                "loss_type": self.loss_type,
            }
        )
        return config
