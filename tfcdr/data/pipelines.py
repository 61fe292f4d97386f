"""tf.data training pipelines over a `Split`, for every kind of model input.

Every element is `(x, y)` where `x` maps each domain name to a dict of
feature tensors keyed by `tfcdr.data.keys` and `y` maps each domain to its
labels (or is None where the model's loss needs none). A batch holds every
domain at once, each domain's share proportional to its size, so one epoch
visits each training example of each domain exactly once. Negatives are
drawn afresh each epoch from items the user never interacted with.
"""

import numpy as np
import tensorflow as tf

from tfcdr.data import keys
from tfcdr.data.negatives import sample_negatives
from tfcdr.errors import DataError


class _EpochSource:
    """Calls `make_epoch(rng)` with a generator seeded by (seed, epoch) for each epoch.

    Epochs count from 0 in the order they are drawn; `start(epoch)` sets
    the next one, so a `fit` resumed at epoch k draws the same negatives and
    order as epoch k of an uninterrupted run. The dataset exposes it as
    `epoch_source`.
    """

    def __init__(self, make_epoch, seed):
        self.make_epoch = make_epoch
        self.seed = seed
        self.epoch = 0

    def start(self, epoch):
        """The next epoch drawn is `epoch`."""
        self.epoch = epoch

    def __call__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        yield from self.make_epoch(rng)


def _domains(split, domains):
    names = split.domain_names if domains is None else list(domains)
    for name in names:
        if name not in split.domains:
            raise DataError(f"unknown domain {name!r}; the split has {split.domain_names}")
    return names


def _num_steps(sizes, batch_size):
    return max(1, int(np.ceil(sum(sizes.values()) / batch_size)))


def _chunks(rng, size, steps, shuffle):
    """`steps` index arrays covering range(size) once (cycled if size < steps)."""
    order = rng.permutation(size) if shuffle else np.arange(size)
    if size < steps:
        order = np.resize(order, steps)
    return np.array_split(order, steps)


def _dataset(generator, signature, steps):
    dataset = tf.data.Dataset.from_generator(generator, output_signature=signature)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(steps)).prefetch(tf.data.AUTOTUNE)
    dataset.epoch_source = generator
    return dataset


def _int_spec():
    return tf.TensorSpec(shape=(None,), dtype=tf.int32)


def _float_spec():
    return tf.TensorSpec(shape=(None,), dtype=tf.float32)


def pointwise(split, domains=None, batch_size=256, negative_ratio=4, seed=0, shuffle=True):
    """(user, item, label) batches: each positive plus `negative_ratio` negatives.

    Args:
        split: a `Split` (its training rows are the positives).
        domains: domain names to include (default all).
        batch_size: examples per step summed over domains.
        negative_ratio: negatives drawn per positive, each epoch anew.
        seed: seeds the per-epoch shuffling and sampling.
        shuffle: shuffle each epoch.

    Returns:
        A `tf.data.Dataset` of `({domain: {USER_ID, ITEM_ID}}, {domain: label})`.
    """
    names = _domains(split, domains)
    train = {n: split.domains[n].train for n in names}
    sizes = {n: len(train[n]) * (1 + negative_ratio) for n in names}
    steps = _num_steps(sizes, batch_size)

    def make_epoch(rng):
        columns = {}
        for name in names:
            users = train[name]["user"].to_numpy(np.int64)
            items = train[name]["item"].to_numpy(np.int64)
            negatives = sample_negatives(rng, users, split.domains[name].known, negative_ratio)
            all_users = np.concatenate([users, np.repeat(users, negative_ratio)])
            all_items = np.concatenate([items, negatives.ravel()])
            labels = np.concatenate([np.ones(len(users)), np.zeros(negatives.size)])
            columns[name] = (
                all_users.astype(np.int32),
                all_items.astype(np.int32),
                labels.astype(np.float32),
                _chunks(rng, len(all_users), steps, shuffle),
            )
        for step in range(steps):
            x, y = {}, {}
            for name, (u, i, label, chunks) in columns.items():
                take = chunks[step]
                x[name] = {keys.USER_ID: u[take], keys.ITEM_ID: i[take]}
                y[name] = label[take]
            yield x, y

    signature = (
        {n: {keys.USER_ID: _int_spec(), keys.ITEM_ID: _int_spec()} for n in names},
        {n: _float_spec() for n in names},
    )
    return _dataset(_EpochSource(make_epoch, seed), signature, steps)


