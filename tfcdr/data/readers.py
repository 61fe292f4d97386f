"""Readers for the interaction files users bring, each giving one DataFrame.

Every reader returns external ids as strings in columns `user` and `item`,
and, where the file has them, float `rating` and `timestamp` (NaN where a
timestamp cell is empty). Malformed input raises `tfcdr.errors.DataError`
naming the file, the 1-based line number (the header counts as line 1; a
Parquet file names the data row instead) and the value at fault.
Well-formed files are parsed by pandas' C parser; the slow line-by-line scan
runs only after a problem has been detected, to say where it is.

What every reader checks and repairs the same way:
    - Header names match case-insensitively, ignoring surrounding spaces and
      a byte-order mark (`User,Item,Rating` is a header).
    - Ids (`user`, `item`, `domain`) lose surrounding whitespace; how many
      values changed goes to `notes`.
    - A file whose lines all end in a bare carriage return (classic Mac) is
      read line by line, with a note; a bare carriage return inside a file
      of `\n` lines, a NUL byte, or a quote never closed is an error.
    - Ratings must be finite and lie on the rating scale: the declared one
      (`rating_scale=(low, high)`), else [0, top] with top the smallest of
      1, 5 and 10 that holds at least 99% of the file's ratings (so one 1e6
      among 1-5 stars is refused; no top when none of them holds 99%:
      counts, not stars). A negative rating is an error unless a declared
      scale allows it.

Readers take `notes`, a list to which they append what they repaired (it is
also logged), and `rating_scale`.

Formats:
    `read_delimited`: any delimited text (`::`, tab, comma, `|`; `.gz` too).
    `read_interactions`: one domain's file, format detected from its name
        and first line (headed or bare CSV/TSV, RecBole `.inter`, Amazon).
    `read_atomic_inter`: RecBole atomic `.inter` files.
    `read_domain_table`: a long table with a domain column.
    `read_domain_files`: one file per domain (a dict or a folder).
    `read_amazon_ratings`: Amazon 2014 `ratings_<Category>.csv`.
    `read_amazon_reviews`: Amazon 5-core `reviews_<Category>_5.json`
        (plain, `.gz`, or inside a `.zip`).
    `read_parquet`: a Parquet table with the column names a headed CSV has.
"""

import collections.abc
import csv
import gzip
import io
import json
import logging
import os
import pathlib
import re
import warnings
import zipfile
import zlib

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute
import pyarrow.parquet

from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")

# Columns whose cells must not be empty, and columns that must be numbers.
_ID_COLUMNS = ("user", "item", "domain")
_NUMERIC_COLUMNS = ("rating", "timestamp")
# A timestamp may be unknown (empty); a rating may not.
_MAY_BE_EMPTY = ("timestamp",)

# pandas' fast C parser only splits on one character, so a multi-character
# separator such as MovieLens' "::" is swapped for this control character.
_STAND_IN = "\x1f"

# Header names (lower case, RecBole ":type" suffix removed) understood as ours.
HEADER_ALIASES = {
    "user": "user",
    "user_id": "user",
    "userid": "user",
    "reviewerid": "user",
    "item": "item",
    "item_id": "item",
    "itemid": "item",
    "movie_id": "item",
    "movieid": "item",
    "asin": "item",
    "rating": "rating",
    "overall": "rating",
    "timestamp": "timestamp",
    "unixreviewtime": "timestamp",
}

_AMAZON_RATINGS = re.compile(r"^ratings_(?P<category>.+)\.csv(\.gz)?$")
_AMAZON_REVIEWS = re.compile(r"^(reviews_)?(?P<category>.+?)(_5)?\.(json(\.gz)?|zip)$")
_DOMAIN_FILE = re.compile(r"^(?P<domain>.+)\.((csv|tsv|inter)(\.gz)?|parquet)$")

# Tops of the rating scales a file's ratings are checked against when no
# scale is declared: 0/1 labels, 5 stars (half stars too) and 10 points.
_SCALE_TOPS = (1.0, 5.0, 10.0)
_SCALE_SHARE = 0.99
# Leading bytes of files that are not text in the expected encoding.
_MAGIC = {
    b"\x1f\x8b": "gzip-compressed: name it <name>.gz",
    b"PK\x03\x04": "a zip archive (an Excel workbook is one: save it as CSV or Parquet), not text",
    b"\xff\xfe": "UTF-16 text: save it as UTF-8, or pass encoding='utf-16'",
    b"\xfe\xff": "UTF-16 text: save it as UTF-8, or pass encoding='utf-16'",
    b"PAR1": "Parquet: name it <name>.parquet",
}
_SCALE_HINT = (
    "declare the scale if this is right: rating_scale=(low, high), on the command line --rating-scale LOW,HIGH"
)


