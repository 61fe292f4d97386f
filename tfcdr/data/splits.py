"""Train/valid/test splits and fixed evaluation candidates for every protocol.

A `Split` is made once per (dataset, protocol, seed) and shared by every
model compared on it, so the numbers are comparable. Protocols (see
PROTOCOLS.md):

- "loo-sampled": per user, the latest positive (random when the user lacks
  timestamps) is the test item and the one before it the validation item;
  each is ranked against 99 fixed negatives the user never interacted with.
- "full-ranking": per user, a random 8:1:1 split of positives; all items of
  the domain are ranked, the user's earlier positives excluded.
- "rating": ratings scaled to [0, 1] per domain; a random record split
  stratified by rating value (80/10/10, or fold `fold` of 5).
- "adc": 50% of each domain's ratings train, 10% validation, 40% test; an
  item is relevant when rated above the user's own mean rating (every item
  for implicit feedback); all items of the domain are ranked.
- "cold-start": per domain, a seeded 10% (test) and 5% (validation) of the
  users who also appear in another domain lose all their interactions in
  it; each is evaluated like loo-sampled from what the other domains show.
  Datasets that ship a cold-start split (CDRIB) use theirs (`use_given`).
Every domain is split and evaluated, not only a "target".

A dataset that comes with its own split (`CrossDomainData.given_split`: a
`--format cdrib|disencdr|split` folder) is used as it is under the protocols
it names (`given_protocols`), or any protocol whose `takes_given_split` is set, with
`use_given=True`: its train rows train; its valid/test rows are ranked
against the folder's negatives, or `num_negatives` sampled ones
(loo-sampled, cold-start), against all items (full-ranking), or predicted
on the [0, 1] scale (rating). Without valid rows, one training positive per
user (the latest, else random) is held out for validation.
"""

import dataclasses
import hashlib
import json
import logging

import numpy as np
import pandas as pd

from tfcdr.data.negatives import KnownItems, sample_negatives
from tfcdr.data.protocols import PROTOCOLS
from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")


@dataclasses.dataclass
class SampledEval:
    """Rows of (user, positive item, negatives) ranked among 1 + m candidates."""

    users: np.ndarray
    items: np.ndarray
    negatives: np.ndarray

    def __len__(self):
        return len(self.users)


@dataclasses.dataclass
class RankingEval:
    """Users ranking all items of a domain.

    `relevant` and `exclude` are lists in CSR form (indptr, indices) aligned
    with `users`: the items that count as hits, and the items removed from
    the ranking (the user's training and, at test time, validation items).
    """

    users: np.ndarray
    relevant_indptr: np.ndarray
    relevant_items: np.ndarray
    exclude_indptr: np.ndarray
    exclude_items: np.ndarray

    def __len__(self):
        return len(self.users)


