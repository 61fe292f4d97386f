"""Malformed and unusual user files: each gives one clear DataError or loads with a note.

One table, one row per case: the files written (a name and its bytes, or a
folder of them), the load options, and what must happen: `Error(fragment)`
(a `DataError` whose message holds the fragment and names the file) or
`Loaded(note, domains)` (the data loads, `data.notes` holds the note and
`describe_text` prints it). `test_case_counts` keeps the tally the issue
asks for.
"""

import dataclasses
import gzip
import io
import json
import zipfile

import pandas as pd
import pytest

from tfcdr.data.datasets import load_dataset
from tfcdr.errors import DataError


@dataclasses.dataclass(frozen=True)
class Error:
    """A DataError whose message contains `fragment` (and `line`, when given)."""

    fragment: str
    line: int | None = None


@dataclasses.dataclass(frozen=True)
class Loaded:
    """Loads; `note` is in data.notes (None: no note needed); the domains are `domains`."""

    note: str | None
    domains: tuple = ("books", "music")
    users: int | None = None


@dataclasses.dataclass(frozen=True)
class Link:
    """A symbolic link to `target` (relative to the test folder)."""

    target: str


def rows(users=12, items=("a", "b", "c", "d", "e"), per_user=3, domain=None, start=0):
    """Well-formed `user,item,rating[,domain]` lines: ratings 1-5, no user with every item."""
    lines = []
    for user in range(start, start + users):
        for step in range(per_user):
            item = items[(user + step) % len(items)]
            rating = (user + step) % 5 + 1
            lines.append(f"u{user},{item},{rating}" + (f",{domain}" if domain else ""))
    return lines


def csv_text(*extra, header="user,item,rating", users=12):
    return "\n".join([header, *rows(users=users), *extra]) + "\n"


def long_text(header="user,item,rating,domain", users=12, newline="\n"):
    lines = [header, *rows(users=users, domain="books"), *rows(users=users, items=("x", "y", "z", "w"), domain="music")]
    return newline.join(lines) + newline


def review(user, item, rating=5, time=1):
    return json.dumps({"reviewerID": user, "asin": item, "overall": rating, "unixReviewTime": time})


REVIEWS = [review(f"u{k}", "abc"[(k + j) % 3], rating=(k + j) % 5 + 1) for k in range(6) for j in range(2)]


