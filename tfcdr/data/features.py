"""Dense encodings of user and item feature tables, for feature-based models.

A feature table (a DataFrame indexed by user or item index, see
`CrossDomainData`) becomes a float32 matrix with one row per index, made of
one group of columns per feature:

- "one_hot": a categorical column; one column per category, sorted. A
  missing value is an all-zero group.
- "multi_hot": a column of `separator`-joined labels (e.g. ML-1M genres
  "Action|Comedy"); one column per label, 1 for each label present.
- "numeric": standardized to mean 0 and standard deviation 1 over the
  rows that have a value; a missing value becomes 0 (the mean).

Kinds are inferred unless given: text containing the separator is
multi-hot; other text, booleans and integers with at most `max_categories`
distinct values (codes such as ML-1M's age bracket or occupation) are
one-hot; other numbers are numeric. Text columns with more than
`max_vocabulary` distinct values (free text, raw ids) are not encoded; each
such column is named in `EncodedFeatures.skipped` and logged. Rows absent
from the table (an item without metadata) encode as all zeros.

Example:

    features = encode_features(load_dataset("ml1m-genre"))
    features.users.matrix.shape        # (6040, 38)
    features.sizes(["action", "target"])
    # {"user_feature_dim": 38, "item_feature_dims": [19, 19]}
"""

import dataclasses
import logging

import numpy as np
import pandas as pd

from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")

KINDS = ("one_hot", "multi_hot", "numeric")


@dataclasses.dataclass
class FeatureGroup:
    """How one column was encoded: its kind, its width and its vocabulary."""

    column: str
    kind: str
    vocabulary: list = dataclasses.field(default_factory=list)
    mean: float = 0.0
    std: float = 1.0

    @property
    def width(self):
        return 1 if self.kind == "numeric" else len(self.vocabulary)


@dataclasses.dataclass
class EncodedFeatures:
    """A feature table as a dense matrix and the groups that make its columns."""

    matrix: np.ndarray
    groups: list
    skipped: list = dataclasses.field(default_factory=list)

    @property
    def dim(self):
        return int(self.matrix.shape[1])


@dataclasses.dataclass
class FeatureTables:
    """Encoded user features and per-domain item features (None: ids only)."""

    users: EncodedFeatures | None
    items: dict

    def sizes(self, domains):
        """Plain model arguments: feature widths, 0 where there are none."""
        return {
            "user_feature_dim": 0 if self.users is None else self.users.dim,
            "item_feature_dims": [0 if self.items.get(d) is None else self.items[d].dim for d in domains],
        }


def infer_kind(values, max_categories=32, separator="|"):
    """The kind a column is encoded as when none is given (see module doc)."""
    present = values.dropna()
    if pd.api.types.is_bool_dtype(values):
        return "one_hot"
    if pd.api.types.is_numeric_dtype(values):
        if pd.api.types.is_integer_dtype(values) and present.nunique() <= max_categories:
            return "one_hot"
        return "numeric"
    if present.astype(str).str.contains(separator, regex=False).any():
        return "multi_hot"
    return "one_hot"