def read_delimited(path, columns, sep=",", header=False, optional=(), encoding="utf-8", notes=None, rating_scale=None):
    """Reads a delimited text file (optionally gzipped) into a DataFrame.

    Args:
        path: the file; a name ending in `.gz` is decompressed.
        columns: without a header, the names of every field of a line, in
            order (a line with another number of fields is an error). With
            a header, the header names to keep. A sequence keeps the names; a
            dict renames them (file name -> our name).
        sep: the field separator, e.g. ",", "\\t", "::" or "|". Quotes are
            honoured only for ",": MovieLens titles contain bare quotes.
        header: whether line 1 names the fields. Names match case-
            insensitively, ignoring surrounding spaces.
        optional: header names in `columns` that may be absent from the file.
        encoding: text encoding, e.g. "latin-1" for MovieLens titles.
        notes: optional list to which repairs are appended (module docstring).
        rating_scale: optional (low, high) every rating must lie in.

    Returns:
        DataFrame with the (renamed) columns; `user`, `item` and `domain` as
        non-empty strings, `rating` and `timestamp` as float64 (a timestamp
        cell may be empty: NaN). Other columns stay strings.

    Raises:
        DataError: missing or empty file, undecodable text, a NUL byte, a
            header lacking a column, a line with the wrong number of fields, a
            quote never closed, an empty id, a rating/timestamp that is not a
            finite number or a rating off the scale.
    """
    path = _existing_file(path)
    columns = dict(columns) if isinstance(columns, collections.abc.Mapping) else {c: c for c in columns}
    text = _read_text(path, encoding, notes)
    shown_sep = sep
    if len(sep) > 1:
        if _STAND_IN in text:
            raise DataError(
                f"contains the control character \\x1f, which the reader for separator {sep!r} reserves",
                path,
            )
        text = text.replace(sep, _STAND_IN)
        sep = _STAND_IN
    quoting = csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE
    if header:
        fields = _header_fields(text, sep, quoting)
        if not fields:
            raise DataError("the file has no header and no data rows", path)
        columns = _match_header(fields, columns, optional, path)

    def record_lines(width):
        return _record_lines(path, text, sep, shown_sep, quoting, header, width)

    numeric = [name for name, ours in columns.items() if ours in _NUMERIC_COLUMNS]

    def parse(typed):
        # Typed parsing is the fast path; text cells (typed=False) let a bad
        # value be reported exactly as written. pandas' warning about a cut
        # first line is superseded by the separator count below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(
                io.StringIO(text),
                sep=sep,
                header=0 if header else None,
                names=None if header else list(columns),
                dtype=collections.defaultdict(lambda: object, dict.fromkeys(numeric, np.float64) if typed else {}),
                keep_default_na=False,
                na_values=dict.fromkeys(numeric, [""]) if typed else None,
                index_col=False,
                quoting=quoting,
            )

    try:
        try:
            frame = parse(typed=True)
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            raise
        except ValueError:  # a cell that is not a number
            frame = None
        if frame is None or not all(_all_finite(frame[name], columns[name]) for name in numeric if name in frame):
            frame = parse(typed=False)
    except pd.errors.EmptyDataError:
        raise DataError("the file has no data rows", path) from None
    except pd.errors.ParserError as error:
        # Too many fields on some line: the scan names it.
        record_lines(None if header else len(columns))
        raise DataError(f"cannot parse the file ({error})", path) from None
    width = len(_header_fields(text, sep, quoting)) if header else len(columns)
    if header:
        frame = frame[list(columns)]
    if len(frame) == 0:
        raise DataError("the file has no data rows", path)
    # pandas pads a short line with empty cells and silently cuts a long
    # first line, so count separators: a well-formed file has exactly
    # (fields - 1) per record. Quoted commas also trip this; the scan then
    # finds no fault and costs only time.
    if text.count(sep) != (len(frame) + bool(header)) * (width - 1):
        record_lines(width)
    frame = frame.rename(columns=columns)
    return _validated(frame, path, lambda: record_lines(width), notes, rating_scale)


