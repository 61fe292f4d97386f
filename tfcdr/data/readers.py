"""Readers for the interaction files users bring, each giving one DataFrame.

Every reader returns external ids as strings in columns `user` and `item`,
and, where the file has them, float `rating` and `timestamp` (NaN where a
timestamp cell is empty). Malformed input raises `tfcdr.errors.DataError`
naming the file, the 1-based line number (the header counts as line 1) and
the value at fault. Well-formed files are parsed by pandas' C parser; the
slow line-by-line scan runs only after a problem has been detected, to say
where it is.

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
"""

import collections.abc
import csv
import gzip
import io
import json
import logging
import pathlib
import re
import warnings
import zipfile

import numpy as np
import pandas as pd

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
_DOMAIN_FILE = re.compile(r"^(?P<domain>.+)\.(csv|tsv|inter)(\.gz)?$")


def read_delimited(path, columns, sep=",", header=False, optional=(), encoding="utf-8"):
    """Reads a delimited text file (optionally gzipped) into a DataFrame.

    Args:
        path: the file; a name ending in `.gz` is decompressed.
        columns: without a header, the names of every field of a line, in
            order (a line with another number of fields is an error). With
            a header, the header names to keep. A sequence keeps the names; a
            dict renames them (file name -> our name).
        sep: the field separator, e.g. ",", "\\t", "::" or "|". Quotes are
            honoured only for ",": MovieLens titles contain bare quotes.
        header: whether line 1 names the fields.
        optional: header names in `columns` that may be absent from the file.
        encoding: text encoding, e.g. "latin-1" for MovieLens titles.

    Returns:
        DataFrame with the (renamed) columns; `user`, `item` and `domain` as
        non-empty strings, `rating` and `timestamp` as float64 (a timestamp
        cell may be empty: NaN). Other columns stay strings.

    Raises:
        DataError: missing or empty file, undecodable text, a header lacking
            a column, a line with the wrong number of fields, an empty id or a
            rating/timestamp that is not a finite number.
    """
    path = _existing_file(path)
    columns = dict(columns) if isinstance(columns, collections.abc.Mapping) else {c: c for c in columns}
    text = _read_text(path, encoding)
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
    width = _header_width(text, sep, quoting) if header else len(columns)
    if header:
        absent = [name for name in columns if name not in frame.columns]
        required = [name for name in absent if name not in optional]
        if required:
            raise DataError(
                f"the header lacks column(s) {required}; the file has columns {list(frame.columns)}",
                path,
                line=1,
                value=required[0],
            )
        columns = {k: v for k, v in columns.items() if k not in absent}
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
    return _validated(frame, path, lambda: record_lines(width))


