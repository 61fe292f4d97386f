"""CrossDomainData: several interaction domains over one shared user vocabulary."""

import dataclasses
import logging

import numpy as np
import pandas as pd

from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")

INTERACTION_COLUMNS = ("user", "item", "rating", "timestamp")


@dataclasses.dataclass
class Domain:
    """One domain's interactions in contiguous integer ids.

    Attributes:
        name: the domain's name (e.g. "books").
        interactions: DataFrame with int64 `user`, int64 `item`, float32
            `rating` (1.0 for implicit feedback) and float64 `timestamp`
            (NaN where unknown), one row per (user, item) pair.
        item_vocab: external item id of each item index.
        implicit: True when the source has clicks only (every rating is 1).
        item_features: optional DataFrame indexed by item index.
    """

    name: str
    interactions: pd.DataFrame
    item_vocab: np.ndarray
    implicit: bool = False
    item_features: pd.DataFrame | None = None

    @property
    def num_items(self):
        return len(self.item_vocab)

    @property
    def users(self):
        """Sorted unique user indices that have at least one interaction."""
        return np.unique(self.interactions["user"].to_numpy())


@dataclasses.dataclass
class CrossDomainData:
    """Interactions of several domains whose users share one vocabulary.

    User index `u` is the same person in every domain, so overlap is explicit:
    a user is in a domain when she has an interaction there. Item ids are
    per domain. Domains keep their order; two-domain recipes list the source
    first and the target last.

    Build one with `CrossDomainData.from_frames` from tables of external ids;
    readers in `tfcdr.data.readers` and recipes in `tfcdr.data.datasets` do.

    Attributes:
        name: dataset name.
        domains: ordered dict of domain name -> `Domain`.
        user_vocab: external user id of each user index.
        user_features: optional DataFrame indexed by user index.
        positive_threshold: in explicit domains, ratings >= this are the
            positives of the ranking protocols (None: every interaction is
            a positive). Every interaction of an implicit domain is a
            positive. `positives` applies the rule.
        notes: what was filtered or changed while loading, in words.
        reference: optional figures from a paper for `describe` to print beside.
        given_split: optional split shipped with the dataset: dict domain ->
            dict with "train"/"valid"/"test" DataFrames of int `user`, `item`
            (index ids; `rating`, `timestamp` too), optionally "valid_negatives"
            / "test_negatives" (user, item) rows of fixed candidates.
        given_protocols: the protocols `make_split` uses `given_split` for
            by default (its `use_given` option overrides).
    """

    name: str
    domains: dict
    user_vocab: np.ndarray
    user_features: pd.DataFrame | None = None
    positive_threshold: float | None = None
    notes: list = dataclasses.field(default_factory=list)
    reference: dict | None = None
    given_split: dict | None = None
    given_protocols: tuple = ()

    @classmethod
    def from_frames(
        cls,
        name,
        frames,
        implicit=False,
        user_features=None,
        item_features=None,
        positive_threshold=None,
        notes=(),
        reference=None,
    ):
        """Builds vocabularies and integer ids from tables of external ids.

        Args:
            name: dataset name.
            frames: dict domain name -> DataFrame with columns `user`, `item`,
                optional `rating` (missing: implicit 1.0) and `timestamp`.
                Ids may be any hashable values; they are kept as strings.
            implicit: bool, or dict domain -> bool.
            user_features: optional DataFrame indexed by external user id.
            item_features: optional dict domain -> DataFrame indexed by
                external item id.
            positive_threshold: see class docstring.
            notes: notes already made by the loader.
            reference: optional paper figures for `describe`.

        Repeated (user, item) rows in a domain keep their last rating (the
        latest by timestamp where timestamps exist); how many were merged is
        recorded in `notes` and logged.
        """
        if not frames:
            raise DataError(f"dataset {name!r} has no domains")
        notes = list(notes)
        cleaned = {}
        for domain_name, frame in frames.items():
            missing = {"user", "item"} - set(frame.columns)
            if missing:
                raise DataError(f"domain {domain_name!r} of {name!r} lacks columns {sorted(missing)}")
            if len(frame) == 0:
                raise DataError(f"domain {domain_name!r} of {name!r} has no interactions")
            frame = frame.copy()
            frame["user"] = frame["user"].astype(str)
            frame["item"] = frame["item"].astype(str)
            if "rating" not in frame:
                frame["rating"] = 1.0
            if "timestamp" not in frame:
                frame["timestamp"] = np.nan
            frame = frame[list(INTERACTION_COLUMNS)]
            if frame["timestamp"].notna().any():
                frame = frame.sort_values("timestamp", kind="stable", na_position="first")
            before = len(frame)
            frame = frame.drop_duplicates(["user", "item"], keep="last")
            if len(frame) < before:
                note = (
                    f"{domain_name}: merged {before - len(frame)} repeated (user, item) rows, keeping the last rating"
                )
                notes.append(note)
                logger.info(note)
            cleaned[domain_name] = frame

        user_vocab = _sorted_vocab(np.concatenate([f["user"].to_numpy() for f in cleaned.values()]))
        user_index = pd.Index(user_vocab)
        implicit_of = implicit if isinstance(implicit, dict) else dict.fromkeys(cleaned, implicit)
        domains = {}
        for domain_name, frame in cleaned.items():
            item_vocab = _sorted_vocab(frame["item"].to_numpy())
            item_index = pd.Index(item_vocab)
            table = pd.DataFrame(
                {
                    "user": user_index.get_indexer(frame["user"]).astype(np.int64),
                    "item": item_index.get_indexer(frame["item"]).astype(np.int64),
                    "rating": frame["rating"].to_numpy(np.float32),
                    "timestamp": frame["timestamp"].to_numpy(np.float64),
                }
            )
            table = table.sort_values(["user", "item"], kind="stable").reset_index(drop=True)
            features = None
            if item_features is not None and domain_name in item_features:
                features = _align_features(item_features[domain_name], item_vocab)
            domains[domain_name] = Domain(
                name=domain_name,
                interactions=table,
                item_vocab=item_vocab,
                implicit=bool(implicit_of.get(domain_name, False)),
                item_features=features,
            )
        users_table = None
        if user_features is not None:
            users_table = _align_features(user_features, user_vocab)
        return cls(
            name=name,
            domains=domains,
            user_vocab=user_vocab,
            user_features=users_table,
            positive_threshold=positive_threshold,
            notes=notes,
            reference=reference,
        )

    @property
    def domain_names(self):
        return list(self.domains)

    @property
    def num_users(self):
        return len(self.user_vocab)

    @property
    def num_items(self):
        """Dict domain name -> number of items."""
        return {name: d.num_items for name, d in self.domains.items()}

    def domain(self, name):
        """The `Domain` called `name`; a clear error for unknown names."""
        if name not in self.domains:
            raise DataError(f"unknown domain {name!r} in dataset {self.name!r}; its domains are {self.domain_names}")
        return self.domains[name]

    def positives(self, name):
        """The interactions of domain `name` that ranking protocols count as positives.

        The one place that decides "is this interaction a positive?" (splits,
        `describe` and the transfer study's relatedness all ask it): every
        interaction of an implicit domain, or with no `positive_threshold`;
        otherwise those rated >= `positive_threshold`.

        Returns:
            DataFrame: the rows of the domain's `interactions` that are
            positives; the `interactions` table itself when all of them are.
        """
        domain = self.domain(name)
        table = domain.interactions
        if domain.implicit or self.positive_threshold is None:
            return table
        return table[table["rating"] >= self.positive_threshold]

    def positive_rule(self):
        """One line saying what a positive is in ranking protocols, for `describe`."""
        explicit = [name for name, domain in self.domains.items() if not domain.implicit]
        if not explicit:
            return "every interaction (implicit feedback)"
        if self.positive_threshold is None:
            return f"every interaction, whatever its rating (no positive threshold; explicit: {', '.join(explicit)})"
        rule = f"rating >= {self.positive_threshold:g}"
        if len(explicit) < len(self.domains):
            rule += f" in {', '.join(explicit)}; every interaction in the implicit domains"
        return rule

    def check_domains(self):
        """Refuses domains that no ranking protocol can split, naming them.

        A domain with a single item leaves nothing to rank a positive
        against, and a user who has interacted with every item of a domain
        leaves no item to sample as her negative.

        Raises:
            DataError: naming the domain (and for a full user, the user).
        """
        for name, domain in self.domains.items():
            if domain.num_items < 2:
                raise DataError(
                    f"domain {name!r} of {self.name!r} has a single item, so there is nothing to rank; "
                    "drop the domain or add items",
                    value=str(domain.item_vocab[0]),
                )
            per_user = domain.interactions.groupby("user").size()  # (user, item) pairs are unique
            full = per_user.index[per_user.to_numpy() >= domain.num_items]
            if len(full):
                first = str(self.user_vocab[full[0]])
                raise DataError(
                    f"in domain {name!r} of {self.name!r}, {len(full)} user(s) interacted with every one of its "
                    f"{domain.num_items} items, which leaves no item to sample as a negative (first: user "
                    f"{first!r}); drop those users or add items",
                    value=first,
                )

    def overlapping_users(self, names=None):
        """Sorted user indices present in every one of `names` (default all)."""
        names = self.domain_names if names is None else names
        users = None
        for name in names:
            present = self.domain(name).users
            users = present if users is None else np.intersect1d(users, present)
        return users

    def describe(self):
        """Per-domain statistics as a DataFrame (one row per domain)."""
        rows = []
        for name, domain in self.domains.items():
            table = domain.interactions
            users = table["user"].nunique()
            rows.append(
                {
                    "domain": name,
                    "users": users,
                    "items": domain.num_items,
                    "interactions": len(table),
                    "positives": len(self.positives(name)),
                    "density": len(table) / max(users * domain.num_items, 1),
                    "feedback": "implicit" if domain.implicit else "explicit",
                    "timestamps": float(table["timestamp"].notna().mean()),
                }
            )
        return pd.DataFrame(rows).set_index("domain")

    def overlap(self):
        """DataFrame of users present in both domains, for every pair."""
        names = self.domain_names
        counts = np.zeros((len(names), len(names)), dtype=np.int64)
        present = [self.domains[n].users for n in names]
        for a in range(len(names)):
            for b in range(len(names)):
                counts[a, b] = len(np.intersect1d(present[a], present[b]))
        return pd.DataFrame(counts, index=names, columns=names)

    def describe_text(self):
        """A readable report: per-domain figures, overlap, notes, paper figures."""
        stats = self.describe()
        lines = [f"dataset {self.name}: {self.num_users} users in {len(self.domains)} domains"]
        lines.append(stats.to_string(float_format=lambda x: f"{x:.5f}"))
        lines.append("")
        lines.append("users present in both domains (row x column):")
        lines.append(self.overlap().to_string())
        lines.append(f"users in every domain: {len(self.overlapping_users())}")
        lines.append(f"positives in ranking protocols: {self.positive_rule()}")
        if self.user_features is not None:
            lines.append(f"user features: {list(self.user_features.columns)}")
        for name, domain in self.domains.items():
            if domain.item_features is not None:
                lines.append(f"item features ({name}): {list(domain.item_features.columns)}")
        if self.reference:
            lines.append("")
            lines.append(f"paper figures beside ours ({self.reference.get('source', 'paper')}):")
            lines.append(_reference_table(self, self.reference).to_string())
        if self.notes:
            lines.append("")
            lines.append("notes:")
            lines.extend(f"  - {note}" for note in self.notes)
        return "\n".join(lines)


def _sorted_vocab(ids):
    """Unique ids sorted numerically when they all are numbers, else as text."""
    unique = pd.unique(ids)
    numeric = pd.to_numeric(pd.Series(unique), errors="coerce")
    if numeric.notna().all():
        order = np.argsort(numeric.to_numpy(), kind="stable")
    else:
        order = np.argsort(unique.astype(str), kind="stable")
    return unique[order].astype(str)


def _align_features(table, vocab):
    """Reorders a feature table indexed by external id to index order."""
    table = table.copy()
    table.index = table.index.astype(str)
    aligned = table.reindex(vocab)
    aligned.index = pd.RangeIndex(len(vocab))
    return aligned


def _reference_table(data, reference):
    ours = data.describe()
    rows = []
    for name, figures in reference.get("domains", {}).items():
        if name not in ours.index:
            continue
        for key, value in figures.items():
            rows.append({"domain": name, "figure": key, "paper": value, "ours": ours.loc[name, key]})
    if "users_in_every_domain" in reference:
        rows.append(
            {
                "domain": "all",
                "figure": "users in every domain",
                "paper": reference["users_in_every_domain"],
                "ours": len(data.overlapping_users()),
            }
        )
    return pd.DataFrame(rows).set_index(["domain", "figure"])