def read_atomic_inter(path, encoding="utf-8", notes=None, rating_scale=None):
    """Reads a RecBole atomic `.inter` file (tab-separated, typed header).

    The header looks like `user_id:token item_id:token rating:float
    timestamp:float`; the `:type` suffixes are optional. Other columns are
    ignored.

    Args:
        path: the `.inter` file (or `.inter.gz`).
        encoding: text encoding.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame with `user`, `item` and, when present, `rating`, `timestamp`.
    """
    path = _existing_file(path)
    fields = _first_line(path, encoding).split("\t")
    columns = {}
    for field in fields:
        ours = {
            "user_id": "user",
            "item_id": "item",
            "rating": "rating",
            "timestamp": "timestamp",
        }.get(_header_key(field))
        if ours is not None and ours not in columns.values():
            columns[field] = ours
    missing = [name for name in ("user", "item") if name not in columns.values()]
    if missing:
        raise DataError(
            f"the header lacks {[f'{m}_id' for m in missing]}; the file has columns {fields}",
            path,
            line=1,
            value=f"{missing[0]}_id",
        )
    return read_delimited(
        path, columns, sep="\t", header=True, encoding=encoding, notes=notes, rating_scale=rating_scale
    )


def read_domain_table(
    path,
    sep=None,
    user="user",
    item="item",
    rating="rating",
    timestamp="timestamp",
    domain="domain",
    encoding="utf-8",
    notes=None,
    rating_scale=None,
):
    """Reads a long table of several domains: one interaction per line.

    Args:
        path: CSV/TSV file with a header (optionally gzipped), or a
            `.parquet` file with those columns.
        sep: field separator; None picks it from the header line.
        user, item, rating, timestamp, domain: the header names of those
            columns (any case). `rating` and `timestamp` are read when the
            header has them (no rating: implicit feedback).
        encoding: text encoding.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame with `user`, `item`, `domain` and, when present, `rating`
        and `timestamp`. Domains appear in `domain` in file order.
    """
    path = _existing_file(path)
    columns = {
        user: "user",
        item: "item",
        rating: "rating",
        timestamp: "timestamp",
        domain: "domain",
    }
    if _is_parquet(path):
        return read_parquet(path, columns, optional=(rating, timestamp), notes=notes, rating_scale=rating_scale)
    if sep is None:
        sep = _guess_sep(path, _first_line(path, encoding))
    return read_delimited(
        path,
        columns,
        sep=sep,
        header=True,
        optional=(rating, timestamp),
        encoding=encoding,
        notes=notes,
        rating_scale=rating_scale,
    )


def read_interactions(path, sep=None, encoding="utf-8", notes=None, rating_scale=None):
    """Reads one domain's interaction file, detecting its format.

    `.inter` files are RecBole atomic files; `.json`, `.json.gz` and `.zip`
    are Amazon review JSON lines; `.parquet` files are tables whose column
    names follow `HEADER_ALIASES`; anything else is delimited text whose
    separator (`::`, tab or comma) is taken from line 1. Line 1 is a header
    when it names a user and an item column (see `HEADER_ALIASES`); without
    one, lines of 2, 3 or 4 fields are read as user, item[, rating[,
    timestamp]] (Amazon `ratings_*.csv` are of this kind).

    Args:
        path: the file.
        sep: field separator; None detects it.
        encoding: text encoding.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame with `user`, `item` and, where present, `rating`, `timestamp`.
    """
    path = _existing_file(path)
    checks = {"notes": notes, "rating_scale": rating_scale}
    name = _plain_name(path)
    if name.endswith(".inter"):
        return read_atomic_inter(path, encoding=encoding, **checks)
    if name.endswith((".json", ".zip")):
        return read_amazon_reviews(path, encoding=encoding, **checks)
    if _is_parquet(path):
        named = _aliased(header_names(path))
        if not {"user", "item"} <= set(named.values()):
            raise DataError(
                "no columns naming the user and the item (e.g. user, user_id or reviewerID; item, item_id or "
                f"asin); the table has {header_names(path)}",
                path,
            )
        return read_parquet(path, named, **checks)
    first = _first_line(path, encoding)
    sep = _guess_sep(path, first) if sep is None else sep
    fields = [field.strip().strip('"') for field in first.split(sep)]
    named = _aliased(fields)
    if {"user", "item"} <= set(named.values()):
        return read_delimited(path, named, sep=sep, header=True, encoding=encoding, **checks)
    bare = {
        2: ("user", "item"),
        3: ("user", "item", "rating"),
        4: ("user", "item", "rating", "timestamp"),
    }
    if len(fields) not in bare:
        raise DataError(
            f"cannot tell the columns: line 1 has {len(fields)} fields and no header "
            "naming user and item (bare files need 2-4 fields: user, item, rating, "
            "timestamp)",
            path,
            line=1,
            value=first,
        )
    return read_delimited(path, bare[len(fields)], sep=sep, encoding=encoding, **checks)