def read_atomic_inter(path, encoding="utf-8"):
    """Reads a RecBole atomic `.inter` file (tab-separated, typed header).

    The header looks like `user_id:token item_id:token rating:float
    timestamp:float`; the `:type` suffixes are optional. Other columns are
    ignored.

    Args:
        path: the `.inter` file (or `.inter.gz`).
        encoding: text encoding.

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
        }.get(field.split(":")[0].strip())
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
    return read_delimited(path, columns, sep="\t", header=True, encoding=encoding)


def read_domain_table(
    path,
    sep=None,
    user="user",
    item="item",
    rating="rating",
    timestamp="timestamp",
    domain="domain",
    encoding="utf-8",
):
    """Reads a long table of several domains: one interaction per line.

    Args:
        path: CSV/TSV file with a header (optionally gzipped).
        sep: field separator; None picks it from the header line.
        user, item, rating, timestamp, domain: the header names of those
            columns. `rating` and `timestamp` are read when the header has
            them (no rating: implicit feedback).
        encoding: text encoding.

    Returns:
        DataFrame with `user`, `item`, `domain` and, when present, `rating`
        and `timestamp`. Domains appear in `domain` in file order.
    """
    path = _existing_file(path)
    if sep is None:
        sep = _guess_sep(path, _first_line(path, encoding))
    columns = {
        user: "user",
        item: "item",
        rating: "rating",
        timestamp: "timestamp",
        domain: "domain",
    }
    return read_delimited(
        path,
        columns,
        sep=sep,
        header=True,
        optional=(rating, timestamp),
        encoding=encoding,
    )


def read_interactions(path, sep=None, encoding="utf-8"):
    """Reads one domain's interaction file, detecting its format.

    `.inter` files are RecBole atomic files; `.json`, `.json.gz` and `.zip`
    are Amazon review JSON lines; anything else is delimited text whose
    separator (`::`, tab or comma) is taken from line 1. Line 1 is a header
    when it names a user and an item column (see `HEADER_ALIASES`); without
    one, lines of 2, 3 or 4 fields are read as user, item[, rating[,
    timestamp]] (Amazon `ratings_*.csv` are of this kind).

    Args:
        path: the file.
        sep: field separator; None detects it.
        encoding: text encoding.

    Returns:
        DataFrame with `user`, `item` and, where present, `rating`, `timestamp`.
    """
    path = _existing_file(path)
    name = _plain_name(path)
    if name.endswith(".inter"):
        return read_atomic_inter(path, encoding=encoding)
    if name.endswith((".json", ".zip")):
        return read_amazon_reviews(path, encoding=encoding)
    first = _first_line(path, encoding)
    sep = _guess_sep(path, first) if sep is None else sep
    fields = [field.strip().strip('"') for field in first.split(sep)]
    named = {}
    for field in fields:
        ours = HEADER_ALIASES.get(field.split(":")[0].lower())
        if ours is not None and ours not in named.values():
            named[field] = ours
    if {"user", "item"} <= set(named.values()):
        return read_delimited(path, named, sep=sep, header=True, encoding=encoding)
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
    return read_delimited(path, bare[len(fields)], sep=sep, encoding=encoding)


def read_domain_files(source, sep=None, encoding="utf-8"):
    """Reads one interaction file per domain.

    Args:
        source: dict domain name -> file, or a folder whose files are named
            `<domain>.csv`, `<domain>.tsv` or `<domain>.inter` (each maybe
            `.gz`), Amazon `ratings_<Category>.csv` or
            `reviews_<Category>_5.json[.gz]` (domain = Category). Other
            files in the folder are skipped and logged.
        sep: field separator for delimited files; None detects it per file.
        encoding: text encoding.

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
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            name = domain_of_file(path)
            if name is None:
                skipped.append(path.name)
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
                "no per-domain files (<domain>.csv|.tsv|.inter, ratings_<Category>.csv, "
                f"reviews_<Category>_5.json) in the folder; it has {skipped}",
                folder,
            )
        if skipped:
            logger.info("%s: skipped files that name no domain: %s", folder, skipped)
    return {name: read_interactions(path, sep=sep, encoding=encoding) for name, path in paths.items()}


def read_amazon_ratings(path):
    """Reads an Amazon 2014 ratings-only file `ratings_<Category>.csv`.

    Args:
        path: the CSV (no header; user, item, rating, timestamp), maybe `.gz`.

    Returns:
        DataFrame with `user`, `item`, `rating`, `timestamp`.
    """
    return read_delimited(path, ("user", "item", "rating", "timestamp"), sep=",")


def read_amazon_reviews(path, text=False, encoding="utf-8"):
    """Reads Amazon 5-core reviews (JSON lines), plain, `.gz` or in a `.zip`.

    Each line is an object with `reviewerID`, `asin`, `overall` and
    `unixReviewTime` (and `reviewText`). A zip is read in memory; it must
    hold exactly one `.json` member.

    Args:
        path: `reviews_<Category>_5.json`, `.json.gz` or a `.zip` holding it.
        text: also return `review_text` ("" where a review has none).
        encoding: text encoding.

    Returns:
        DataFrame with `user`, `item`, `rating`, `timestamp` (and `review_text`).
    """
    path = _existing_file(path)
    where, content = _json_text(path, encoding)
    try:
        frame = pd.read_json(io.StringIO(content), lines=True, dtype=False)
    except ValueError as error:
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
        # A line without the key gives NaN; validation reports it as empty.
        table[column] = table[column].where(table[column].notna(), "").astype(str)
    table["rating"] = table["rating"].where(table["rating"].notna(), "")
    table["timestamp"] = table["timestamp"].where(table["timestamp"].notna(), "")
    if text:
        review = frame["reviewText"] if "reviewText" in frame.columns else pd.Series("", index=frame.index)
        table["review_text"] = review.where(review.notna(), "").astype(str)
    return _validated(table, where, lambda: _json_record_lines(content))


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


