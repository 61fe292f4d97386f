"""Pop: the popularity floor, items scored by how often they were trained on."""

import numpy as np
from keras import ops

from tfcdr.models.prepared_model import PreparedModel
from tfcdr.serialization import register

PREDICTIONS = ("count", "mean")


@register
class Pop(PreparedModel):
    """Scores an item by its number of training interactions in the domain, the same for every user.

    The floor a personalized model must beat: ranking everyone's candidates
    by popularity. Its only weights are one non-trainable score per item,
    set from the split by `prepare(split)` (which `fit_model` calls), so a
    `.keras` file or an export carries them; training steps change nothing
    (`compute_loss` is 0 and there is nothing to train).

    Under the rating protocol a count is no rating, so `predict="mean"`
    (the zoo's preset there) scores each item by its mean training rating
    on the split's scale, and items without training ratings by the
    domain's mean rating: the item-mean floor.

    Args:
        domains, num_users, num_items: see `tfcdr.models.CDRModel`.
        predict: "count" (ranking protocols) or "mean" (rating).

    Example:
        >>> model = Pop(split.domain_names, split.num_users, split.num_items)
        >>> model.prepare(split)
        >>> model.score("target", users, items)   # training counts of the items

    Reference:
        The "MostPop" baseline of, e.g., Cremonesi et al., Performance of
        Recommender Algorithms on Top-N Recommendation Tasks, RecSys 2010.
    """

    def __init__(self, domains, num_users, num_items, predict="count", **kwargs):
        super().__init__(domains, num_users, num_items, **kwargs)
        if predict not in PREDICTIONS:
            raise ValueError(f"predict must be one of {PREDICTIONS}, got {predict!r}")
        self.predict = predict
        self.item_scores = {
            d: self.add_weight(shape=(size,), initializer="zeros", trainable=False, name=f"item_scores_{d}")
            for d, size in self.num_items.items()
        }
        self.build()

    def prepare(self, split):
        """Sets each item's score from the split's training rows (counts, or mean ratings)."""
        for d in self.domains:
            train = split.domains[d].train
            items = train["item"].to_numpy()
            counts = np.bincount(items, minlength=self.num_items[d]).astype(np.float64)
            if self.predict == "count":
                scores = counts
            else:
                sums = np.bincount(items, weights=train["rating"].to_numpy(np.float64), minlength=self.num_items[d])
                fallback = float(train["rating"].mean()) if len(train) else 0.0
                scores = np.divide(sums, counts, out=np.full_like(sums, fallback), where=counts > 0)
            self.item_scores[d].assign(scores.astype(np.float32))

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        return ops.take(self.item_scores[domain], ops.cast(item_ids, "int32"), axis=0)

    def get_config(self):
        config = super().get_config()
        config["predict"] = self.predict
        return config
