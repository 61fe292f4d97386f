"""Vectorized negative sampling that never returns an item the user knows."""

import numpy as np


class KnownItems:
    """Membership test for (user, item) pairs, vectorized over arrays.

    Pairs are kept as sorted int64 keys `user * num_items + item`, so a test
    for a million pairs is one `np.searchsorted`.

    Args:
        users: int array of user indices.
        items: int array of item indices (same length).
        num_items: number of items in the domain.
    """

    def __init__(self, users, items, num_items):
        self.num_items = int(num_items)
        keys = np.asarray(users, np.int64) * self.num_items + np.asarray(items, np.int64)
        self.keys = np.unique(keys)
        self.counts = np.bincount(np.asarray(users, np.int64))

    def contains(self, users, items):
        """Boolean array: is (users[k], items[k]) a known pair."""
        keys = np.asarray(users, np.int64) * self.num_items + np.asarray(items, np.int64)
        position = np.searchsorted(self.keys, keys)
        position = np.minimum(position, len(self.keys) - 1)
        return self.keys[position] == keys

    def count(self, users):
        """Number of known items of each user."""
        users = np.asarray(users, np.int64)
        out = np.zeros(len(users), np.int64)
        inside = users < len(self.counts)
        out[inside] = self.counts[users[inside]]
        return out


def sample_negatives(rng, users, known, count, distinct=False):
    """Draws `count` items per user uniformly among the items she does not know.

    Args:
        rng: a `numpy.random.Generator`.
        users: int array [n] of user indices.
        known: `KnownItems` of the domain.
        count: negatives per user.
        distinct: if True, a user's negatives are all different (evaluation
            candidates); then every user must have at least `count` unknown
            items.

    Returns:
        int64 array [n, count]; no entry is a known item of its user.
    """
    users = np.asarray(users, np.int64)
    if count == 0 or len(users) == 0:
        return np.zeros((len(users), count), np.int64)
    num_items = known.num_items
    available = num_items - known.count(users)
    if distinct and available.min() < count:
        worst = int(np.argmin(available))
        raise ValueError(
            f"user {users[worst]} knows {known.count(users[worst : worst + 1])[0]} of "
            f"{num_items} items, fewer than {count} are left to sample"
        )
    if (available <= 0).any():
        user = users[np.argmax(available <= 0)]
        raise ValueError(f"user {user} knows every item of the domain; no negative to sample")
    if not distinct:
        return _with_replacement(rng, users, known, count)
    out = np.empty((len(users), count), np.int64)
    # Rejection sampling is fast when a user knows few items; users left with
    # few unseen items (or still short after a few rounds) are done exactly.
    hard = available < 2 * count
    todo = np.flatnonzero(~hard)
    width = count + max(8, count // 2)
    rounds = 0
    while len(todo) and rounds < 4:
        rounds += 1
        candidates = rng.integers(0, num_items, size=(len(todo), width))
        row_users = np.repeat(users[todo], width).reshape(len(todo), width)
        valid = ~known.contains(row_users, candidates)
        if distinct:
            order = np.argsort(candidates, axis=1, kind="stable")
            sorted_candidates = np.take_along_axis(candidates, order, axis=1)
            repeat = np.zeros_like(valid)
            repeat[:, 1:] = sorted_candidates[:, 1:] == sorted_candidates[:, :-1]
            first = np.empty_like(repeat)
            np.put_along_axis(first, order, ~repeat, axis=1)
            valid &= first
        enough = valid.sum(axis=1) >= count
        # Stable sort on ~valid moves each row's valid candidates to the front
        # in their drawn order, which keeps the draw uniform.
        front = np.argsort(~valid, axis=1, kind="stable")[:, :count]
        chosen = np.take_along_axis(candidates, front, axis=1)
        out[todo[enough]] = chosen[enough]
        todo = todo[~enough]
    rest = np.concatenate([np.flatnonzero(hard), todo])
    if len(rest):
        out[rest] = _exact(rng, users[rest], known, count, distinct)
    return out


def _with_replacement(rng, users, known, count, max_rounds=30):
    """Independent uniform draws among unseen items: redraw only the known hits."""
    flat_users = np.repeat(users, count)
    out = rng.integers(0, known.num_items, size=len(flat_users))
    todo = np.flatnonzero(known.contains(flat_users, out))
    for _ in range(max_rounds):
        if not len(todo):
            break
        out[todo] = rng.integers(0, known.num_items, size=len(todo))
        todo = todo[known.contains(flat_users[todo], out[todo])]
    out = out.reshape(len(users), count)
    if len(todo):
        # Users who know nearly every item: finish their rows exactly.
        rows = np.unique(todo // count)
        out[rows] = _exact(rng, users[rows], known, count, distinct=False)
    return out


def _exact(rng, users, known, count, distinct):
    """Uniform draws among each user's unseen items via random keys over all items."""
    num_items = known.num_items
    out = np.empty((len(users), count), np.int64)
    rows_per_chunk = max(1, 20_000_000 // num_items)
    items = np.arange(num_items)
    for start in range(0, len(users), rows_per_chunk):
        chunk = users[start : start + rows_per_chunk]
        seen = known.contains(np.repeat(chunk, num_items), np.tile(items, len(chunk))).reshape(len(chunk), num_items)
        if distinct:
            keys = rng.random((len(chunk), num_items))
            keys[seen] = 2.0
            out[start : start + len(chunk)] = np.argsort(keys, axis=1)[:, :count]
        else:
            # With replacement: pick positions among the unseen items.
            unseen_count = (~seen).sum(axis=1)
            picks = (rng.random((len(chunk), count)) * unseen_count[:, None]).astype(np.int64)
            order = np.argsort(seen, axis=1, kind="stable")
            out[start : start + len(chunk)] = np.take_along_axis(order, picks, axis=1)
    return out