@dataclasses.dataclass
class RatingEval:
    """(user, item, rating) triples whose ratings a model predicts."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    relevance_threshold: float = 0.75
    # The domain's (lowest, highest) rating before scaling to [0, 1], so
    # errors can be reported on the data's own scale (e.g. stars) too.
    rating_range: tuple = (0.0, 1.0)

    def __len__(self):
        return len(self.users)


@dataclasses.dataclass
class DomainSplit:
    """One domain's training interactions and its evaluation sets.

    Attributes:
        train: DataFrame of int `user`, `item`, float `rating` (scaled to
            [0, 1] under "rating"), `timestamp`; for ranking protocols only
            positives.
        valid: evaluation set for model selection.
        test: evaluation set for the reported numbers.
        known: `KnownItems` of every interaction of the domain (any rating,
            any part): negatives are never drawn from it.
    """

    train: pd.DataFrame
    valid: object
    test: object
    known: KnownItems


@dataclasses.dataclass
class Split:
    """A dataset split under one protocol and seed; see the module docstring.

    It also carries the dataset's raw feature tables (`user_features`, and
    `item_features` per domain), which `tfcdr.data.features.encode_features`
    turns into matrices for the models that read features.
    """

    dataset: str
    protocol: str
    seed: int
    domains: dict
    num_users: int
    num_items: dict
    user_vocab: np.ndarray
    item_vocabs: dict
    options: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    user_features: object = None
    item_features: dict = dataclasses.field(default_factory=dict)

    @property
    def domain_names(self):
        return list(self.domains)

    def fingerprint(self):
        """Short hash of the evaluation sets: equal means the same split."""
        digest = hashlib.sha1()
        for name, part in self.domains.items():
            digest.update(name.encode())
            for subset in (part.valid, part.test):
                for field in dataclasses.fields(subset):
                    value = getattr(subset, field.name)
                    if isinstance(value, np.ndarray):
                        digest.update(np.ascontiguousarray(value).tobytes())
        return digest.hexdigest()[:12]

    def rating_scales(self):
        """Each domain's (lowest, highest) rating before scaling, under the rating protocol ({} otherwise)."""
        return {
            name: [float(v) for v in part.test.rating_range]
            for name, part in self.domains.items()
            if isinstance(part.test, RatingEval)
        }

    def select(self, domains):
        """The same split restricted to `domains`, in that order (source first, target last).

        Each kept domain keeps its training rows and evaluation sets as they
        are, and the user vocabulary is unchanged, so a two-domain model
        (e.g. CoNet) trained on `split.select([source, target])` is
        evaluated on exactly the rows a multi-domain model sees for them.
        """
        domains = [str(d) for d in domains]
        unknown = [d for d in domains if d not in self.domains]
        if unknown or not domains or len(set(domains)) != len(domains):
            raise DataError(f"select needs distinct domains of {self.domain_names}; got {domains}")
        return dataclasses.replace(
            self,
            domains={d: self.domains[d] for d in domains},
            num_items={d: self.num_items[d] for d in domains},
            item_vocabs={d: self.item_vocabs[d] for d in domains},
            item_features={d: v for d, v in self.item_features.items() if d in domains},
            notes=[*self.notes, f"domains selected: {', '.join(domains)}"],
        )

    def summary(self):
        """DataFrame with the sizes of each domain's parts."""
        rows = []
        for name, part in self.domains.items():
            rows.append(
                {
                    "domain": name,
                    "train": len(part.train),
                    "train users": part.train["user"].nunique(),
                    "valid rows": len(part.valid),
                    "test rows": len(part.test),
                }
            )
        return pd.DataFrame(rows).set_index("domain")


def make_split(data, protocol="loo-sampled", seed=0, **options):
    """Splits a `CrossDomainData` under a named protocol, deterministically.

    Args:
        data: the `CrossDomainData`.
        protocol: a name in `tfcdr.data.protocols.PROTOCOLS`.
        seed: the same seed gives the same split (and candidates).
        **options: per protocol: `num_negatives` (99), `ratios`
            ((0.8, 0.1, 0.1)), `fold` (None or 0-4 for rating), `threshold`
            (rating relevance on the [0, 1] scale, 0.75), `cold_fraction`
            (0.1), `valid_fraction` (0.05), `use_given` (None: the
            dataset's own split under its `given_protocols`; True: under
            any protocol that takes one; False: never).

    Returns:
        A `Split`.
    """
    if protocol not in BUILDERS:
        raise DataError(f"unknown protocol {protocol!r}; choose one of {list(PROTOCOLS)}")
    split = Split(
        dataset=data.name,
        protocol=protocol,
        seed=int(seed),
        domains={},
        num_users=data.num_users,
        num_items=data.num_items,
        user_vocab=data.user_vocab,
        item_vocabs={name: d.item_vocab for name, d in data.domains.items()},
        options=dict(options),
        user_features=data.user_features,
        item_features={n: d.item_features for n, d in data.domains.items() if d.item_features is not None},
    )
    options = dict(options)
    if _uses_given(data, protocol, options.pop("use_given", None)):
        given = {"rating": _rating_given, "full-ranking": _full_ranking_given}.get(protocol, _sampled_given)
        given(data, split, np.random.default_rng(seed), **options)
        split.notes.append(f"{protocol}: the split that came with {data.name} is used")
    else:
        BUILDERS[protocol](data, split, np.random.default_rng(seed), **options)
    for note in split.notes:
        logger.info(note)
    return split


