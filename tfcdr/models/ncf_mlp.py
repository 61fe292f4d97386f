"""NCF-MLP: the multilayer perceptron of neural collaborative filtering."""

from keras import ops

from tfcdr.layers.mlp_tower import MLPTower
from tfcdr.models.cdr_model import PointwiseModel, normal_embedding
from tfcdr.serialization import register


@register
class NCFMLP(PointwiseModel):
    """User and item embeddings concatenated into an MLP tower, per domain.

    With the defaults each domain has its own user embedding, item embedding
    and tower, trained on its own interactions: the single-domain "MLP"
    baseline of the papers, run on every domain of a split at once. With
    `share_users=True, share_tower=True` one user embedding and one tower
    serve all domains (items keep per-domain embeddings): "MLP++", the MLP
    trained on merged domains.

    Layer names are stable: `user_embedding[_<domain>]`,
    `item_embedding_<domain>`, `tower[_<domain>]` whose layers are `fc_1` ..
    `fc_4` and `prediction`.

    Args:
        domains, num_users, num_items: see `CDRModel`.
        embedding_dim: user and item embedding size (32).
        hidden_units: tower widths (64, 32, 16, 8).
        share_users: one user embedding across domains.
        share_tower: one tower across domains.
        l2: L2 weight on embeddings.
        dropout: dropout in the tower.
        embedding_stddev: std of the normal embedding initializer (0.01).
        domain_weights: per-domain loss weights.

    Reference:
        He et al., Neural Collaborative Filtering, WWW 2017 (MLP part); the
        configuration of Nguyen et al. (embedding 32, FC 64-32-16-8).
    """

    def __init__(
        self,
        domains,
        num_users,
        num_items,
        embedding_dim=32,
        hidden_units=(64, 32, 16, 8),
        share_users=False,
        share_tower=False,
        l2=0.0,
        dropout=0.0,
        embedding_stddev=0.01,
        domain_weights=None,
        **kwargs,
    ):
        super().__init__(domains, num_users, num_items, domain_weights=domain_weights, **kwargs)
        self.embedding_dim = int(embedding_dim)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        self.share_users = bool(share_users)
        self.share_tower = bool(share_tower)
        self.l2 = float(l2)
        self.dropout = float(dropout)
        self.embedding_stddev = float(embedding_stddev)

        def embedding(count, name):
            return normal_embedding(count, self.embedding_dim, name, self.embedding_stddev, self.l2)

        def tower(name):
            layer = MLPTower(self.hidden_units, dropout=self.dropout, name=name)
            layer.build((None, 2 * self.embedding_dim))
            return layer

        shared_users = embedding(self.num_users, "user_embedding") if self.share_users else None
        shared_tower = tower("tower") if self.share_tower else None
        self.user_embeddings = {
            d: shared_users or embedding(self.num_users, f"user_embedding_{d}") for d in self.domains
        }
        self.item_embeddings = {d: embedding(self.num_items[d], f"item_embedding_{d}") for d in self.domains}
        self.towers = {d: shared_tower or tower(f"tower_{d}") for d in self.domains}
        self.build()

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        features = ops.concatenate(
            [self.user_embeddings[domain](user_ids), self.item_embeddings[domain](item_ids)], axis=-1
        )
        return self.towers[domain](features, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "hidden_units": list(self.hidden_units),
                "share_users": self.share_users,
                "share_tower": self.share_tower,
                "l2": self.l2,
                "dropout": self.dropout,
                "embedding_stddev": self.embedding_stddev,
            }
        )
        return config
