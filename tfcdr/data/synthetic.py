"""Synthetic cross-domain interactions with planted shared user structure."""

import numpy as np
import pandas as pd

from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.errors import DataError


def make_synthetic(
    num_domains=2,
    num_users=1500,
    num_items=200,
    interactions_per_user=(20, 4),
    overlap=0.8,
    shared_dim=8,
    private_dim=4,
    shared_weight=0.85,
    temperature=0.35,
    implicit=True,
    seed=0,
):
    """Generates a seeded cross-domain dataset in which the domains share taste.

    Every user has a shared taste vector used by all domains and a private one
    per domain; an item's appeal is the dot product of its factors with
    `shared_weight * shared + (1 - shared_weight) * private`. Each user picks
    her items by sampling without replacement from softmax(appeal /
    temperature) (Gumbel top-k). With the defaults the first domain ("source")
    is dense and the last ("target") sparse, so a model that reads the source
    learns the shared taste the target alone barely shows: transfer helps.

    Args:
        num_domains: number of domains (>= 1). Two domains are named
            "source" and "target"; more are "domain_0", "domain_1", ...
        num_users: users in total.
        num_items: items per domain, an int or one per domain.
        interactions_per_user: mean interactions per present user, an int or
            one per domain (each user's count is Poisson around it, >= 3).
        overlap: fraction of users present in every domain; the others are
            each present in a single domain (chosen uniformly).
        shared_dim: size of the taste shared across domains.
        private_dim: size of each domain's own taste.
        shared_weight: how much of the appeal comes from the shared taste.
        temperature: lower makes choices follow taste more closely.
        implicit: True for clicks (rating 1); False for ratings 1-5 from the
            appeal's quantile within the user's picks.
        seed: the seed; the same seed gives the same data.

    Returns:
        A `CrossDomainData` named "synthetic" with timestamps (the order in
        which each user picked her items, so leave-one-out holds out the last).
    """
    if num_domains < 1:
        raise DataError("num_domains must be >= 1", value=num_domains)
    if not 0.0 <= overlap <= 1.0:
        raise DataError("overlap must be in [0, 1]", value=overlap)
    if num_users < 10:
        raise DataError("num_users must be >= 10", value=num_users)
    items = _per_domain(num_items, num_domains, "num_items")
    counts = _per_domain(interactions_per_user, num_domains, "interactions_per_user")
    names = ["source", "target"] if num_domains == 2 else [f"domain_{k}" for k in range(num_domains)]
    if num_domains == 1:
        names = ["target"]

    rng = np.random.default_rng(seed)
    shared = rng.normal(size=(num_users, shared_dim))
    in_all = rng.random(num_users) < overlap
    only_domain = rng.integers(0, num_domains, size=num_users)
    frames = {}
    for k, name in enumerate(names):
        present = np.flatnonzero(in_all | (only_domain == k))
        private = rng.normal(size=(len(present), private_dim))
        taste = np.concatenate([shared_weight * shared[present], (1.0 - shared_weight) * private], axis=1)
        item_factors = rng.normal(size=(items[k], shared_dim + private_dim))
        popularity = rng.normal(scale=0.5, size=items[k])
        appeal = taste @ item_factors.T / np.sqrt(shared_dim) + popularity
        gumbel = rng.gumbel(size=appeal.shape)
        order = np.argsort(-(appeal / temperature + gumbel), axis=1)
        # Leave >= 100 unseen items for 99 sampled negatives where there are
        # enough items; small toy domains keep at least half their items unseen.
        upper = items[k] - 100 if items[k] > 103 else max(1, items[k] // 2)
        sizes = np.clip(rng.poisson(counts[k], size=len(present)), min(3, upper), upper)
        rank = np.arange(items[k])[None, :]
        chosen = rank < sizes[:, None]
        rows, positions = np.nonzero(chosen)
        picked = order[rows, positions]
        frame = pd.DataFrame(
            {
                "user": present[rows],
                "item": picked,
                "timestamp": positions.astype(np.float64),
            }
        )
        if implicit:
            frame["rating"] = 1.0
        else:
            picked_appeal = appeal[rows, picked]
            quantile = pd.Series(picked_appeal).groupby(rows).rank(pct=True).to_numpy()
            frame["rating"] = np.ceil(quantile * 5).clip(1, 5)
        frames[name] = frame
    return CrossDomainData.from_frames(
        "synthetic",
        frames,
        implicit=implicit,
        notes=[f"synthetic: seed {seed}, {num_users} users, overlap {overlap:g}, shared_weight {shared_weight:g}"],
    )


def _per_domain(value, num_domains, name):
    values = list(value) if isinstance(value, (list, tuple)) else [value] * num_domains
    if len(values) == 2 and num_domains != 2:
        # A (dense, sparse) pair spreads over more domains from dense to sparse.
        values = list(np.linspace(values[0], values[1], num_domains).round().astype(int))
    if len(values) == 1 and num_domains == 1:
        return values
    if len(values) != num_domains:
        raise DataError(f"{name} needs one value per domain ({num_domains})", value=value)
    return values