def encode_table(table, num_rows=None, kinds=None, max_categories=32, max_vocabulary=1000, separator="|"):
    """Encodes one feature table (see the module docstring).

    Args:
        table: DataFrame indexed by row index 0..num_rows-1.
        num_rows: rows of the result (default: the largest index + 1);
            rows missing from the table are all zeros.
        kinds: optional dict column -> kind, overriding inference.
        max_categories: integer columns with at most this many distinct
            values are one-hot.
        max_vocabulary: text columns with more distinct values are skipped.
        separator: label separator of multi-hot columns.

    Returns:
        `EncodedFeatures` (a [num_rows, dim] float32 matrix, possibly dim 0).
    """
    kinds = dict(kinds or {})
    unknown = set(kinds) - set(table.columns)
    if unknown:
        raise DataError(f"kinds names columns the table lacks: {sorted(unknown)}")
    for column, kind in kinds.items():
        if kind not in KINDS:
            raise DataError(f"feature kind of {column!r} must be one of {KINDS}", value=kind)
    index = pd.to_numeric(pd.Series(table.index), errors="coerce").to_numpy()
    if num_rows is None:
        num_rows = int(np.nanmax(index)) + 1 if len(index) else 0
    num_rows = int(num_rows)
    if np.isnan(index).any() or index.min(initial=0) < 0 or index.max(initial=-1) >= num_rows:
        raise DataError(f"feature table index must be row indices in [0, {num_rows})")
    rows = index.astype(np.int64)
    blocks, groups, skipped = [], [], []
    for column in table.columns:
        values = table[column]
        kind = kinds.get(column) or infer_kind(values, max_categories, separator)
        if kind == "numeric":
            block, group = _numeric(column, values)
        else:
            labels = _labels(values, kind, separator)
            vocabulary = _sorted_labels({label for row in labels for label in row})
            if column not in kinds and not pd.api.types.is_numeric_dtype(values) and len(vocabulary) > max_vocabulary:
                skipped.append(column)
                logger.info(
                    "feature %r not encoded: %d distinct values (more than max_vocabulary=%d)",
                    column,
                    len(vocabulary),
                    max_vocabulary,
                )
                continue
            block, group = _hot(column, kind, labels, vocabulary)
        blocks.append(block)
        groups.append(group)
    width = sum(block.shape[1] for block in blocks)
    matrix = np.zeros((num_rows, width), np.float32)
    if blocks:
        matrix[rows] = np.concatenate(blocks, axis=1)
    return EncodedFeatures(matrix=matrix, groups=groups, skipped=skipped)


def encode_features(source, kinds=None, **options):
    """Encodes the user and item feature tables of a dataset.

    Args:
        source: a `CrossDomainData` (or any object with `num_users`,
            `num_items`, `user_features` and item feature tables either in
            `item_features` (dict domain -> DataFrame) or in
            `domains[d].item_features`).
        kinds: optional dict column -> kind for every table.
        **options: `encode_table` options.

    Returns:
        `FeatureTables`; a table that is absent or encodes to no column is None.
    """
    num_items = source.num_items
    item_tables = getattr(source, "item_features", None)
    if item_tables is None:
        item_tables = {n: getattr(d, "item_features", None) for n, d in source.domains.items()}

    def encode(table, rows):
        if table is None or table.shape[1] == 0:
            return None
        chosen = {c: k for c, k in (kinds or {}).items() if c in table.columns}
        encoded = encode_table(table, rows, kinds=chosen, **options)
        return encoded if encoded.dim else None

    return FeatureTables(
        users=encode(getattr(source, "user_features", None), source.num_users),
        items={d: encode(item_tables.get(d), num_items[d]) for d in num_items},
    )


def has_features(source):
    """True when `source` carries any user or item feature table."""
    if getattr(source, "user_features", None) is not None:
        return True
    tables = getattr(source, "item_features", None)
    if tables is None:
        tables = {n: getattr(d, "item_features", None) for n, d in getattr(source, "domains", {}).items()}
    return any(t is not None for t in tables.values())


def _labels(values, kind, separator):
    """Per row, the list of category labels (empty for missing values)."""
    out = []
    for value in values.tolist():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            out.append([])
        elif kind == "multi_hot":
            out.append([part for part in str(value).split(separator) if part])
        else:
            out.append([value.item() if hasattr(value, "item") else value])
    return out


def _sorted_labels(labels):
    try:
        return sorted(labels)
    except TypeError:  # mixed types: sort as text
        return sorted(labels, key=str)


def _hot(column, kind, labels, vocabulary):
    position = {label: k for k, label in enumerate(vocabulary)}
    block = np.zeros((len(labels), len(vocabulary)), np.float32)
    for row, row_labels in enumerate(labels):
        for label in row_labels:
            block[row, position[label]] = 1.0
    return block, FeatureGroup(column=column, kind=kind, vocabulary=list(vocabulary))


def _numeric(column, values):
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    present = numbers[~np.isnan(numbers)]
    if len(numbers) and not len(present):
        raise DataError(f"numeric feature {column!r} has no numeric value")
    mean = float(present.mean()) if len(present) else 0.0
    std = float(present.std()) if len(present) else 1.0
    std = std if std > 0 else 1.0
    block = np.where(np.isnan(numbers), 0.0, (numbers - mean) / std)
    group = FeatureGroup(column=column, kind="numeric", mean=mean, std=std)
    return block.astype(np.float32)[:, None], group