def pairwise(split, domains=None, batch_size=256, seed=0, shuffle=True):
    """(user, positive item, negative item) triples, one per training positive.

    Returns:
        A `tf.data.Dataset` of `{domain: {USER_ID, POSITIVE_ITEM_ID,
        NEGATIVE_ITEM_ID}}` elements (no labels: the loss needs none).
    """
    names = _domains(split, domains)
    train = {n: split.domains[n].train for n in names}
    steps = _num_steps({n: len(t) for n, t in train.items()}, batch_size)

    def make_epoch(rng):
        columns = {}
        for name in names:
            users = train[name]["user"].to_numpy(np.int64)
            negatives = sample_negatives(rng, users, split.domains[name].known, 1)[:, 0]
            columns[name] = (
                users.astype(np.int32),
                train[name]["item"].to_numpy(np.int32),
                negatives.astype(np.int32),
                _chunks(rng, len(users), steps, shuffle),
            )
        for step in range(steps):
            x = {}
            for name, (u, pos, neg, chunks) in columns.items():
                take = chunks[step]
                x[name] = {
                    keys.USER_ID: u[take],
                    keys.POSITIVE_ITEM_ID: pos[take],
                    keys.NEGATIVE_ITEM_ID: neg[take],
                }
            yield (x,)

    signature = (
        {
            n: {
                keys.USER_ID: _int_spec(),
                keys.POSITIVE_ITEM_ID: _int_spec(),
                keys.NEGATIVE_ITEM_ID: _int_spec(),
            }
            for n in names
        },
    )
    return _dataset(_EpochSource(make_epoch, seed), signature, steps)


def ratings(split, domains=None, batch_size=256, seed=0, shuffle=True):
    """(user, item) -> rating batches from the training rows (rating protocol).

    Returns:
        A `tf.data.Dataset` of `({domain: {USER_ID, ITEM_ID}}, {domain: rating})`.
    """
    names = _domains(split, domains)
    train = {n: split.domains[n].train for n in names}
    steps = _num_steps({n: len(t) for n, t in train.items()}, batch_size)

    def make_epoch(rng):
        chunks = {n: _chunks(rng, len(train[n]), steps, shuffle) for n in names}
        columns = {
            n: (
                train[n]["user"].to_numpy(np.int32),
                train[n]["item"].to_numpy(np.int32),
                train[n]["rating"].to_numpy(np.float32),
            )
            for n in names
        }
        for step in range(steps):
            x, y = {}, {}
            for name, (u, i, r) in columns.items():
                take = chunks[name][step]
                x[name] = {keys.USER_ID: u[take], keys.ITEM_ID: i[take]}
                y[name] = r[take]
            yield x, y

    signature = (
        {n: {keys.USER_ID: _int_spec(), keys.ITEM_ID: _int_spec()} for n in names},
        {n: _float_spec() for n in names},
    )
    return _dataset(_EpochSource(make_epoch, seed), signature, steps)


def interaction_matrix(split, domain):
    """Dense float32 [num_users, num_items] 0/1 matrix of a domain's training rows."""
    train = split.domains[domain].train
    matrix = np.zeros((split.num_users, split.num_items[domain]), np.float32)
    matrix[train["user"].to_numpy(), train["item"].to_numpy()] = 1.0
    return matrix


def user_vectors(split, domains=None, batch_size=128, seed=0, shuffle=True, users="union"):
    """Per-user interaction vectors of every domain, for autoencoder models.

    Args:
        users: "union" (users with training rows in any listed domain) or
            "overlap" (users with training rows in all of them).

    Returns:
        A `tf.data.Dataset` of `{USER_ID: [B], domain: [B, num_items]}`
        elements; the target of reconstruction is the input itself.
    """
    names = _domains(split, domains)
    matrices = {n: interaction_matrix(split, n) for n in names}
    present = [np.unique(split.domains[n].train["user"].to_numpy()) for n in names]
    if users == "union":
        chosen = np.unique(np.concatenate(present))
    elif users == "overlap":
        chosen = present[0]
        for more in present[1:]:
            chosen = np.intersect1d(chosen, more)
    else:
        raise DataError("users must be 'union' or 'overlap'", value=users)
    steps = max(1, int(np.ceil(len(chosen) / batch_size)))

    def make_epoch(rng):
        order = rng.permutation(chosen) if shuffle else chosen
        for step in range(steps):
            rows = order[step * batch_size : (step + 1) * batch_size]
            x = {keys.USER_ID: rows.astype(np.int32)}
            for name in names:
                x[name] = matrices[name][rows]
            yield (x,)

    signature = (
        {
            keys.USER_ID: _int_spec(),
            **{n: tf.TensorSpec(shape=(None, split.num_items[n]), dtype=tf.float32) for n in names},
        },
    )
    return _dataset(_EpochSource(make_epoch, seed), signature, steps)