def read_domain_files(source, sep=None, encoding="utf-8", notes=None, rating_scale=None):
    """Reads one interaction file per domain.

    Args:
        source: dict domain name -> file, or a folder whose files are named
            `<domain>.csv`, `<domain>.tsv` or `<domain>.inter` (each maybe
            `.gz`), `<domain>.parquet`, Amazon `ratings_<Category>.csv` or
            `reviews_<Category>_5.json[.gz]` (domain = Category). Other
            files in the folder are skipped and noted; an entry whose name
            gives a domain but that cannot be read (a broken link, a folder,
            no permission) is an error.
        sep: field separator for delimited files; None detects it per file.
        encoding: text encoding.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        dict domain name -> DataFrame as from `read_interactions`; a folder's
        domains come in file-name order.
    """
    if isinstance(source, collections.abc.Mapping):
        paths = {str(name): pathlib.Path(p) for name, p in source.items()}
    else:
        folder = pathlib.Path(source)
        if not folder.is_dir():
            raise DataError("expected a folder of per-domain files", folder)
        paths, skipped = {}, []
        for path in sorted(folder.iterdir()):
            name = domain_of_file(path)
            if name is None:
                skipped.append(path.name + ("/" if path.is_dir() else ""))
            elif name in paths:
                raise DataError(
                    f"two files give domain {name!r}: {paths[name].name} and {path.name}",
                    folder,
                    value=name,
                )
            else:
                paths[name] = path
        if not paths:
            raise DataError(
                "no per-domain files (<domain>.csv|.tsv|.inter|.parquet, ratings_<Category>.csv, "
                f"reviews_<Category>_5.json) in the folder; it has {skipped}",
                folder,
            )
        if skipped:
            _note(notes, f"{folder}: skipped {len(skipped)} entries that name no domain: {skipped}")
    return {
        name: read_interactions(path, sep=sep, encoding=encoding, notes=notes, rating_scale=rating_scale)
        for name, path in paths.items()
    }


def read_amazon_ratings(path, notes=None, rating_scale=None):
    """Reads an Amazon 2014 ratings-only file `ratings_<Category>.csv`.

    Args:
        path: the CSV (no header; user, item, rating, timestamp), maybe `.gz`.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame with `user`, `item`, `rating`, `timestamp`.
    """
    return read_delimited(
        path, ("user", "item", "rating", "timestamp"), sep=",", notes=notes, rating_scale=rating_scale
    )


def read_amazon_reviews(path, text=False, encoding="utf-8", notes=None, rating_scale=None):
    """Reads Amazon 5-core reviews (JSON lines), plain, `.gz` or in a `.zip`.

    Each line is an object with `reviewerID`, `asin`, `overall` and
    `unixReviewTime` (and `reviewText`). A zip is read in memory; it must
    hold exactly one `.json` member.

    Args:
        path: `reviews_<Category>_5.json`, `.json.gz` or a `.zip` holding it.
        text: also return `review_text` ("" where a review has none).
        encoding: text encoding.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame with `user`, `item`, `rating`, `timestamp` (and `review_text`).
    """
    path = _existing_file(path)
    where, content = _json_text(path, encoding, notes)
    try:
        frame = pd.read_json(io.StringIO(content), lines=True, dtype=False)
    except (ValueError, TypeError) as error:  # TypeError: a line that is an array
        _locate_bad_json(where, content)
        raise DataError(f"cannot parse the JSON lines ({error})", where) from None
    if len(frame) == 0:
        raise DataError("the file has no data rows", where)
    keys = {
        "reviewerID": "user",
        "asin": "item",
        "overall": "rating",
        "unixReviewTime": "timestamp",
    }
    absent = [key for key in keys if key not in frame.columns]
    if absent:
        raise DataError(
            f"no line has key(s) {absent}; the lines have keys {list(frame.columns)}",
            where,
            value=absent[0],
        )
    table = frame[list(keys)].rename(columns=keys)
    for column in ("user", "item"):
        _refuse_nested(table[column], column, where, content)
        # A line without the key gives NaN; validation reports it as empty.
        table[column] = table[column].where(table[column].notna(), "").astype(str)
    table["rating"] = table["rating"].where(table["rating"].notna(), "")
    table["timestamp"] = table["timestamp"].where(table["timestamp"].notna(), "")
    if text:
        review = frame["reviewText"] if "reviewText" in frame.columns else pd.Series("", index=frame.index)
        table["review_text"] = review.where(review.notna(), "").astype(str)
    return _validated(table, where, lambda: _json_record_lines(content), notes, rating_scale)