def _positives(data, name, split):
    table = data.domains[name].interactions
    kept = data.positives(name)
    if kept is table:  # implicit, or no threshold: every interaction
        return table
    split.notes.append(
        f"{name}: {len(table) - len(kept)} of {len(table)} ratings below "
        f"{data.positive_threshold:g} are not positives (kept out of training, "
        "never sampled as negatives)"
    )
    return kept


def _known(data, name):
    table = data.domains[name].interactions
    return KnownItems(table["user"].to_numpy(), table["item"].to_numpy(), data.domains[name].num_items)


def _order_within_user(table, rng):
    """Row order per user: latest last; random for users lacking timestamps.

    Returns the table sorted by (user, order) and each row's position from
    the end within its user (0 = latest).
    """
    noise = rng.random(len(table))
    missing = table["timestamp"].isna().groupby(table["user"]).transform("any").to_numpy()
    key = np.where(missing, noise, table["timestamp"].fillna(0).to_numpy())
    order = np.lexsort((noise, key, table["user"].to_numpy()))
    ordered = table.iloc[order].reset_index(drop=True)
    from_end = ordered.groupby("user").cumcount(ascending=False).to_numpy()
    return ordered, from_end


def _sampled_eval(rows, known, rng, num_negatives):
    users = rows["user"].to_numpy(np.int64)
    negatives = sample_negatives(rng, users, known, num_negatives, distinct=True)
    return SampledEval(users=users, items=rows["item"].to_numpy(np.int64), negatives=negatives)


def _loo_sampled(data, split, rng, num_negatives=99):
    for name in data.domain_names:
        positives = _positives(data, name, split)
        known = _known(data, name)
        ordered, from_end = _order_within_user(positives, rng)
        sizes = ordered.groupby("user")["item"].transform("size").to_numpy()
        room = data.domains[name].num_items - known.count(ordered["user"].to_numpy())
        evaluable = (sizes >= 3) & (room >= num_negatives)
        if not evaluable.any():
            raise DataError(
                f"domain {name!r} of {data.name!r}: no user can be evaluated under loo-sampled, which needs a "
                f"user with 3 positives and {num_negatives} items she never interacted with (the domain has "
                f"{data.domains[name].num_items} items); use --protocol full-ranking, or fewer negatives "
                "(num_negatives)",
                value=name,
            )
        skipped = ordered.loc[~evaluable, "user"].nunique()
        if skipped:
            split.notes.append(
                f"{name}: {skipped} users with fewer than 3 positives (or fewer than "
                f"{num_negatives} unseen items) are trained on but not evaluated"
            )
        test_rows = ordered[evaluable & (from_end == 0)]
        valid_rows = ordered[evaluable & (from_end == 1)]
        train = ordered[~(evaluable & (from_end <= 1))].sort_values(["user", "item"])
        split.domains[name] = DomainSplit(
            train=train.reset_index(drop=True),
            valid=_sampled_eval(valid_rows, known, rng, num_negatives),
            test=_sampled_eval(test_rows, known, rng, num_negatives),
            known=known,
        )


def _csr(users, groups_users, groups_items):
    """CSR lists of items per user in `users` from (user, item) arrays."""
    order = np.argsort(groups_users, kind="stable")
    sorted_users = np.asarray(groups_users)[order]
    sorted_items = np.asarray(groups_items, np.int64)[order]
    start = np.searchsorted(sorted_users, users, side="left")
    end = np.searchsorted(sorted_users, users, side="right")
    lengths = end - start
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    # Position k of user j's run is start[j] + k: one vectorized gather.
    gather = np.arange(indptr[-1]) - np.repeat(indptr[:-1], lengths) + np.repeat(start, lengths)
    return indptr, sorted_items[gather.astype(np.int64)]


