"""Views of a CrossDomainData (some of its domains, one domain, all merged) and "dataset:domain" references.

A domain of any dataset is written `<dataset>:<domain>`, e.g.
`amazon-disencdr-sport-cloth:cloth`; `<dataset>:*` merges all of a
dataset's domains into one, e.g. `ml1m-multi:*` is all of MovieLens-1M.
`tfcdr.data.load_dataset` accepts these references wherever a dataset name
goes, so layer transfer's one-domain sources and targets, and a user's
choice of domains, are read the same way.
"""

import dataclasses
import logging

import numpy as np
import pandas as pd

from tfcdr.data.cross_domain_data import CrossDomainData
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

    def view(self, data):
        """The view of `data` (this reference's dataset, loaded) that the reference names."""
        return one_domain(data, self.domain, name=str(self))


def is_reference(text):
    """Whether `text` reads as "<dataset>:<domain>" rather than a name or path."""
    dataset, sep, domain = str(text).rpartition(":")
    return bool(sep and dataset and domain and "/" not in domain and "\\" not in domain)


def one_domain(data, domain, name=None):
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
    frame = to_frames(data)[domain]
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
        return one_domain(data, only, name=name or f"{data.name}:{only}")
    frames = []
    for label, frame in to_frames(data).items():
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


def select(data, names, name=None):
    """A `CrossDomainData` of the domains `names` of `data`, in that order (users of other domains left out)."""
    names = list(names)
    if len(set(names)) != len(names) or not names:
        raise DataError("select distinct domains", value=names)
    frames = to_frames(data)
    for domain in names:
        data.domain(domain)
    features = {d: _by_external(data.domains[d].item_features, data.domains[d].item_vocab) for d in names}
    return CrossDomainData.from_frames(
        name or data.name,
        {d: frames[d] for d in names},
        implicit={d: data.domains[d].implicit for d in names},
        user_features=_user_features(data),
        item_features={d: table for d, table in features.items() if table is not None},
        positive_threshold=data.positive_threshold,
        notes=[*data.notes, f"domains {names} of {data.name}"],
    )


def to_frames(data):
    """Each domain's interactions with external user and item ids: dict domain -> DataFrame.

    Columns user, item, rating, timestamp: what `CrossDomainData.from_frames`
    takes, so a view is the frames of some domains read back.
    """
    frames = {}
    for label, part in data.domains.items():
        table = part.interactions
        frames[label] = pd.DataFrame(
            {
                "user": data.user_vocab[table["user"].to_numpy()],
                "item": part.item_vocab[table["item"].to_numpy()],
                "rating": table["rating"].to_numpy(),
                "timestamp": table["timestamp"].to_numpy(),
            }
        )
    return frames


def _by_external(features, vocab):
    if features is None:
        return None
    table = features.copy()
    table.index = np.asarray(vocab)
    return table


def _user_features(data):
    return None if data.user_features is None else _by_external(data.user_features, data.user_vocab)