def read_parquet(path, columns, optional=(), notes=None, rating_scale=None):
    """Reads a Parquet table with the column names and checks of a headed CSV.

    Args:
        path: the `.parquet` file.
        columns: the columns to keep: a sequence keeps the names, a dict
            renames them (table name -> our name). Names match case-
            insensitively, as in a CSV header.
        optional: names in `columns` the table may lack.
        notes, rating_scale: as for `read_delimited`.

    Returns:
        DataFrame as from `read_delimited`: `user`, `item` and `domain` as
        strings (an integer id 7 reads as "7", as in a CSV), `rating` and
        `timestamp` float64 (a Parquet timestamp or date becomes seconds
        since 1970-01-01 UTC).

    Raises:
        DataError: not a Parquet file, a missing column, or a faulty value
            (a null or empty id, a rating that is null, not a finite number
            or off the scale); the message names the 1-based data row.
    """
    path = _existing_file(path)
    columns = dict(columns) if isinstance(columns, collections.abc.Mapping) else {c: c for c in columns}
    columns = _match_header(_parquet_schema(path).names, columns, optional, path, line=None)
    try:
        table = pyarrow.parquet.read_table(path, columns=list(columns))
    except (pyarrow.ArrowException, OSError) as error:
        raise DataError(f"cannot read the Parquet file ({error})", path) from None
    if table.num_rows == 0:
        raise DataError("the file has no data rows", path)
    frame = pd.DataFrame({ours: _parquet_cells(table.column(name), ours) for name, ours in columns.items()})
    return _validated(frame, path, None, notes, rating_scale, unit="row")


def header_names(path, encoding="utf-8"):
    """Column names of a headed delimited or Parquet file, as compared (lower case).

    Line 1 of a text file is split on `::`, tab or comma (one name when it
    has none of them); JSON, zip and `.inter` files give []. The names are
    lower case without a byte-order mark, quotes or surrounding spaces, so
    `"domain" in header_names(path)` asks whether the file has a domain
    column whatever its spelling.
    """
    path = _existing_file(path)
    if _is_parquet(path):
        return [_header_key(name) for name in _parquet_schema(path).names]
    if _plain_name(path).endswith((".inter", ".json", ".zip")):
        return []
    first = _first_line(path, encoding)
    sep = next((sep for sep in ("::", "\t", ",") if sep in first), None)
    return [_header_key(field) for field in (first.split(sep) if sep else [first])]


def domain_of_file(path):
    """The domain a per-domain file stands for, from its name, or None.

    `ratings_Books.csv` and `reviews_Books_5.json[.gz]` give "Books";
    `books.csv`, `books.tsv.gz` and `books.inter` give "books".
    """
    name = pathlib.Path(path).name
    for pattern, group in (
        (_AMAZON_RATINGS, "category"),
        (_AMAZON_REVIEWS, "category"),
        (_DOMAIN_FILE, "domain"),
    ):
        match = pattern.match(name)
        if match:
            return match.group(group)
    return None


def _validated(frame, path, record_lines, notes=None, rating_scale=None, unit="line"):
    """Checks ids and numbers column by column; converts and returns `frame`.

    `record_lines()` gives each row's line number; it is only called when a
    fault was found, because finding lines is the slow part. With
    `unit="row"` (Parquet) the fault names the 1-based data row instead.
    """
    faults = []  # (first bad row, message, value)
    for column in _ID_COLUMNS:
        if column in frame.columns:
            text = frame[column].astype(str)
            stripped = text.str.strip()
            changed = stripped != text
            if changed.any():
                example = text[changed].iloc[0]
                _note(
                    notes,
                    f"{path}: removed surrounding whitespace from {int(changed.sum()):,} {column} values "
                    f"(e.g. {example!r} read as {example.strip()!r})",
                )
            empty = np.flatnonzero(stripped.to_numpy(dtype=object) == "")
            if len(empty):
                faults.append((empty[0], f"empty {column}", text.iloc[empty[0]]))
            frame[column] = stripped
    for column in _NUMERIC_COLUMNS:
        if column in frame.columns:
            raw = frame[column]
            if raw.dtype == np.float64:  # parsed by pandas or Parquet: NaN is a missing cell
                values = raw.to_numpy()
                blank = np.isnan(values)
            else:
                values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
                blank = raw.to_numpy(dtype=object) == ""
            bad = ~np.isfinite(values)
            if column in _MAY_BE_EMPTY:
                bad &= ~blank
            rows = np.flatnonzero(bad)
            if len(rows):
                row = rows[0]
                if blank[row]:
                    what = f"empty {column}"
                else:
                    what = f"{column} is not a {'number' if np.isnan(values[row]) else 'finite number'}"
                value = raw.iloc[row]
                faults.append((row, what, value.item() if isinstance(value, np.generic) else value))
            frame[column] = values
    if "rating" in frame.columns:
        fault = _off_scale(frame["rating"].to_numpy(), rating_scale)
        if fault is not None:
            faults.append(fault)
    if faults:
        row, message, value = min(faults, key=lambda fault: fault[0])
        if unit == "row":
            raise DataError(f"row {row + 1}: {message}", path, value=value)
        lines = record_lines()
        line = int(lines[row]) if len(lines) == len(frame) else None
        raise DataError(message, path, line=line, value=value)
    return frame.reset_index(drop=True)


