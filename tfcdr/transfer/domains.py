"""Addressing one domain of any dataset, and one-domain views of CrossDomainData.

Layer transfer needs no user or item linkage: a source and a target are
each a single domain, possibly from different datasets. A domain is written
`<dataset>:<domain>`, e.g. `amazon-disencdr-sport-cloth:cloth`; `<dataset>:*`
(or a bare dataset name) merges all of a dataset's domains into one, e.g.
`ml1m-multi:*` is all of MovieLens-1M.
"""

import dataclasses
import logging

import numpy as np
import pandas as pd

from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.datasets import load_dataset
from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")

ALL_DOMAINS = "*"
MERGED_NAME = "all"


@dataclasses.dataclass(frozen=True)
class DomainRef:
    """One domain of one dataset: `DomainRef("douban-book-music", "music")`.

    Attributes:
        dataset: a recipe name or path accepted by `tfcdr.data.load_dataset`.
        domain: a domain name of that dataset, or "*" for all domains merged.
    """

    dataset: str
    domain: str = ALL_DOMAINS

    @classmethod
    def parse(cls, text):
        """`"dataset:domain"` -> DomainRef; a bare name means all domains merged."""
        if isinstance(text, DomainRef):
            return text
        text = str(text).strip()
        if not text:
            raise DataError("empty domain reference; write <dataset>:<domain>")
        dataset, sep, domain = text.rpartition(":")
        if not sep:
            return cls(text, ALL_DOMAINS)
        if not dataset or not domain:
            raise DataError("a domain reference is <dataset>:<domain>", value=text)
        return cls(dataset, domain)

    def __str__(self):
        return f"{self.dataset}:{self.domain}"

    @property
    def label(self):
        """Short name for tables: the domain, or the dataset when merged."""
        return self.dataset if self.domain == ALL_DOMAINS else self.domain


def single_domain(data, domain, name=None):
    """A `CrossDomainData` holding only `domain` of `data`, users re-indexed.

    Users without interactions in the domain are left out, so the user
    vocabulary (and a model's user embedding) covers only the domain's own
    users. External ids, ratings, timestamps, features and the positive
    threshold are kept. A shipped `given_split` is dropped (it describes the
    multi-domain dataset; the loo-sampled protocol does not read it).

    Args:
        data: a `CrossDomainData`.
        domain: the domain to keep, or "*" for `merged_domain(data)`.
        name: dataset name of the view (default "<dataset>:<domain>").

    Returns:
        A one-domain `CrossDomainData`.
    """
    if domain == ALL_DOMAINS:
        return merged_domain(data, name=name)
    part = data.domain(domain)
    frame = _external(data, part)
    features = None if part.item_features is None else {domain: _by_external(part.item_features, part.item_vocab)}
    view = CrossDomainData.from_frames(
        name or f"{data.name}:{domain}",
        {domain: frame},
        implicit=part.implicit,
        user_features=_user_features(data),
        item_features=features,
        positive_threshold=data.positive_threshold,
        notes=[*data.notes, f"one-domain view of {data.name}: domain {domain!r} only"],
        reference=None,
    )
    return view


def merged_domain(data, name=None, domain_name=MERGED_NAME, match_items=False):
    """All domains of `data` as one domain (e.g. all of MovieLens-1M).

    Users are matched by the shared user vocabulary. Items are kept apart
    per domain by default (external id "<domain>/<item>"), since item ids
    are per-domain vocabularies and equal ids in two domains need not be
    the same item (in the synthetic recipe they are not). With
    `match_items=True` equal external ids are one item and a (user, item)
    pair seen in several domains keeps one row (the count is noted). For
    `ml1m-multi` both give the whole ratings file: each movie is in exactly
    one domain.

    Args:
        data: a `CrossDomainData`.
        name: dataset name of the view (default "<dataset>:*").
        domain_name: name of the merged domain ("all").
        match_items: merge items with equal external ids across domains.

    Returns:
        A one-domain `CrossDomainData`.
    """
    if len(data.domains) == 1:
        only = data.domain_names[0]
        return single_domain(data, only, name=name or f"{data.name}:{only}")
    frames = []
    for label, part in data.domains.items():
        frame = _external(data, part)
        if not match_items:
            frame["item"] = label + "/" + frame["item"].astype(str)
        frames.append(frame)
    merged = pd.concat(frames, ignore_index=True)
    implicit = all(part.implicit for part in data.domains.values())
    how = "equal item ids merged" if match_items else "items kept apart per domain"
    return CrossDomainData.from_frames(
        name or f"{data.name}:{ALL_DOMAINS}",
        {domain_name: merged},
        implicit=implicit,
        user_features=_user_features(data),
        positive_threshold=data.positive_threshold,
        notes=[*data.notes, f"one-domain view of {data.name}: domains {data.domain_names} merged ({how})"],
    )


def load_domain(ref, data_dir=None, options=None, loaded=None):
    """Loads a `DomainRef` (or its text) as a one-domain `CrossDomainData`.

    Args:
        ref: a `DomainRef` or `"dataset:domain"` text.
        data_dir: folder of the shared datasets.
        options: dict dataset name -> recipe options (e.g. synthetic sizes).
        loaded: optional dict used as a cache of whole datasets, so several
            domains of one dataset are read once.

    Returns:
        A one-domain `CrossDomainData` named after the reference.
    """
    ref = DomainRef.parse(ref)
    cache = {} if loaded is None else loaded
    if ref.dataset not in cache:
        cache[ref.dataset] = load_dataset(ref.dataset, data_dir=data_dir, **(options or {}).get(ref.dataset, {}))
    return single_domain(cache[ref.dataset], ref.domain, name=str(ref))


def _external(data, part):
    """A domain's interactions with external user and item ids."""
    table = part.interactions
    return pd.DataFrame(
        {
            "user": data.user_vocab[table["user"].to_numpy()],
            "item": part.item_vocab[table["item"].to_numpy()],
            "rating": table["rating"].to_numpy(),
            "timestamp": table["timestamp"].to_numpy(),
        }
    )


def _by_external(features, vocab):
    table = features.copy()
    table.index = np.asarray(vocab)
    return table


def _user_features(data):
    return None if data.user_features is None else _by_external(data.user_features, data.user_vocab)
