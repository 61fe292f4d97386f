"""Bias: the baseline predictor, a global mean plus user and item biases."""

import numpy as np
from keras import ops

from tfcdr.models.prepared_model import PreparedModel
from tfcdr.serialization import register

FIT_ON = ("observed", "binary")


@register
class Bias(PreparedModel):
    """Predicts `mu + b_u + b_i` per domain, fit by regularized least squares.

    The baseline predictor of Koren's factor models (eq. 1 of the reference)
    with its ridge objective
    `sum (r_ui - mu - b_u - b_i)^2 + l2 * (sum b_u^2 + sum b_i^2)`,
    solved exactly by alternating least squares (each step is the closed-form
    minimizer of one block, so the loss never rises) in `prepare(split)`,
    which `fit_model` calls. Its weights are non-trainable and training steps
    change nothing; a `.keras` file or an export carries the fitted biases.

    `fit_on="observed"` (the zoo's preset under the rating protocol) fits the
    observed training ratings. `fit_on="binary"` (ranking protocols) fits the
    complete 0/1 matrix of training positives (every user x item cell): a
    user's ranking is then by item bias, a shrunk popularity.

    Args:
        domains, num_users, num_items: see `tfcdr.models.CDRModel`.
        l2: ridge weight on the user and item biases (the global mean is not
            penalized). It acts as a pseudo-count of ratings at the mean, so
            it does not depend on the rating scale; 10 is the reference's
            user-bias weight (not tuned here).
        iterations: alternating sweeps, each O(training rows); the tests
            check the default against the normal equations.
        fit_on: "observed" or "binary".

    Example:
        >>> model = Bias(split.domain_names, split.num_users, split.num_items, fit_on="observed")
        >>> model.prepare(split)                   # solves the ridge problem
        >>> model.score("target", users, items)    # mu + b_u + b_i

    Reference:
        Koren, Factor in the Neighbors: Scalable and Accurate Collaborative
        Filtering, ACM TKDD 2010, sec. 2.1 (baseline estimates).
    """

    def __init__(self, domains, num_users, num_items, l2=10.0, iterations=30, fit_on="binary", **kwargs):
        super().__init__(domains, num_users, num_items, **kwargs)
        if fit_on not in FIT_ON:
            raise ValueError(f"fit_on must be one of {FIT_ON}, got {fit_on!r}")
        if l2 < 0 or int(iterations) < 1:
            raise ValueError(f"l2 must be >= 0 and iterations >= 1, got {l2} and {iterations}")
        self.l2 = float(l2)
        self.iterations = int(iterations)
        self.fit_on = fit_on

        def weight(shape, name):
            return self.add_weight(shape=shape, initializer="zeros", trainable=False, name=name)

        self.global_means = {d: weight((), f"global_mean_{d}") for d in self.domains}
        self.user_biases = {d: weight((self.num_users,), f"user_bias_{d}") for d in self.domains}
        self.item_biases = {d: weight((self.num_items[d],), f"item_bias_{d}") for d in self.domains}
        self.build()

    def prepare(self, split):
        """Solves each domain's ridge problem on the split's training rows."""
        for d in self.domains:
            train = split.domains[d].train
            users, items = train["user"].to_numpy(), train["item"].to_numpy()
            ratings = train["rating"].to_numpy(np.float64)
            if self.fit_on == "observed":
                mu, user_bias, item_bias = self._fit_observed(users, items, ratings, self.num_items[d])
            else:
                mu, user_bias, item_bias = self._fit_binary(users, items, self.num_items[d])
            self.global_means[d].assign(np.float32(mu))
            self.user_biases[d].assign(user_bias.astype(np.float32))
            self.item_biases[d].assign(item_bias.astype(np.float32))

    def _fit_observed(self, users, items, ratings, num_items):
        user_count = np.bincount(users, minlength=self.num_users)
        item_count = np.bincount(items, minlength=num_items)
        user_bias, item_bias = np.zeros(self.num_users), np.zeros(num_items)
        mu = float(ratings.mean()) if len(ratings) else 0.0
        for _ in range(self.iterations):
            mu = float(np.mean(ratings - user_bias[users] - item_bias[items])) if len(ratings) else 0.0
            residual = ratings - mu - item_bias[items]
            user_bias = np.bincount(users, residual, self.num_users) / (self.l2 + user_count + (user_count == 0))
            residual = ratings - mu - user_bias[users]
            item_bias = np.bincount(items, residual, num_items) / (self.l2 + item_count + (item_count == 0))
        return mu, user_bias, item_bias

    def _fit_binary(self, users, items, num_items):
        # Every cell of the users x items matrix is observed (1 = training
        # positive), so each block's sums come from the counts alone.
        num_users = self.num_users
        user_count = np.bincount(users, minlength=num_users).astype(np.float64)
        item_count = np.bincount(items, minlength=num_items).astype(np.float64)
        user_bias, item_bias = np.zeros(num_users), np.zeros(num_items)
        mu = 0.0
        for _ in range(self.iterations):
            mu = (len(users) - num_items * user_bias.sum() - num_users * item_bias.sum()) / (num_users * num_items)
            user_bias = (user_count - num_items * mu - item_bias.sum()) / (self.l2 + num_items)
            item_bias = (item_count - num_users * mu - user_bias.sum()) / (self.l2 + num_users)
        return mu, user_bias, item_bias

    def score(self, domain, user_ids, item_ids, training=None):
        self.check_domain(domain)
        user_bias = ops.take(self.user_biases[domain], ops.cast(user_ids, "int32"), axis=0)
        item_bias = ops.take(self.item_biases[domain], ops.cast(item_ids, "int32"), axis=0)
        return self.global_means[domain] + user_bias + item_bias

    def get_config(self):
        config = super().get_config()
        config.update({"l2": self.l2, "iterations": self.iterations, "fit_on": self.fit_on})
        return config