def checked_rating_scale(rating_scale):
    """`rating_scale` as a (low, high) pair of floats, or None; ValueError if malformed."""
    if rating_scale is None:
        return None
    try:
        low, high = (float(bound) for bound in rating_scale)
    except (TypeError, ValueError):
        raise ValueError(f"rating_scale must be a pair (low, high) of numbers, got {rating_scale!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"rating_scale must be finite with low < high, got {rating_scale!r}")
    return low, high


def _off_scale(ratings, rating_scale):
    """(row, message, value) of the first rating off the declared or inferred scale, or None."""
    scale = checked_rating_scale(rating_scale)
    if scale is not None:
        low, high = scale
        rows = np.flatnonzero((ratings < low) | (ratings > high))
        message = f"rating outside the declared scale [{low:g}, {high:g}]"
    elif (ratings < 0).any():
        rows = np.flatnonzero(ratings < 0)
        message = f"negative rating; {_SCALE_HINT}"
    else:
        top, share = _inferred_top(ratings[np.isfinite(ratings)])
        if top is None:
            return None
        rows = np.flatnonzero(ratings > top)
        message = f"rating above the scale [0, {top:g}] that {share:.2%} of the file's ratings lie on; {_SCALE_HINT}"
    if len(rows) == 0:
        return None
    return rows[0], message, float(ratings[rows[0]])


def inferred_rating_scale(ratings):
    """The star scale (low, high) that `ratings` lie on, or None when they are not stars.

    `high` is the smallest of 1, 5 and 10 holding at least 99% of the
    ratings; `low` is 1 when no rating is below 1 (stars usually start at
    one), else 0. None when no such `high` exists (counts such as plays).
    """
    ratings = np.asarray(ratings, dtype=np.float64)
    ratings = ratings[np.isfinite(ratings)]
    top, _ = _inferred_top(ratings)
    if top is None or len(ratings) == 0:
        return None
    return (1.0 if top > 1 and ratings.min() >= 1 else 0.0), top


def _inferred_top(ratings):
    """(top, share of ratings <= top) of the smallest star scale holding 99% of `ratings`, or (None, None).

    None when no scale holds them: counts (e.g. plays) rather than stars.
    """
    for top in _SCALE_TOPS:
        share = np.count_nonzero(ratings <= top) / max(len(ratings), 1)
        if share >= _SCALE_SHARE:
            return top, share
    return None, None


def _note(notes, message):
    """Logs a repair and appends it to `notes` when the caller collects them."""
    logger.info(message)
    if notes is not None:
        notes.append(message)


def _all_finite(values, column):
    """Whether a typed column needs no closer look (unknown timestamps are fine)."""
    values = values.to_numpy(dtype=np.float64)
    ok = np.isfinite(values)
    if column in _MAY_BE_EMPTY:
        ok |= np.isnan(values)
    return bool(ok.all())


def _record_lines(path, text, sep, shown_sep, quoting, header, width):
    """Line numbers of the data records, as pandas reads them; the slow scan.

    Raises DataError at the first record whose field count differs from
    `width` (the header's, when `width` is None and there is a header), or
    that the csv module cannot split.
    """
    lines = text.split("\n")
    reader = csv.reader((line.rstrip("\r") for line in lines), delimiter=sep, quoting=quoting)
    numbers = []
    previous = 0
    seen_header = not header

    def fault(start, message):
        shown = lines[start - 1].rstrip("\r").replace(_STAND_IN, shown_sep)[:200]
        if reader.line_num > start and quoting != csv.QUOTE_NONE and lines[start - 1].count('"') % 2:
            message = (
                f'a quote (") opened on this line is never closed (the record runs on to line {reader.line_num}); '
                + message
            )
        return DataError(message, path, line=start, value=shown)

    while True:
        start = previous + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise fault(start, f"cannot split the line ({error})") from None
        previous = reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if not seen_header:
            seen_header = True
            width = len(fields) if width is None else width
            continue
        if width is None:
            width = len(fields)
        if len(fields) != width:
            raise fault(start, f"expected {width} fields separated by {shown_sep!r}, found {len(fields)}")
        numbers.append(start)
    return np.asarray(numbers, dtype=np.int64)


def _header_fields(text, sep, quoting):
    """The fields of the first non-blank line (the header)."""
    for line in io.StringIO(text):  # lazily: stops at the header
        if line.strip():
            return next(csv.reader([line.rstrip("\r\n")], delimiter=sep, quoting=quoting))
    return []


def _header_key(name):
    """A header name as compared: no byte-order mark, quotes, spaces, case or RecBole `:type`."""
    return str(name).replace("\ufeff", "").strip().strip('"').strip().split(":")[0].lower()


def _aliased(fields):
    """Header fields naming our columns (`HEADER_ALIASES`): dict field -> our name."""
    named = {}
    for field in fields:
        ours = HEADER_ALIASES.get(_header_key(field))
        if ours is not None and ours not in named.values():
            named[field] = ours
    return named


def _match_header(fields, columns, optional, path, line=1):
    """Maps wanted column names to the file's own spelling of them.

    An exact match wins; otherwise names match as `_header_key` compares
    them (so `User` is `user`). Returns dict file name -> our name; a wanted
    name the file lacks is left out when optional, else an error naming the
    file's columns.
    """
    by_key = {}
    for field in fields:
        by_key.setdefault(_header_key(field), field)
    matched, required = {}, []
    for wanted, ours in columns.items():
        field = wanted if wanted in fields else by_key.get(_header_key(wanted))
        if field is None:
            if wanted not in optional:
                required.append(wanted)
        else:
            matched.setdefault(field, ours)
    if required:
        raise DataError(
            f"the header lacks column(s) {required}; the file has columns {list(fields)}",
            path,
            line=line,
            value=required[0],
        )
    return matched


def _existing_file(path):
    path = pathlib.Path(path)
    if path.is_symlink() and not path.exists():
        raise DataError(f"a broken symbolic link (to {os.readlink(path)})", path)
    if not path.exists():
        raise DataError("file not found", path)
    if path.is_dir():
        raise DataError("expected a file, found a folder", path)
    return path


def _read_text(path, encoding, notes=None):
    """The decoded, checked text of a (maybe gzipped) file; faults name a line."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read the file ({error.strerror or error})", path) from None
    if path.name.endswith(".gz"):
        raw = _gunzip(raw, path)
    return _clean_text(_decode(raw, path, encoding), path, notes)


def _gunzip(raw, where):
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:  # not gzip, truncated, or damaged
        raise DataError(f"not a readable gzip file ({error})", where) from None


def _clean_text(text, where, notes):
    """Refuses NUL bytes and stray carriage returns; reads classic-Mac line ends."""
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError(
            "a NUL byte (\\x00) in the text: the file is binary, UTF-16 or damaged",
            where,
            line=text.count("\n", 0, nul) + 1,
            value=_line_around(text, nul),
        )
    if "\r" in text:
        bare = text.count("\r") - text.count("\r\n")
        if bare and "\n" not in text:
            _note(
                notes,
                f"{where}: lines end in a bare carriage return (classic Mac); read {bare:,} of them as line breaks",
            )
            return text.replace("\r", "\n")
        if bare:
            position = re.search("\r(?!\n)", text).start()
            raise DataError(
                "a bare carriage return (\\r) inside a line, while lines end in \\n",
                where,
                line=text.count("\n", 0, position) + 1,
                value=_line_around(text, position),
            )
    return text


def _line_around(text, position):
    """The line holding `position` (at most 200 characters), for messages."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    return text[start : end if end >= 0 else len(text)][:200]


def _decode(raw, path, encoding):
    # "utf-8-sig" also drops a byte-order mark some editors write.
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        # Say what the bytes are when their start gives it away.
        kind = next((kind for magic, kind in _MAGIC.items() if raw.startswith(magic)), None)
        how = f"the file is {kind}" if kind else "pass the file's encoding (e.g. encoding='latin-1')"
        raise DataError(
            f"cannot decode the text as {encoding}; {how}",
            path,
            line=raw.count(b"\n", 0, error.start) + 1,
            value=raw[error.start : error.end],
        ) from None


def _first_line(path, encoding):
    """Line 1 without its newline, reading only the start of the file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            head = handle.readline()
    except (OSError, EOFError, zlib.error) as error:
        what = "not a readable gzip file" if path.name.endswith(".gz") else "cannot read the file"
        raise DataError(f"{what} ({error})", path) from None
    # A classic-Mac file is one "line" to readline: its first line ends at \r.
    line = _decode(head, path, encoding).rstrip("\r\n").split("\r")[0]
    if not line.strip():
        raise DataError("the file is empty or starts with a blank line", path, line=1)
    return line


def _guess_sep(path, first):
    for sep in ("::", "\t", ","):
        if sep in first:
            return sep
    raise DataError(
        "cannot tell the separator from line 1 (no '::', tab or comma); pass sep=",
        path,
        line=1,
        value=first[:200],
    )


def _is_parquet(path):
    return path.name.lower().endswith(".parquet")


def _parquet_schema(path):
    try:
        return pyarrow.parquet.read_schema(path)
    except (pyarrow.ArrowException, OSError) as error:
        raise DataError(f"not a readable Parquet file ({error})", path) from None


def _parquet_cells(column, ours):
    """One Parquet column as `_validated` takes it.

    Ids become text ("" for null, so validation names the row), numbers
    float64 (NaN for null), times seconds since the epoch; other types
    become text, which validation refuses as a number.
    """
    kind = column.type
    if pyarrow.types.is_dictionary(kind):  # pandas categoricals are stored this way
        column = column.cast(kind.value_type)
        kind = column.type
    if ours in _NUMERIC_COLUMNS:
        if pyarrow.types.is_integer(kind) or pyarrow.types.is_floating(kind) or pyarrow.types.is_decimal(kind):
            return column.cast(pyarrow.float64()).to_numpy()
        if pyarrow.types.is_timestamp(kind) or pyarrow.types.is_date(kind):
            microseconds = column.cast(pyarrow.timestamp("us", tz=getattr(kind, "tz", None))).cast(pyarrow.int64())
            return microseconds.cast(pyarrow.float64()).to_numpy() / 1e6
    try:
        text = column.cast(pyarrow.string())
    except pyarrow.ArrowException:  # nested types: show the value as Python writes it
        return np.asarray([("" if value is None else str(value)) for value in column.to_pylist()], dtype=object)
    return pyarrow.compute.fill_null(text, "").to_numpy(zero_copy_only=False).astype(object)


def _plain_name(path):
    """The file name, lower case, without a trailing `.gz`."""
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _json_text(path, encoding, notes=None):
    """(name for messages, decoded JSON-lines text) of a .json, .json.gz or .zip."""
    if not path.name.lower().endswith(".zip"):
        return path, _read_text(path, encoding, notes)
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith((".json", ".json.gz"))]
            if len(members) != 1:
                raise DataError(
                    f"expected one .json member in the zip, found {archive.namelist()}",
                    path,
                )
            member = members[0]
            raw = archive.read(member)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:  # not a zip, truncated or damaged
        raise DataError(f"not a readable zip file ({error})", path) from None
    where = f"{path} (member {member})"
    if member.lower().endswith(".gz"):
        raw = _gunzip(raw, where)
    return where, _clean_text(_decode(raw, where, encoding), where, notes)


def _locate_bad_json(where, content):
    """Raises DataError at the first line that is not a JSON object."""
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"not valid JSON ({error.msg})", where, line=number, value=line[:200]) from None
        if not isinstance(record, dict):
            raise DataError("expected a JSON object per line", where, line=number, value=line[:200])


def _refuse_nested(values, column, where, content):
    """DataError at the first JSON id that is an object, array or boolean, not a string or number."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "integer", "floating", "mixed-integer", "empty"):
        return
    rows = np.flatnonzero([isinstance(value, (dict, list, bool)) for value in values])
    if len(rows):
        line = int(_json_record_lines(content)[rows[0]])
        raise DataError(f"{column} is not a string or a number", where, line=line, value=values.iloc[rows[0]])


def _json_record_lines(content):
    lines = np.asarray([bool(line.strip()) for line in content.split("\n")])
    return np.flatnonzero(lines) + 1
