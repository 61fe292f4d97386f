"""ServingGraph: the TF Serving functions of a model on external string ids."""

import numpy as np
import tensorflow as tf

# Bits of the `unknown` output, documented in `ServingGraph`.
UNKNOWN_USER = 1
UNKNOWN_ITEM = 2
UNKNOWN_DOMAIN = 4


class ServingGraph:
    """Scoring and top-k functions over external ids, for a SavedModel.

    Everything the graph needs besides the model is baked in at export time:
    string -> index `tf.lookup.StaticHashTable`s for users, items (per domain)
    and domain names; the external id of every item; each user's known
    training items (CSR, in non-trainable variables so the graph stays small);
    and a cold-start score per item.

    Both functions take one domain name per row (not one per request), so a
    request may mix domains and TF Serving's server-side batching, which
    concatenates requests along the first axis, can merge any two requests.
    Rows are partitioned by domain and each part is scored once by its own
    domain's `score` / `score_all_items`.

    Out-of-vocabulary behaviour (never an error; every string is a valid
    id, also "", bytes that are not UTF-8 and ids of any length: one that is
    not in the vocabulary is unknown):

    - unknown user: the item's cold-start score, i.e. its mean model score
      over (up to `fallback_users`) users with training data in the domain,
      the score an "average user" gets; `recommend` returns the top-k items
      by that score (for typical data close to the most popular items).
    - unknown item (or user and item): the domain's mean cold-start score.
    - unknown domain: score `-inf` in both signatures (ranked below
      everything); `recommend` returns empty ids `""` with score `-inf`.
    - `unknown` output: per row bitmask 1 = user, 2 = item, 4 = domain
      unknown; 0 means the model itself scored the row.
    - `recommend` pads with `""`/`-inf` when fewer than `k` items remain
      (a domain smaller than `k`, or known items excluded).

    Requests: an empty batch gives empty outputs; inputs of different
    lengths are an `InvalidArgument` error naming the inputs. `recommend`
    scores the catalogue for at most `chunk_scores` (row, item) pairs at a
    time, so its memory stays bounded for requests of any number of rows.

    Args:
        model: a `tfcdr.models.CDRModel` (trained; `prepare` already run).
        user_vocab: external id of each user index (strings).
        item_vocabs: dict domain -> external id of each item index.
        known: dict domain -> (user indices, item indices) to exclude from
            `recommend`, or None to exclude nothing.
        fallback_user_pool: dict domain -> user indices the cold-start score
            averages over (None: all users).
        k: number of items `recommend` returns per row.
        fallback_users: at most this many users (seeded sample) are averaged
            over, which bounds export time on large data.
        chunk_scores: `recommend` scores at most this many (row, item)
            pairs at once (at least one row).
    """

    def __init__(
        self,
        model,
        user_vocab,
        item_vocabs,
        known=None,
        fallback_user_pool=None,
        k=10,
        fallback_users=1000,
        chunk_scores=2**20,
    ):
        if int(k) < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if int(chunk_scores) < 1:
            raise ValueError(f"chunk_scores must be >= 1, got {chunk_scores}")
        self.chunk_scores = int(chunk_scores)
        self.model = model
        self.domains = list(model.domains)
        self.k = int(k)
        self.user_table = _table(user_vocab)
        self.domain_table = _table(np.asarray(self.domains))
        self.item_tables = {d: _table(item_vocabs[d]) for d in self.domains}
        self.item_ids = {
            d: tf.Variable(np.asarray(item_vocabs[d]).astype(str).astype(object), trainable=False, name=f"item_ids_{i}")
            for i, d in enumerate(self.domains)
        }
        self.exclude_known = known is not None
        self.known_splits, self.known_items = {}, {}
        # Variable names use the domain's position: any string can name a domain.
        for i, d in enumerate(self.domains if known is not None else ()):
            splits, items = _csr(*known[d], model.num_users)
            self.known_splits[d] = tf.Variable(splits, trainable=False, name=f"known_splits_{i}")
            self.known_items[d] = tf.Variable(items, trainable=False, name=f"known_items_{i}")
        pools = fallback_user_pool or {}
        cold = {d: self._cold_start_scores(d, pools.get(d), fallback_users) for d in self.domains}
        self.cold_start_scores = {
            d: tf.Variable(cold[d], trainable=False, name=f"cold_start_{i}") for i, d in enumerate(self.domains)
        }
        self.default_scores = {d: float(np.mean(v)) for d, v in cold.items()}

    @property
    def resources(self):
        """The lookup tables, which `ExportArchive.track` must be given."""
        return [self.user_table, self.domain_table, *self.item_tables.values()]

    def _cold_start_scores(self, domain, pool, limit):
        pool = np.arange(self.model.num_users) if pool is None or len(pool) == 0 else np.unique(pool)
        if len(pool) > limit:
            pool = np.sort(np.random.default_rng(0).choice(pool, limit, replace=False))
        # Eager chunks of ~1M scores: each is one large kernel call, so a
        # tf.function would only add tracing, and memory stays flat on large
        # item catalogues.
        chunk = max(1, 2**20 // self.model.num_items[domain])
        total = np.zeros(self.model.num_items[domain], np.float64)
        for start in range(0, len(pool), chunk):
            users = tf.constant(pool[start : start + chunk], tf.int32)
            total += np.asarray(self.model.score_all_items(domain, users), np.float64).sum(axis=0)
        return (total / len(pool)).astype(np.float32)

    def _partition(self, user, domain, item=None):
        """Per row: domain part (len(domains) = unknown), user index, unknown bits."""
        names = "user, item and domain" if item is not None else "user and domain"
        sizes = [tf.size(user), tf.size(domain)] + ([tf.size(item)] if item is not None else [])
        checks = [
            tf.debugging.assert_equal(size, sizes[0], message=f"inputs {names} must have the same length")
            for size in sizes[1:]
        ]
        with tf.control_dependencies(checks):
            user = tf.identity(user)
        user_index = self.user_table.lookup(user)
        domain_index = self.domain_table.lookup(domain)
        part = tf.cast(tf.where(domain_index < 0, tf.cast(len(self.domains), tf.int64), domain_index), tf.int32)
        bits = tf.where(user_index < 0, UNKNOWN_USER, 0) + tf.where(domain_index < 0, UNKNOWN_DOMAIN, 0)
        return part, user_index, tf.cast(bits, tf.int32)

    def score(self, user, item, domain):
        """Scores (user, item) rows, each in its own domain.

        Args:
            user: string [n] external user ids.
            item: string [n] external item ids.
            domain: string [n] domain names.

        Returns:
            dict with `scores` float32 [n] (the model's `score`, or the
            fallback above) and `unknown` int32 [n] (bitmask).
        """
        part, user_index, bits = self._partition(user, domain, item)
        count = len(self.domains) + 1
        positions = tf.dynamic_partition(tf.range(tf.size(user)), part, count)
        users = tf.dynamic_partition(user_index, part, count)
        items = tf.dynamic_partition(item, part, count)
        scores, flags = [], []
        for p, d in enumerate(self.domains):
            item_index = self.item_tables[d].lookup(items[p])
            safe_users = tf.cast(tf.maximum(users[p], 0), tf.int32)
            safe_items = tf.cast(tf.maximum(item_index, 0), tf.int32)
            modelled = _unless_empty(
                safe_users, lambda d=d, u=safe_users, i=safe_items: tf.reshape(self.model.score(d, u, i), [-1]), [0]
            )
            cold = tf.gather(self.cold_start_scores[d], safe_items)
            value = tf.where(users[p] < 0, cold, modelled)
            scores.append(tf.where(item_index < 0, self.default_scores[d], value))
            flags.append(tf.cast(tf.where(item_index < 0, UNKNOWN_ITEM, 0), tf.int32))
        scores.append(tf.fill(tf.shape(positions[-1]), tf.constant(-np.inf, tf.float32)))
        flags.append(tf.zeros_like(positions[-1]))
        return {
            "scores": tf.dynamic_stitch(positions, scores),
            "unknown": bits + tf.dynamic_stitch(positions, flags),
        }

    def recommend(self, user, domain):
        """The top-k items of each row's domain for its user.

        Args:
            user: string [n] external user ids.
            domain: string [n] domain names.

        Returns:
            dict with `item_ids` string [n, k] (best first), `scores`
            float32 [n, k] and `unknown` int32 [n] (bitmask).
        """
        part, user_index, bits = self._partition(user, domain)
        count = len(self.domains) + 1
        positions = tf.dynamic_partition(tf.range(tf.size(user)), part, count)
        users = tf.dynamic_partition(user_index, part, count)
        top_ids, top_scores = [], []
        for p, d in enumerate(self.domains):
            num_items = self.model.num_items[d]
            values, indices = _in_chunks(
                users[p],
                max(1, self.chunk_scores // num_items),
                lambda rows, d=d: self._top_k(d, rows),
                min(self.k, num_items),
            )
            ids = tf.where(values == -np.inf, "", tf.gather(self.item_ids[d], indices))
            pad = self.k - min(self.k, num_items)
            top_ids.append(tf.pad(ids, [[0, 0], [0, pad]], constant_values=""))
            top_scores.append(tf.pad(values, [[0, 0], [0, pad]], constant_values=-np.inf))
        missing = tf.size(positions[-1])
        top_ids.append(tf.fill([missing, self.k], ""))
        top_scores.append(tf.fill([missing, self.k], tf.constant(-np.inf, tf.float32)))
        return {
            "item_ids": tf.dynamic_stitch(positions, top_ids),
            "scores": tf.dynamic_stitch(positions, top_scores),
            "unknown": bits,
        }

    def _top_k(self, domain, user_index):
        """Top-k (values, item indices) of `domain` for user indices (-1: unknown user)."""
        safe_users = tf.cast(tf.maximum(user_index, 0), tf.int32)
        scores = tf.cast(self.model.score_all_items(domain, safe_users), tf.float32)
        if self.exclude_known:
            scores = self._exclude_known(domain, safe_users, scores)
        scores = tf.where((user_index < 0)[:, None], self.cold_start_scores[domain][None, :], scores)
        return tf.math.top_k(scores, min(self.k, self.model.num_items[domain]))

    def _exclude_known(self, domain, users, scores):
        rows = tf.RaggedTensor.from_row_splits(
            self.known_items[domain].read_value(), self.known_splits[domain].read_value(), validate=False
        )
        picked = tf.gather(rows, users)
        where = tf.stack([tf.cast(picked.value_rowids(), tf.int32), picked.flat_values], axis=1)
        return tf.tensor_scatter_nd_update(
            scores, where, tf.fill([tf.shape(where)[0]], tf.constant(-np.inf, tf.float32))
        )


def _table(vocab):
    keys = tf.constant(np.asarray(vocab).astype(str).astype(object), tf.string)
    values = tf.range(tf.size(keys, out_type=tf.int64), dtype=tf.int64)
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), default_value=-1)