def _ranking_eval(target_rows, exclude_rows, relevant_mask=None):
    relevant = target_rows if relevant_mask is None else target_rows[relevant_mask]
    users = np.unique(relevant["user"].to_numpy(np.int64))
    rel_ptr, rel_items = _csr(users, relevant["user"].to_numpy(), relevant["item"].to_numpy())
    exc_ptr, exc_items = _csr(users, exclude_rows["user"].to_numpy(), exclude_rows["item"].to_numpy())
    return RankingEval(users, rel_ptr, rel_items, exc_ptr, exc_items)


def _user_fraction_parts(table, rng, ratios, min_size):
    """Per-user random assignment of rows to parts 0/1/2 by `ratios`."""
    noise = rng.random(len(table))
    order = np.lexsort((noise, table["user"].to_numpy()))
    ordered = table.iloc[order].reset_index(drop=True)
    position = ordered.groupby("user").cumcount().to_numpy()
    size = ordered.groupby("user")["item"].transform("size").to_numpy()
    n_test = np.maximum(1, np.round(size * ratios[2])).astype(int)
    n_valid = np.maximum(1, np.round(size * ratios[1])).astype(int)
    part = np.zeros(len(ordered), np.int64)
    small = size < min_size
    part[(position >= size - n_test) & ~small] = 2
    part[(position >= size - n_test - n_valid) & (position < size - n_test) & ~small] = 1
    return ordered, part


def _full_ranking(data, split, rng, ratios=(0.8, 0.1, 0.1)):
    for name in data.domain_names:
        positives = _positives(data, name, split)
        ordered, part = _user_fraction_parts(positives, rng, ratios, min_size=3)
        train, valid, test = (ordered[part == k] for k in range(3))
        split.domains[name] = DomainSplit(
            train=train.sort_values(["user", "item"]).reset_index(drop=True),
            valid=_ranking_eval(valid, train),
            test=_ranking_eval(test, pd.concat([train, valid])),
            known=_known(data, name),
        )


def _scaled(table):
    """The table with ratings scaled to [0, 1], and the (lowest, highest) rating it was scaled from."""
    low, high = table["rating"].min(), table["rating"].max()
    scaled = table.copy()
    scaled["rating"] = (table["rating"] - low) / (high - low) if high > low else 1.0
    return scaled, (float(low), float(high))


