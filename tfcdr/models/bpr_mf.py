"""BPR-MF: matrix factorization trained with the pairwise BPR loss."""

from keras import ops

from tfcdr.models.cdr_model import CDRModel, bpr_loss, normal_embedding
from tfcdr.serialization import register


@register
class BPRMF(CDRModel):
    """Per-domain user and item factors scored by dot product plus item bias.

    Trained on (user, positive, negative) triples with the BPR criterion
    `-log sigmoid(s_pos - s_neg)` through keras-rs' `PairwiseLogisticLoss`
    on the two-item list [positive, negative] (which halves it; see
    `tfcdr.models.cdr_model.bpr_loss`). Each domain has its own user
    factors unless `share_users=True`.

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: factor size (32).
        l2: L2 weight on the factors of each batch (`normal_embedding`); 1e-2 was
            best of 1e-5..1e-1 for BPR-MF, CMF and CDFM on douban-book-music.
        share_users: one user factor table for all domains.

    Reference:
        Rendle et al., BPR: Bayesian Personalized Ranking from Implicit
        Feedback, UAI 2009.
    """

    input_kind = "pairwise"

    def __init__(self, domains, num_users, num_items, embedding_dim=32, l2=1e-2, share_users=False, **kwargs):
        super().__init__(domains, num_users, num_items, **kwargs)
        self.embedding_dim = int(embedding_dim)
        self.l2 = float(l2)
        self.share_users = bool(share_users)

        def embedding(count, dim, name, stddev=0.1):
            return normal_embedding(count, dim, name, stddev, self.l2)

        shared = embedding(self.num_users, self.embedding_dim, "user_factors") if self.share_users else None
        self.user_factors = {
            d: shared or embedding(self.num_users, self.embedding_dim, f"user_factors_{d}") for d in self.domains
        }
        self.item_factors = {
            d: embedding(self.num_items[d], self.embedding_dim, f"item_factors_{d}") for d in self.domains
        }
        self.item_biases = {d: embedding(self.num_items[d], 1, f"item_bias_{d}", stddev=0.0) for d in self.domains}
        self.build()

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        users = self.user_factors[domain](user_ids)
        items = self.item_factors[domain](item_ids)
        bias = ops.squeeze(self.item_biases[domain](item_ids), axis=-1)
        return ops.sum(users * items, axis=-1) + bias

    def call(self, inputs, training=None):
        return self.pair_scores(inputs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        losses = {domain: bpr_loss(pair_scores) for domain, pair_scores in y_pred.items()}
        self.record_domain_losses(losses)
        return sum(losses.values()) + self.regularization_loss()

    def get_config(self):
        config = super().get_config()
        config.update({"embedding_dim": self.embedding_dim, "l2": self.l2, "share_users": self.share_users})
        return config