def _csr(users, items, num_users):
    users = np.asarray(users, np.int64)
    order = np.lexsort((np.asarray(items), users))
    counts = np.bincount(users, minlength=num_users)[:num_users]
    splits = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return splits, np.asarray(items, np.int32)[order]


def _in_chunks(rows, size, fn, k):
    """`fn(rows[i:i + size])` -> (values, indices) [m, k] for each chunk of `rows`, concatenated.

    One chunk at a time (`parallel_iterations=1`), so a request's memory is
    that of one chunk's scores, not of all its rows' whole-catalogue scores.
    No rows, no call: models need not handle zero rows.
    """
    count = (tf.size(rows) + size - 1) // size
    shape = tf.TensorShape([None, k])
    arrays = (
        tf.TensorArray(tf.float32, size=count, infer_shape=False, element_shape=shape),
        tf.TensorArray(tf.int32, size=count, infer_shape=False, element_shape=shape),
    )

    def body(i, values, indices):
        value, index = fn(rows[i * size : (i + 1) * size])
        return i + 1, values.write(i, value), indices.write(i, index)

    _, values, indices = tf.while_loop(lambda i, *_: i < count, body, (0, *arrays), parallel_iterations=1)
    return (
        tf.reshape(values.concat(), [-1, k]),
        tf.reshape(indices.concat(), [-1, k]),
    )


def _unless_empty(ids, fn, empty_shape):
    # A request whose rows are all in other domains leaves this part empty;
    # skipping the model there saves work and spares models that cannot
    # handle zero rows.
    return tf.cond(
        tf.size(ids) > 0,
        lambda: tf.cast(fn(), tf.float32),
        lambda: tf.zeros(empty_shape, tf.float32),
    )