def _rating(data, split, rng, ratios=(0.8, 0.1, 0.1), fold=None, threshold=0.75):
    for name in data.domain_names:
        domain = data.domains[name]
        if domain.implicit:
            raise DataError(
                f"the rating protocol needs explicit ratings; domain {name!r} of {data.name!r} is implicit feedback"
            )
        table, rating_range = _scaled(domain.interactions)
        noise = rng.random(len(table))
        order = np.lexsort((noise, table["rating"].to_numpy()))
        ordered = table.iloc[order].reset_index(drop=True)
        # Record-stratified: consecutive ranks within each rating value are
        # dealt round-robin, so every part has the same rating distribution.
        rank = ordered.groupby("rating").cumcount().to_numpy()
        if fold is None:
            slot = (rank * 7919) % 10  # a fixed permutation of 0..9 over ranks
            test = slot < round(10 * ratios[2])
            valid = (slot >= round(10 * ratios[2])) & (slot < round(10 * (ratios[1] + ratios[2])))
        else:
            if not 0 <= fold < 5:
                raise DataError("fold must be in 0..4", value=fold)
            test = rank % 5 == fold
            valid = ~test & ((rank // 5) % 8 == 0)
        train = ordered[~test & ~valid]
        split.domains[name] = DomainSplit(
            train=train.sort_values(["user", "item"]).reset_index(drop=True),
            valid=_rating_eval(ordered[valid], threshold, rating_range),
            test=_rating_eval(ordered[test], threshold, rating_range),
            known=_known(data, name),
        )
    split.notes.append(
        f"rating: ratings scaled to [0, 1] per domain; relevant for P@5/R@5 when "
        f"the scaled rating is >= {threshold:g} (4 of 5 stars)"
    )


def _rating_eval(rows, threshold, rating_range=(0.0, 1.0)):
    return RatingEval(
        users=rows["user"].to_numpy(np.int64),
        items=rows["item"].to_numpy(np.int64),
        ratings=rows["rating"].to_numpy(np.float32),
        relevance_threshold=threshold,
        rating_range=rating_range,
    )


def _adc(data, split, rng, train_fraction=0.5, valid_fraction=0.1):
    for name in data.domain_names:
        domain = data.domains[name]
        table = domain.interactions
        draw = rng.random(len(table))
        train = table[draw < train_fraction]
        valid = table[(draw >= train_fraction) & (draw < train_fraction + valid_fraction)]
        test = table[draw >= train_fraction + valid_fraction]
        user_mean = table.groupby("user")["rating"].transform("mean")
        if domain.implicit:
            above = pd.Series(True, index=table.index)
        else:
            above = table["rating"] > user_mean
        split.domains[name] = DomainSplit(
            train=train.sort_values(["user", "item"]).reset_index(drop=True),
            valid=_ranking_eval(valid, train, above[valid.index].to_numpy()),
            test=_ranking_eval(test, pd.concat([train, valid]), above[test.index].to_numpy()),
            known=_known(data, name),
        )
    split.notes.append(
        "adc: relevant = rated above the user's own mean rating in the domain (every interaction for implicit feedback)"
    )


def _cold_start(data, split, rng, num_negatives=99, cold_fraction=0.1, valid_fraction=0.05):
    if len(data.domains) < 2:
        raise DataError(f"cold-start needs at least two domains; {data.name!r} has one")
    present = {name: data.domains[name].users for name in data.domain_names}
    taken = np.zeros(data.num_users, bool)
    for name in data.domain_names:
        others = np.unique(np.concatenate([present[o] for o in data.domain_names if o != name]))
        pool = np.setdiff1d(np.intersect1d(present[name], others), np.flatnonzero(taken))
        pool = rng.permutation(pool)
        n_test = int(round(cold_fraction * len(pool)))
        n_valid = int(round(valid_fraction * len(pool)))
        test_users, valid_users = pool[:n_test], pool[n_test : n_test + n_valid]
        taken[test_users] = True
        taken[valid_users] = True
        positives = _positives(data, name, split)
        known = _known(data, name)
        ordered, from_end = _order_within_user(positives, rng)
        cold = np.isin(ordered["user"].to_numpy(), np.concatenate([test_users, valid_users]))
        train = ordered[~cold]
        latest = ordered[cold & (from_end == 0)]
        room = data.domains[name].num_items - known.count(latest["user"].to_numpy())
        latest = latest[room >= num_negatives]
        is_test = np.isin(latest["user"].to_numpy(), test_users)
        split.domains[name] = DomainSplit(
            train=train.sort_values(["user", "item"]).reset_index(drop=True),
            valid=_sampled_eval(latest[~is_test], known, rng, num_negatives),
            test=_sampled_eval(latest[is_test], known, rng, num_negatives),
            known=known,
        )
        split.notes.append(
            f"{name}: {len(test_users)} test and {len(valid_users)} validation cold-start "
            f"users (of {len(pool)} shared) lose their {int(cold.sum())} interactions here"
        )


def _uses_given(data, protocol, use_given):
    """Whether the split of `protocol` is the dataset's own (see the module docstring)."""
    if data.given_split is None or use_given is False:
        if use_given:
            raise DataError(f"use_given=True, but {data.name!r} comes without a split of its own")
        return False
    if use_given is None:
        return protocol in data.given_protocols
    if not PROTOCOLS[protocol].takes_given_split:
        takes = [name for name, entry in PROTOCOLS.items() if entry.takes_given_split]
        raise DataError(f"a given split serves {takes}, not {protocol!r}")
    return True


def _given_parts(data, name, split, rng):
    """A domain's given train, valid and test rows; valid held out of train when the data has none."""
    given = data.given_split[name]
    train, valid, test = given["train"], given["valid"], given["test"]
    if len(valid) == 0 and len(test):
        ordered, from_end = _order_within_user(train, rng)
        held = (from_end == 0) & (ordered.groupby("user")["item"].transform("size").to_numpy() >= 2)
        train, valid = ordered[~held], ordered[held]
        split.notes.append(
            f"{name}: no valid rows came with the split; one training row of each of {len(valid)} users "
            "(with 2 or more) held out for validation"
        )
    return train.sort_values(["user", "item"]).reset_index(drop=True), valid, test


def _given_candidates(data, name, subset, rows, known, rng, num_negatives):
    """SampledEval of given rows: the folder's `<subset>_negatives` for each user, else sampled ones."""
    negatives = data.given_split[name].get(f"{subset}_negatives")
    if negatives is None:
        return _sampled_eval(rows, known, rng, num_negatives)
    per_user = negatives.groupby("user")["item"].agg(list)
    sizes = per_user.map(len)
    users = rows["user"].to_numpy(np.int64)
    missing = np.setdiff1d(users, per_user.index.to_numpy())
    if missing.size or sizes.nunique() > 1:
        raise DataError(
            f"{name}: {subset}_negatives must give every {subset} user the same number of candidates "
            f"({missing.size} users have none; counts seen {sorted(set(sizes))})",
            value=int(missing[0]) if missing.size else None,
        )
    matrix = np.array(per_user.loc[users].tolist(), np.int64).reshape(len(users), -1)
    clash = known.contains(np.repeat(users, matrix.shape[1]), matrix.ravel())
    if clash.any():
        raise DataError(f"{name}: {int(clash.sum())} {subset}_negatives are items their user interacted with")
    return SampledEval(users=users, items=rows["item"].to_numpy(np.int64), negatives=matrix)


def _sampled_given(data, split, rng, num_negatives=99, **unused):
    for name in data.domain_names:
        train, valid, test = _given_parts(data, name, split, rng)
        known = _known(data, name)
        if data.positive_threshold is not None:
            train = train[train["rating"] >= data.positive_threshold].reset_index(drop=True)
        split.domains[name] = DomainSplit(
            train=train,
            valid=_given_candidates(data, name, "valid", valid, known, rng, num_negatives),
            test=_given_candidates(data, name, "test", test, known, rng, num_negatives),
            known=known,
        )


def _full_ranking_given(data, split, rng, **unused):
    for name in data.domain_names:
        train, valid, test = _given_parts(data, name, split, rng)
        split.domains[name] = DomainSplit(
            train=train,
            valid=_ranking_eval(valid, train),
            test=_ranking_eval(test, pd.concat([train, valid])),
            known=_known(data, name),
        )


def _rating_given(data, split, rng, threshold=0.75, **unused):
    for name in data.domain_names:
        if data.domains[name].implicit:
            raise DataError(f"the rating protocol needs explicit ratings; domain {name!r} of {data.name!r} has none")
        _, rating_range = _scaled(data.domains[name].interactions)
        low, high = rating_range
        train, valid, test = (
            part.assign(rating=(part["rating"] - low) / (high - low) if high > low else 1.0)
            for part in _given_parts(data, name, split, rng)
        )
        split.domains[name] = DomainSplit(
            train=train,
            valid=_rating_eval(valid, threshold, rating_range),
            test=_rating_eval(test, threshold, rating_range),
            known=_known(data, name),
        )


def save_split(split, path):
    """Writes a split's evaluation sets and training rows to one .npz file."""
    arrays = {}
    for name, part in split.domains.items():
        for column in ("user", "item", "rating", "timestamp"):
            arrays[f"{name}/train/{column}"] = part.train[column].to_numpy()
        for subset in ("valid", "test"):
            value = getattr(part, subset)
            for field in dataclasses.fields(value):
                item = getattr(value, field.name)
                if isinstance(item, np.ndarray):
                    arrays[f"{name}/{subset}/{field.name}"] = item
    meta = {k: getattr(split, k) for k in ("dataset", "protocol", "seed", "options")}
    arrays["__meta__"] = np.array(json.dumps(meta, default=str))
    np.savez_compressed(path, **arrays)


# One builder per row of `tfcdr.data.protocols.PROTOCOLS` (a test checks they match).
BUILDERS = {
    "loo-sampled": _loo_sampled,
    "full-ranking": _full_ranking,
    "rating": _rating,
    "adc": _adc,
    "cold-start": _cold_start,
}
