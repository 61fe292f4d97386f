"""Paired pointwise pipeline: one row holds one user's example in each of two domains.

Models that couple two domain towers per example (CoNet's cross units) need
the same user's interaction of both domains in one row, unlike
`pipelines.pointwise` whose per-domain sub-batches are independent.
"""

import numpy as np

from tfcdr.data import keys
from tfcdr.data.negatives import sample_negatives
from tfcdr.data.pipelines import (
    _chunks,
    _dataset,
    _domains,
    _EpochSource,
    _float_spec,
    _int_spec,
)
from tfcdr.errors import DataError


def paired_item_key(domain):
    """Feature key of a domain's item column in a paired row, e.g. "books_item_id"."""
    return f"{domain}_{keys.ITEM_ID}"


def paired_pointwise(
    split,
    domains=None,
    batch_size=256,
    negative_ratio=4,
    seed=0,
    shuffle=True,
    pair_fraction=0.5,
    ratings=False,
):
    """Rows of one user with one (item, label) example per domain, for two domains.

    Each epoch every training positive of each domain, plus `negative_ratio`
    fresh negatives per positive (never an item the user knows), is an
    example; each example sits in exactly one row with weight 1. A user's
    examples of the two domains are shuffled and paired one to one: of the
    `min(n_A, n_B)` examples she could pair, `round(pair_fraction * min)` are
    paired (the paper's joint examples); every other example gets, on the
    other side of its row, the other domain's "no item" index (its
    `num_items`) with weight 0. Users present in one domain only therefore
    train with "no item" on the other side. A model that scores with "no
    item" in the other tower (CoNet) thus sees that input in training for
    every domain, at least a `1 - pair_fraction` share of each domain's
    examples, and more for the domain with more examples per user.

    Args:
        split: a `Split` (its training rows are the positives).
        domains: the two domain names (default: the split's, which must be two).
        batch_size: rows per step.
        negative_ratio: negatives drawn per positive, each epoch anew.
        seed: seeds the per-epoch sampling, pairing and shuffling.
        shuffle: shuffle the rows each epoch.
        pair_fraction: share in [0, 1] of the pairable examples that are
            paired; 1 pairs as many as possible, 0 pairs none.
        ratings: label each training row with its (scaled) rating and draw
            no negatives (the `rating` protocol; see `paired_ratings`).

    Returns:
        A `tf.data.Dataset` of `(x, y, sample_weight)` with
        `x = {USER_ID: [B], "<domain>_item_id": [B] per domain}`,
        `y = {domain: [B] labels}` and `sample_weight = {domain: [B]}`
        (0 where the row has no example of that domain).
    """
    names = _domains(split, domains)
    if len(names) != 2:
        raise DataError(f"paired_pointwise pairs exactly two domains, got {names}")
    if not 0.0 <= pair_fraction <= 1.0:
        raise DataError("pair_fraction must be in [0, 1]", value=pair_fraction)
    if ratings:
        negative_ratio = 0
    positives = {
        n: (
            split.domains[n].train["user"].to_numpy(np.int64),
            split.domains[n].train["item"].to_numpy(np.int64),
            split.domains[n].train["rating"].to_numpy(np.float32) if ratings else None,
        )
        for n in names
    }
    # Per-user example counts do not depend on the draw, so the pairing's row
    # count (and the number of steps, which tf.data must know) is fixed.
    counts = [np.bincount(positives[n][0], minlength=split.num_users) * (1 + negative_ratio) for n in names]
    paired = np.floor(pair_fraction * np.minimum(*counts) + 0.5).astype(np.int64)
    rows_per_user = counts[0] + counts[1] - paired
    offsets = np.cumsum(rows_per_user) - rows_per_user
    num_rows = int(rows_per_user.sum())
    steps = max(1, int(np.ceil(num_rows / batch_size)))

    def examples(rng, name):
        users, items, rated = positives[name]
        if ratings:
            all_users, all_items, labels = users, items, rated
        else:
            negatives = sample_negatives(rng, users, split.domains[name].known, negative_ratio)
            all_users = np.concatenate([users, np.repeat(users, negative_ratio)])
            all_items = np.concatenate([items, negatives.ravel()])
            labels = np.concatenate([np.ones(len(users)), np.zeros(negatives.size)])
        # A random order within each user decides which examples get paired.
        order = rng.permutation(len(all_users))
        order = order[np.argsort(all_users[order], kind="stable")]
        all_users, all_items, labels = all_users[order], all_items[order], labels[order]
        first = np.searchsorted(all_users, all_users, side="left")
        return all_users, all_items, labels, np.arange(len(all_users)) - first

    def make_epoch(rng):
        user_column = np.zeros(num_rows, np.int32)
        columns = {}
        for side, name in enumerate(names):
            users, items, labels, rank = examples(rng, name)
            # Rank r < paired[u] takes slot r (paired with the other domain's
            # rank r); the rest of domain B goes after all of A's slots.
            slot = rank if side == 0 else np.where(rank < paired[users], rank, counts[0][users] + rank - paired[users])
            row = offsets[users] + slot
            item_column = np.full(num_rows, split.num_items[name], np.int32)
            label_column = np.zeros(num_rows, np.float32)
            weight_column = np.zeros(num_rows, np.float32)
            item_column[row] = items
            label_column[row] = labels
            weight_column[row] = 1.0
            user_column[row] = users
            columns[name] = (item_column, label_column, weight_column)
        for take in _chunks(rng, num_rows, steps, shuffle):
            x = {keys.USER_ID: user_column[take]}
            y, weights = {}, {}
            for name, (item_column, label_column, weight_column) in columns.items():
                x[paired_item_key(name)] = item_column[take]
                y[name] = label_column[take]
                weights[name] = weight_column[take]
            yield x, y, weights

    signature = (
        {keys.USER_ID: _int_spec(), **{paired_item_key(n): _int_spec() for n in names}},
        {n: _float_spec() for n in names},
        {n: _float_spec() for n in names},
    )
    return _dataset(_EpochSource(make_epoch, seed), signature, steps)


def paired_ratings(split, domains=None, batch_size=256, seed=0, shuffle=True, pair_fraction=0.5):
    """`paired_pointwise` rows labelled with each training row's rating, no negatives.

    The input of a two-tower model (CoNet) regressing ratings under the
    `rating` protocol; the pairing and the "no item" side are as in
    `paired_pointwise`.
    """
    return paired_pointwise(
        split, domains, batch_size=batch_size, seed=seed, shuffle=shuffle, pair_fraction=pair_fraction, ratings=True
    )