def _validated(frame, path, record_lines):
    """Checks ids and numbers column by column; converts and returns `frame`.

    `record_lines()` gives each row's line number; it is only called when a
    fault was found, because finding lines is the slow part.
    """
    faults = []  # (first bad row, message, value)
    for column in _ID_COLUMNS:
        if column in frame.columns:
            empty = np.flatnonzero(frame[column].to_numpy(dtype=object) == "")
            if len(empty):
                faults.append((empty[0], f"empty {column}", ""))
            frame[column] = frame[column].astype(str)
    for column in _NUMERIC_COLUMNS:
        if column in frame.columns:
            raw = frame[column]
            if raw.dtype == np.float64:  # parsed and checked by pandas already
                continue
            values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
            blank = raw.to_numpy(dtype=object) == ""
            bad = ~np.isfinite(values)
            if column in _MAY_BE_EMPTY:
                bad &= ~blank
            rows = np.flatnonzero(bad)
            if len(rows):
                row = rows[0]
                what = f"empty {column}" if blank[row] else f"{column} is not a number"
                faults.append((row, what, raw.iloc[row]))
            frame[column] = values
    if faults:
        row, message, value = min(faults, key=lambda fault: fault[0])
        lines = record_lines()
        line = int(lines[row]) if len(lines) == len(frame) else None
        raise DataError(message, path, line=line, value=value)
    return frame.reset_index(drop=True)


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
    `width` (the header's, when `width` is None and there is a header).
    """
    lines = text.split("\n")
    reader = csv.reader((line.rstrip("\r") for line in lines), delimiter=sep, quoting=quoting)
    numbers = []
    previous = 0
    seen_header = not header
    for fields in reader:
        start, previous = previous + 1, reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if not seen_header:
            seen_header = True
            width = len(fields) if width is None else width
            continue
        if width is None:
            width = len(fields)
        if len(fields) != width:
            raise DataError(
                f"expected {width} fields separated by {shown_sep!r}, found {len(fields)}",
                path,
                line=start,
                value=lines[start - 1].rstrip("\r").replace(_STAND_IN, shown_sep)[:200],
            )
        numbers.append(start)
    return np.asarray(numbers, dtype=np.int64)


def _header_width(text, sep, quoting):
    """Number of fields on the first non-blank line (the header)."""
    for line in io.StringIO(text):  # lazily: stops at the header
        if line.strip():
            return len(next(csv.reader([line.rstrip("\r\n")], delimiter=sep, quoting=quoting)))
    return 0


def _existing_file(path):
    path = pathlib.Path(path)
    if not path.exists():
        raise DataError("file not found", path)
    if path.is_dir():
        raise DataError("expected a file, found a folder", path)
    return path


def _read_text(path, encoding):
    """The decoded text of a (maybe gzipped) file; decoding faults name a line."""
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataError(f"not a readable gzip file ({error})", path) from None
    return _decode(raw, path, encoding)


def _decode(raw, path, encoding):
    # "utf-8-sig" also drops a byte-order mark some editors write.
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        raise DataError(
            f"cannot decode the text as {encoding}; pass the file's encoding (e.g. encoding='latin-1')",
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
    except (OSError, EOFError) as error:
        raise DataError(f"cannot read the file ({error})", path) from None
    line = _decode(head, path, encoding).rstrip("\r\n")
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


def _plain_name(path):
    """The file name, lower case, without a trailing `.gz`."""
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def _json_text(path, encoding):
    """(name for messages, decoded JSON-lines text) of a .json, .json.gz or .zip."""
    if not path.name.lower().endswith(".zip"):
        return path, _read_text(path, encoding)
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
    except zipfile.BadZipFile as error:
        raise DataError(f"not a readable zip file ({error})", path) from None
    where = f"{path} (member {member})"
    if member.lower().endswith(".gz"):
        raw = gzip.decompress(raw)
    return where, _decode(raw, where, encoding)


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


def _json_record_lines(content):
    lines = np.asarray([bool(line.strip()) for line in content.split("\n")])
    return np.flatnonzero(lines) + 1
