"""CMF: collective matrix factorization over domains that share users."""

from keras import ops

from tfcdr.models.cdr_model import PointwiseModel, bpr_loss, normal_embedding
from tfcdr.serialization import register

# Which pipeline each loss trains on (see `tfcdr.data.pipelines`).
INPUT_KINDS = {"bce": "pointwise", "mse": "rating", "bpr": "pairwise"}


@register
class CMF(PointwiseModel):
    """One user factor table shared by every domain; per-domain item factors.

    The score of user u and item i of domain d is `U[u] . V_d[i] + b_d[i]`.
    Sharing `U` is the whole transfer mechanism: the factorizations of all
    domains' matrices are coupled through it (Singh & Gordon's relation
    `users x items_d` for each d). The objective is
    `sum_d w_d * L_d + l2 * ||factors||^2` where `w_d` is
    `auxiliary_weight` for every domain but the last (the target, weight 1)
    unless `domain_weights` names it, and `L_d` is chosen by `loss_type`:

    - "bce": binary cross-entropy of logits on positives and sampled
      negatives (implicit feedback; input kind "pointwise"), the variant
      the CoNet and SharedVAE papers compare against;
    - "mse": squared error on ratings scaled to [0, 1] (explicit feedback,
      Singh & Gordon's Gaussian link; input kind "rating");
    - "bpr": `-log sigmoid(s_pos - s_neg)` through keras-rs'
      `PairwiseLogisticLoss` (halved; see `cdr_model.bpr_loss`; input kind
      "pairwise").

    Because the input a model trains on depends on `loss_type`, `input_kind`
    is a property of the instance here rather than a class constant.

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: factor size (32).
        loss_type: "bce", "mse" or "bpr".
        auxiliary_weight: loss weight of every non-target domain (1.0).
        domain_weights: optional dict domain -> weight; overrides
            `auxiliary_weight` (and the target's 1) for the domains it names.
        l2: L2 weight on the factors and biases of each batch; 1e-2 as `BPRMF`.
        embedding_stddev: std of the normal factor initializer (0.1).

    Example:
        >>> model = CMF(["books", "movies"], 100, {"books": 50, "movies": 40},
        ...             loss_type="bpr", auxiliary_weight=0.5)
        >>> model.input_kind
        'pairwise'

    Reference:
        Singh & Gordon, Relational Learning via Collective Matrix
        Factorization, KDD 2008 (a weighted sum of per-relation losses whose
        relations share the user factors).
    """

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        loss_type="bce",
        auxiliary_weight=1.0,
        domain_weights=None,
        l2=1e-2,
        embedding_stddev=0.1,
        **kwargs,
    ):
        if loss_type not in INPUT_KINDS:
            raise ValueError(f"loss_type must be one of {sorted(INPUT_KINDS)}, got {loss_type!r}")
        if float(auxiliary_weight) < 0:
            raise ValueError(f"auxiliary_weight must be >= 0, got {auxiliary_weight}")
        names = [str(d) for d in domains]
        weights = {d: float(auxiliary_weight) for d in names[:-1]}
        weights.update(domain_weights or {})
        super().__init__(domains, num_users, num_items, domain_weights=weights, **kwargs)
        self.embedding_dim = int(embedding_dim)
        self.loss_type = loss_type
        self.auxiliary_weight = float(auxiliary_weight)
        self.l2 = float(l2)
        self.embedding_stddev = float(embedding_stddev)

        def embedding(count, dim, name, stddev):
            return normal_embedding(count, dim, name, stddev, self.l2)

        self.user_factors = embedding(self.num_users, self.embedding_dim, "user_factors", self.embedding_stddev)
        self.item_factors = {
            d: embedding(
                self.num_items[d],
                self.embedding_dim,
                f"item_factors_{d}",
                self.embedding_stddev,
            )
            for d in self.domains
        }
        self.item_biases = {d: embedding(self.num_items[d], 1, f"item_bias_{d}", 0.0) for d in self.domains}
        if self.loss_type == "mse":
            self.add_rating_offsets()
        self.build()

    @property
    def input_kind(self):
        return INPUT_KINDS[self.loss_type]

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        users = self.user_factors(user_ids)
        items = self.item_factors[domain](item_ids)
        bias = ops.squeeze(self.item_biases[domain](item_ids), axis=-1)
        return ops.sum(users * items, axis=-1) + bias + self.rating_offset(domain)

    def call(self, inputs, training=None):
        if self.loss_type != "bpr":
            return super().call(inputs, training=training)
        return self.pair_scores(inputs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.loss_type != "bpr":
            return super().compute_loss(x, y, y_pred, sample_weight, training)
        losses = {domain: bpr_loss(scores) for domain, scores in y_pred.items()}
        self.record_domain_losses(losses)
        total = sum(self.domain_weights[d] * value for d, value in losses.items())
        return total + self.regularization_loss()

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "loss_type": self.loss_type,
                "auxiliary_weight": self.auxiliary_weight,
                "l2": self.l2,
                "embedding_stddev": self.embedding_stddev,
            }
        )
        return config