def zipped(member, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if isinstance(member, dict):
            for name, content in member.items():
                archive.writestr(name, content)
        else:
            archive.writestr(member, data)
    return buffer.getvalue()


def parquet(frame):
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def frame_of(text):
    return pd.read_csv(io.StringIO(text), dtype=str)


GOOD = csv_text().encode()
LONG = long_text().encode()
STARS_1E6 = csv_text("u0,e,1000000", users=40).encode()  # 121 ratings, 120 on 1-5 stars
TIMED = "\n".join(["user,item,rating,timestamp", *(f"{row},7" for row in rows())]).encode()
DOMAIN_FIRST = frame_of(long_text())[["domain", "user", "item", "rating"]].to_csv(index=False).encode()
NULL_USER = frame_of(long_text()).assign(user=lambda t: t["user"].where(t.index != 3, None))
BAD_RATING = frame_of(long_text()).assign(rating=lambda t: t["rating"].where(t.index != 5, "five"))
NEGATIVE = frame_of(long_text()).assign(rating=lambda t: t["rating"].astype(float).where(t.index != 2, -2.0))

# (case id, files: bytes for "data.<ext>" or a dict for a folder "data/", load options, expected)
CASES = [
    # --- line endings, bytes, quoting
    ("cr_only_line_ends", ("csv", LONG.replace(b"\n", b"\r")), {}, Loaded("bare carriage return (classic Mac)")),
    ("crlf_line_ends", ("csv", LONG.replace(b"\n", b"\r\n")), {}, Loaded(None)),
    ("stray_cr_in_a_line", ("csv", GOOD.replace(b"u3,d,", b"u3,\rd,", 1)), {}, Error("bare carriage return", 11)),
    ("nul_byte", ("csv", GOOD.replace(b"u2,c,3", b"u2,c\x00,3")), {}, Error("NUL byte", 8)),
    ("utf16_without_bom", ("csv", csv_text().encode("utf-16-le")), {}, Error("NUL byte", 1)),
    ("utf16_with_bom", ("csv", csv_text().encode("utf-16")), {}, Error("the file is UTF-16 text", 1)),
    ("latin1_bytes", ("csv", GOOD.replace(b"u4,e", "u4,é".encode("latin-1"))), {}, Error("cannot decode", 14)),
    ("binary_junk", ("csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), {}, Error("cannot decode")),
    ("unterminated_quote", ("csv", GOOD.replace(b"u5,a,", b'u5,"a,', 1)), {}, Error("is never closed", 17)),
    (
        "unterminated_quote_past_csv_field_limit",
        ("csv", GOOD.replace(b"u5,a,", b'u5,"a,', 1) + b"u9,a,3\n" * 30000),
        {},
        Error("is never closed", 17),
    ),
    ("short_line", ("csv", GOOD.replace(b"u6,b,2", b"u6,b")), {}, Error("expected 3 fields", 20)),
    ("long_line", ("csv", GOOD.replace(b"u6,b,2", b"u6,b,2,9")), {}, Error("expected 3 fields", 20)),
    ("empty_file", ("csv", b""), {}, Error("empty")),
    ("header_only", ("csv", b"user,item,rating\n"), {}, Error("no data rows")),
    # --- compression and containers
    ("gz_that_is_not_gzip", ("csv.gz", GOOD), {}, Error("not a readable gzip file")),
    ("truncated_gz", ("csv.gz", gzip.compress(GOOD)[:-30]), {}, Error("not a readable gzip file")),
    ("gzip_without_gz_name", ("csv", gzip.compress(GOOD)), {}, Error("the file is gzip-compressed")),
    ("zip_without_zip_name", ("csv", zipped("r.json", "\n".join(REVIEWS))), {}, Error("the file is a zip archive")),
    ("excel_workbook", ("xlsx", zipped("xl/workbook.xml", "<workbook/>")), {}, Error("save it as CSV or Parquet")),
    ("semicolon_separator", ("csv", GOOD.replace(b",", b";")), {}, Error("cannot tell the separator", 1)),
    ("parquet_without_parquet_name", ("csv", parquet(frame_of(long_text()))), {}, Error("the file is Parquet")),
    ("json_gz_that_is_not_gzip", ("json.gz", "\n".join(REVIEWS).encode()), {}, Error("not a readable gzip file")),
    ("zip_that_is_not_zip", ("zip", GOOD), {}, Error("not a readable zip file")),
    ("truncated_zip", ("zip", zipped("r.json", "\n".join(REVIEWS))[:-40]), {}, Error("not a readable zip file")),
    (
        "truncated_gzip_member_in_zip",
        ("zip", zipped("r_5.json.gz", gzip.compress("\n".join(REVIEWS).encode())[:-12])),
        {},
        Error("not a readable gzip file"),
    ),
    ("zip_with_two_members", ("zip", zipped({"a.json": "{}", "b.json": "{}"}, None)), {}, Error("one .json member")),
    # --- JSON reviews
    ("json_line_is_an_array", ("json", "\n".join([*REVIEWS, "[1, 2, 3]"]).encode()), {}, Error("JSON object", 13)),
    ("json_line_is_a_number", ("json", "\n".join([REVIEWS[0], "5", *REVIEWS[1:]]).encode()), {}, Error("JSON", 2)),
    ("json_line_cut_off", ("json", "\n".join([*REVIEWS, '{"reviewerID": "u9", ']).encode()), {}, Error("JSON", 13)),
    (
        "json_id_is_an_object",
        ("json", "\n".join([*REVIEWS, review({"id": 1}, "a")]).encode()),
        {},
        Error("user is not a string or a number", 13),
    ),
    (
        "json_infinity_rating",
        ("json", "\n".join([*REVIEWS[:3], review("u9", "a", 5).replace("5,", "Infinity,")]).encode()),
        {},
        Error("rating is not a finite number", 4),
    ),
    (
        "json_nan_rating",
        ("json", "\n".join([*REVIEWS, review("u9", "a").replace('"overall": 5', '"overall": NaN')]).encode()),
        {},
        Error("rating", 13),
    ),
    ("json_without_keys", ("json", b'{"a": 1}\n{"a": 2}\n'), {}, Error("no line has key(s)")),
    # --- numbers and the rating scale
    ("negative_rating", ("csv", GOOD.replace(b"u7,c,3", b"u7,c,-1")), {}, Error("negative rating", 23)),
    ("rating_1e6_among_stars", ("csv", STARS_1E6), {}, Error("above the scale [0, 5]", 122)),
    (
        "rating_1e6_declared",
        ("csv", STARS_1E6),
        {"rating_scale": (0, 1e6)},
        Loaded("declared rating scale [0, 1e+06]", domains=("data",)),
    ),
    ("rating_off_declared_scale", ("csv", GOOD), {"rating_scale": (2, 5)}, Error("outside the declared scale [2, 5]")),
    ("rating_inf_text", ("csv", GOOD.replace(b"u8,d,4", b"u8,d,inf")), {}, Error("not a finite number", 26)),
    ("rating_nan_text", ("csv", GOOD.replace(b"u8,d,4", b"u8,d,NaN")), {}, Error("rating is not a number", 26)),
    ("rating_empty", ("csv", GOOD.replace(b"u8,d,4", b"u8,d,")), {}, Error("empty rating", 26)),
    ("rating_word", ("csv", GOOD.replace(b"u8,d,4", b"u8,d,four")), {}, Error("rating is not a number", 26)),
    (
        "timestamp_as_date",
        ("csv", TIMED.replace(b"u3,e,5,7", b"u3,e,5,2020-01-01")),
        {},
        Error("timestamp is not a number", 12),
    ),
    (
        "play_counts",
        ("csv", csv_text(*[f"u{k},a,{100 * k}" for k in range(30, 60)], users=30).encode()),
        {},
        Loaded("every interaction, since the ratings are on no", domains=("data",)),
    ),
    ("explicit_default_threshold", ("csv", LONG), {}, Loaded("ratings >= 4, the default for explicit ratings")),
    ("explicit_threshold_given", ("csv", LONG), {"positive_threshold": 5}, Loaded(None)),
    ("threshold_above_every_rating", ("csv", LONG), {"positive_threshold": 6}, Error("has no positive")),
    # --- headers, ids and domain names
    ("capitalised_header", ("csv", long_text("User,Item,Rating,Domain").encode()), {}, Loaded(None)),
    ("bom_before_domain_header", ("csv", b"\xef\xbb\xbf" + DOMAIN_FIRST), {}, Loaded(None)),
    (
        "bom_crlf_upper_header",
        ("csv", b"\xef\xbb\xbf" + long_text("USER,ITEM,RATING,DOMAIN", newline="\r\n").encode()),
        {},
        Loaded(None),
    ),
    ("spaces_around_header_names", ("csv", long_text(" user , item ,rating, domain ").encode()), {}, Loaded(None)),
    ("quoted_header_names", ("csv", long_text('"user","item","rating","domain"').encode()), {}, Loaded(None)),
    (
        "tab_long_table_mixed_case",
        ("tsv", long_text("User\tItem\tRating\tDomain").replace(",", "\t").encode()),
        {},
        Loaded(None),
    ),
    (
        "ids_with_spaces",
        ("csv", LONG.replace(b"u1,", b" u1 ,")),
        {},
        Loaded("removed surrounding whitespace from 6 user values", users=12),
    ),
    (
        "domain_with_trailing_space",
        ("csv", LONG.replace(b",books\n", b",books \n", 2)),
        {},
        Loaded("removed surrounding whitespace from 2 domain values"),
    ),
    ("id_only_spaces", ("csv", GOOD.replace(b"u2,c,3", b"  ,c,3")), {}, Error("empty user", 8)),
    (
        "inter_header_any_case",
        ("inter", b"USER_ID:token\tItem_Id:token\tRATING:float\n" + GOOD.split(b"\n", 1)[1].replace(b",", b"\t")),
        {},
        Loaded("ratings >= 4", domains=("data",)),
    ),
    (
        "inter_negative_rating",
        (
            "inter",
            b"user_id:token\titem_id:token\trating:float\n"
            + GOOD.split(b"\n", 1)[1].replace(b",", b"\t").replace(b"u7\tc\t3", b"u7\tc\t-3"),
        ),
        {},
        Error("negative rating", 23),
    ),
    ("header_lacks_item", ("csv", b"user,thing,rating,domain\nu1,a,5,books\n"), {}, Error("lacks column(s) ['item']")),
    # --- folders, links
    ("dangling_symlink_file", ("csv", Link("nowhere.csv")), {}, Error("broken symbolic link")),
    (
        "dangling_symlink_in_folder",
        {"books.csv": GOOD, "music.csv": Link("../nowhere.csv")},
        {},
        Error("broken symbolic link"),
    ),
    (
        "folder_named_like_a_domain_file",
        {"books.csv": GOOD, "music.csv": {}},
        {},
        Error("expected a file, found a folder"),
    ),
    (
        "folder_with_a_readme",
        {"books.csv": GOOD, "music.csv": GOOD, "README.md": b"hi\n"},
        {},
        Loaded("skipped 1 entries that name no domain"),
    ),
    ("empty_folder", {"README.md": b"hi\n"}, {}, Error("no per-domain files")),
    # --- degenerate domains
    (
        "user_with_every_item",
        ("csv", LONG + b"u0,d,5,books\nu0,e,4,books\n"),
        {},
        Error("interacted with every one of its 5 items"),
    ),
    (
        "one_item_domain",
        ("csv", LONG + b"u0,solo,5,games\nu1,solo,4,games\n"),
        {},
        Error("'games' of 'data' has a single item"),
    ),
    # --- Parquet
    ("parquet_that_is_not_parquet", ("parquet", LONG), {}, Error("not a readable Parquet file")),
    (
        "parquet_capitalised_columns",
        ("parquet", parquet(frame_of(long_text("User,Item,Rating,Domain")))),
        {},
        Loaded(None),
    ),
    (
        "parquet_lacks_item",
        ("parquet", parquet(frame_of(long_text()).drop(columns="item"))),
        {},
        Error("lacks column(s) ['item']"),
    ),
    ("parquet_null_user", ("parquet", parquet(NULL_USER)), {}, Error("row 4: empty user")),
    ("parquet_rating_word", ("parquet", parquet(BAD_RATING)), {}, Error("row 6: rating is not a number")),
    ("parquet_negative_rating", ("parquet", parquet(NEGATIVE)), {}, Error("row 3: negative rating")),
]


def write(folder, files):
    """Writes a case's files under `folder`; returns the path to load."""
    if isinstance(files, dict):
        root = folder / "data"
        root.mkdir()
        for name, content in files.items():
            _put(root / name, content)
        return root
    extension, content = files
    path = folder / f"data.{extension}"
    _put(path, content)
    return path


def _put(path, content):
    if isinstance(content, Link):
        path.symlink_to(path.parent / content.target)
    elif isinstance(content, dict):
        path.mkdir()
    else:
        path.write_bytes(content)


@pytest.mark.parametrize("files, options, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_malformed_input(tmp_path, files, options, expected):
    path = write(tmp_path, files)
    if isinstance(expected, Error):
        with pytest.raises(DataError) as caught:
            load_dataset(path, **options)
        message = str(caught.value)
        assert expected.fragment in message, message
        assert str(tmp_path) in message or "'data'" in message, message  # names the file, or the dataset
        if expected.line is not None:
            assert caught.value.line == expected.line, message
            assert f"line {expected.line}:" in message, message
        return
    data = load_dataset(path, **options)
    assert tuple(data.domain_names) == expected.domains
    if expected.users is not None:
        assert data.num_users == expected.users
    if expected.note is not None:
        assert any(expected.note in note for note in data.notes), data.notes
        assert expected.note in data.describe_text()


def test_case_counts():
    """The tally for the issue note: cases tried, clear errors, loads with a note."""
    errors = sum(isinstance(case[3], Error) for case in CASES)
    notes = sum(isinstance(case[3], Loaded) and case[3].note is not None for case in CASES)
    quiet = sum(isinstance(case[3], Loaded) and case[3].note is None for case in CASES)
    assert len({case[0] for case in CASES}) == len(CASES) == errors + notes + quiet
    print(
        f"malformed-input cases: {len(CASES)} tried, {errors} clear errors, {notes} loaded with a note, {quiet} loaded"
    )
