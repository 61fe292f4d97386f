"""Readers: every format reads right, every malformed file names file/line/value."""

import gzip
import json
import zipfile

import numpy as np
import pytest

from tfcdr.data import readers
from tfcdr.errors import DataError


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    data = text.encode(encoding) if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def raises_at(call, path, line, value, *words):
    """Runs `call`, expects a DataError at `path`, `line`, naming `value`."""
    with pytest.raises(DataError) as caught:
        call()
    error = caught.value
    message = str(error)
    assert str(path.name) in message, message
    assert error.line == line, message
    if line is not None:
        assert f"line {line}:" in message, message
    if value is not None:
        assert error.value == value, message
        assert repr(value) in message, message
    for word in words:
        assert word in message, message
    return error


# --- read_delimited: well-formed files --------------------------------------


def test_movielens_double_colon_separator(tmp_path):
    path = write(
        tmp_path,
        "movies.dat",
        '1::Toy Story (1995)::Animation|Comedy\n2::Seven: A "Thriller" (1995)::Crime\n',
    )
    frame = readers.read_delimited(path, ("item", "title", "genres"), sep="::")
    assert frame["item"].tolist() == ["1", "2"]
    # Colons and bare quotes inside a field survive the "::" split.
    assert frame["title"].tolist()[1] == 'Seven: A "Thriller" (1995)'


def test_tab_and_types(tmp_path):
    path = write(tmp_path, "u.data", "196\t242\t3\t881250949\n186\t302\t4.5\t891717742\n")
    frame = readers.read_delimited(path, ("user", "item", "rating", "timestamp"), sep="\t")
    assert frame["user"].tolist() == ["196", "186"]
    assert frame["rating"].dtype == np.float64
    np.testing.assert_array_equal(frame["rating"], [3.0, 4.5])
    np.testing.assert_array_equal(frame["timestamp"], [881250949.0, 891717742.0])


def test_gzipped_csv_with_header_renames_and_selects(tmp_path):
    path = write(
        tmp_path,
        "ratings.csv.gz",
        "user_id,movie_id,rating,timestamp,source\n1,10,5,978300760,dat\n3000,9,1,,mat\n",
    )
    frame = readers.read_delimited(
        path,
        {"user_id": "user", "movie_id": "item", "timestamp": "timestamp"},
        header=True,
    )
    assert list(frame.columns) == ["user", "item", "timestamp"]
    assert frame["item"].tolist() == ["10", "9"]
    # An empty timestamp is unknown, not an error.
    assert frame["timestamp"].iloc[0] == 978300760.0
    assert np.isnan(frame["timestamp"].iloc[1])


def test_optional_header_column_may_be_absent(tmp_path):
    path = write(tmp_path, "t.csv", "user,item\na,b\n")
    frame = readers.read_delimited(path, ("user", "item", "rating"), header=True, optional=("rating",))
    assert list(frame.columns) == ["user", "item"]


def test_quoted_commas_in_csv(tmp_path):
    path = write(tmp_path, "q.csv", 'user,item,rating\n"Doe, J.",b,4\nx,"c,d",5\n')
    frame = readers.read_delimited(path, ("user", "item", "rating"), header=True)
    assert frame["user"].tolist() == ["Doe, J.", "x"]
    assert frame["item"].tolist() == ["b", "c,d"]


def test_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, "b.csv", "a,b,1\n\n\nc,d,2\n\n")
    frame = readers.read_delimited(path, ("user", "item", "rating"))
    assert frame["user"].tolist() == ["a", "c"]


# --- read_delimited: malformed files ----------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "absent.csv"
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item")),
        path,
        None,
        None,
        "not found",
    )


@pytest.mark.parametrize("text", ["", "\n\n", "user,item,rating\n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, "empty.csv", text)
    header = text.startswith("user")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating"), header=header),
        path,
        None,
        None,
        "no data rows",
    )


def test_short_line_names_line_counting_header_and_blank_lines(tmp_path):
    path = write(tmp_path, "short.csv", "user,item,rating\n1,2,3\n\n4,5\n6,7,8\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating"), header=True),
        path,
        4,
        "4,5",
        "expected 3 fields",
        "found 2",
    )


def test_long_line(tmp_path):
    path = write(tmp_path, "long.tsv", "1\t2\t3\n1\t2\t3\n1\t2\t3\t4\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating"), sep="\t"),
        path,
        3,
        "1\t2\t3\t4",
        "found 4",
    )


def test_long_first_line_is_not_cut_silently(tmp_path):
    # pandas would drop the extra field of line 1 with only a warning.
    path = write(tmp_path, "first.csv", "1,2,3,9\n1,2,3\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating")),
        path,
        1,
        "1,2,3,9",
    )


def test_wrong_field_count_with_double_colon(tmp_path):
    path = write(tmp_path, "ratings.dat", "1::2::5::100\n1::3::4\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating", "timestamp"), sep="::"),
        path,
        2,
        "1::3::4",
        "'::'",
    )


def test_non_numeric_rating(tmp_path):
    path = write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n\n1,3,five\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating"), header=True),
        path,
        4,
        "five",
        "rating is not a number",
    )


def test_non_numeric_rating_in_gzip_double_colon(tmp_path):
    path = write(tmp_path, "ratings.dat.gz", "1::2::5::9\n1::3::4::9\n1::4::x::9\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating", "timestamp"), sep="::"),
        path,
        3,
        "x",
    )


def test_non_numeric_timestamp(tmp_path):
    path = write(tmp_path, "t.tsv", "1\t2\t3\t100\n1\t3\t4\t2020-01-01\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating", "timestamp"), sep="\t"),
        path,
        2,
        "2020-01-01",
        "timestamp is not a number",
    )


def test_empty_rating(tmp_path):
    path = write(tmp_path, "e.csv", "1,2,3\n1,3,\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item", "rating")),
        path,
        2,
        "",
        "empty rating",
    )


def test_empty_user(tmp_path):
    path = write(tmp_path, "u.csv", "a,1\nb,2\n,3\n")
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item")),
        path,
        3,
        "",
        "empty user",
    )


def test_header_lacks_column_and_names_existing(tmp_path):
    path = write(tmp_path, "h.csv", "uid,iid,score\n1,2,3\n")
    error = raises_at(
        lambda: readers.read_delimited(path, ("uid", "item_id"), header=True),
        path,
        1,
        "item_id",
    )
    assert "['uid', 'iid', 'score']" in str(error)


def test_undecodable_text_names_line(tmp_path):
    path = write(tmp_path, "m.dat", b"1::Toy Story::Comedy\n2::Caf\xe9::Drama\n")
    raises_at(
        lambda: readers.read_delimited(path, ("item", "title", "genres"), sep="::"),
        path,
        2,
        b"\xe9",
        "latin-1",
    )
    frame = readers.read_delimited(path, ("item", "title", "genres"), sep="::", encoding="latin-1")
    assert frame["title"].iloc[1] == "Café"


# --- long table with a domain column ----------------------------------------


def test_domain_table_default_header(tmp_path):
    path = write(
        tmp_path,
        "all.csv",
        "user,item,rating,timestamp,domain\nu1,b1,5,10,books\nu1,m1,3,11,movies\nu2,b2,4,,books\n",
    )
    frame = readers.read_domain_table(path)
    assert frame["domain"].tolist() == ["books", "movies", "books"]
    assert frame["rating"].tolist() == [5.0, 3.0, 4.0]


def test_domain_table_custom_names_tab_and_no_rating(tmp_path):
    path = write(tmp_path, "all.tsv", "uid\tiid\tcat\nu1\tb1\tbooks\nu2\tm1\tmovies\n")
    frame = readers.read_domain_table(path, user="uid", item="iid", domain="cat")
    assert sorted(frame.columns) == ["domain", "item", "user"]
    assert frame["domain"].tolist() == ["books", "movies"]


def test_domain_table_without_domain_column(tmp_path):
    path = write(tmp_path, "all.csv", "user,item,rating\n1,2,3\n")
    error = raises_at(lambda: readers.read_domain_table(path), path, 1, "domain")
    assert "['user', 'item', 'rating']" in str(error)


def test_domain_table_bad_rating(tmp_path):
    path = write(tmp_path, "all.csv", "user,item,rating,domain\n1,2,3,a\n1,2,?,b\n")
    raises_at(lambda: readers.read_domain_table(path), path, 3, "?")


def test_domain_table_empty_domain(tmp_path):
    path = write(tmp_path, "all.csv", "user,item,domain\n1,2,a\n1,3,\n")
    raises_at(lambda: readers.read_domain_table(path), path, 3, "", "empty domain")


# --- one file per domain, RecBole, Amazon -----------------------------------


def test_atomic_inter(tmp_path):
    path = write(
        tmp_path,
        "books.inter",
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\nA\t0001\t5.0\t1\nB\t0002\t3.0\t2\n",
    )
    frame = readers.read_atomic_inter(path)
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    # Ids stay text: leading zeros of ASINs survive.
    assert frame["item"].tolist() == ["0001", "0002"]


def test_atomic_inter_untyped_header(tmp_path):
    path = write(tmp_path, "m.inter", "user_id\titem_id\trating\nA\tx\t2.0\n")
    assert readers.read_atomic_inter(path)["rating"].tolist() == [2.0]


def test_atomic_inter_missing_item_column(tmp_path):
    path = write(tmp_path, "bad.inter", "user_id:token\tasin:token\nA\tx\n")
    error = raises_at(lambda: readers.read_atomic_inter(path), path, 1, "item_id")
    assert "asin:token" in str(error)


def test_atomic_inter_bad_rating(tmp_path):
    path = write(
        tmp_path,
        "bad.inter",
        "user_id:token\titem_id:token\trating:float\nA\tx\t5\nB\ty\tgood\n",
    )
    raises_at(lambda: readers.read_atomic_inter(path), path, 3, "good")


def test_amazon_ratings(tmp_path):
    path = write(
        tmp_path,
        "ratings_Books.csv",
        "A1,0001,5.0,1360000000\nA2,0002,4.0,1360000001\n",
    )
    frame = readers.read_amazon_ratings(path)
    assert frame["item"].tolist() == ["0001", "0002"]
    assert frame["timestamp"].tolist() == [1360000000.0, 1360000001.0]
    assert readers.domain_of_file(path) == "Books"


def test_amazon_ratings_bad_timestamp(tmp_path):
    path = write(tmp_path, "ratings_Books.csv", "A1,0001,5.0,1360000000\nA2,0002,4.0,soon\n")
    raises_at(lambda: readers.read_amazon_ratings(path), path, 2, "soon")


def _review(user, item, rating=5.0, time=1393545600, text="fine"):
    return json.dumps(
        {
            "reviewerID": user,
            "asin": item,
            "overall": rating,
            "unixReviewTime": time,
            "reviewText": text,
        }
    )


REVIEWS = "\n".join(
    [
        _review("A1", "0001"),
        _review("A2", "0001", 3.0, text="meh"),
        _review("A1", "0002"),
    ]
)


@pytest.mark.parametrize(
    "name",
    ["reviews_Musical_Instruments_5.json", "reviews_Musical_Instruments_5.json.gz"],
)
def test_amazon_reviews(tmp_path, name):
    path = write(tmp_path, name, REVIEWS + "\n")
    frame = readers.read_amazon_reviews(path, text=True)
    assert frame["user"].tolist() == ["A1", "A2", "A1"]
    assert frame["item"].tolist() == ["0001", "0001", "0002"]
    assert frame["rating"].tolist() == [5.0, 3.0, 5.0]
    assert frame["review_text"].tolist() == ["fine", "meh", "fine"]
    assert readers.domain_of_file(path) == "Musical_Instruments"


def test_amazon_reviews_in_zip(tmp_path):
    path = tmp_path / "Musical_Instruments.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Musical_Instruments.json", REVIEWS)
    frame = readers.read_amazon_reviews(path)
    assert len(frame) == 3
    assert "review_text" not in frame


def test_amazon_reviews_malformed_json_line(tmp_path):
    lines = [
        _review("A1", "0001"),
        "",
        _review("A2", "0002"),
        '{"reviewerID": "A3", "asin": ',
    ]
    path = write(tmp_path, "reviews_Books_5.json", "\n".join(lines) + "\n")
    raises_at(
        lambda: readers.read_amazon_reviews(path),
        path,
        4,
        '{"reviewerID": "A3", "asin": ',
        "not valid JSON",
    )


def test_amazon_reviews_malformed_line_inside_zip(tmp_path):
    path = tmp_path / "Books.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("reviews_Books_5.json", _review("A1", "1") + "\nnot json\n")
    error = raises_at(lambda: readers.read_amazon_reviews(path), path, 2, "not json")
    assert "reviews_Books_5.json" in str(error)


def test_amazon_reviews_missing_key_and_bad_rating(tmp_path):
    missing = "\n".join(
        [
            _review("A1", "1"),
            json.dumps({"asin": "2", "overall": 4, "unixReviewTime": 1}),
        ]
    )
    path = write(tmp_path, "reviews_A_5.json", missing)
    raises_at(lambda: readers.read_amazon_reviews(path), path, 2, "", "empty user")
    bad = "\n".join([_review("A1", "1"), _review("A2", "2"), _review("A3", "3", rating="five")])
    path = write(tmp_path, "reviews_B_5.json", bad)
    raises_at(lambda: readers.read_amazon_reviews(path), path, 3, "five")


def test_zip_without_single_json_member(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.json", REVIEWS)
        archive.writestr("b.json", REVIEWS)
    raises_at(lambda: readers.read_amazon_reviews(path), path, None, None, "a.json", "b.json")


# --- detection: read_interactions, read_domain_files, domain_of_file --------


def test_read_interactions_detects_header_and_separator(tmp_path):
    headed = write(tmp_path, "books.csv", "userId,movieId,rating\n1,2,4\n")
    assert list(readers.read_interactions(headed).columns) == ["user", "item", "rating"]
    bare = write(tmp_path, "music.tsv", "1\t2\n3\t4\n")
    assert readers.read_interactions(bare)["item"].tolist() == ["2", "4"]
    movielens = write(tmp_path, "ratings.dat", "1::2::5::978300760\n")
    assert list(readers.read_interactions(movielens).columns) == [
        "user",
        "item",
        "rating",
        "timestamp",
    ]


def test_read_interactions_too_many_bare_fields(tmp_path):
    path = write(tmp_path, "wide.csv", "1,2,3,4,5\n")
    raises_at(lambda: readers.read_interactions(path), path, 1, "1,2,3,4,5", "header")


def test_read_domain_files_from_folder_and_dict(tmp_path):
    write(tmp_path, "books.csv", "user,item,rating\nu1,b1,5\nu2,b2,4\n")
    write(tmp_path, "movies.tsv.gz", "u1\tm1\t3\n")
    write(tmp_path, "music.inter", "user_id:token\titem_id:token\nu2\tx\n")
    write(tmp_path, "README.md", "not data\n")
    frames = readers.read_domain_files(tmp_path)
    assert list(frames) == ["books", "movies", "music"]
    assert frames["movies"]["rating"].tolist() == [3.0]
    assert "rating" not in frames["music"]
    frames = readers.read_domain_files({"b": tmp_path / "books.csv"})
    assert list(frames) == ["b"]


def test_read_domain_files_bad_line_in_one_domain(tmp_path):
    write(tmp_path, "books.csv", "user,item,rating\nu1,b1,5\n")
    path = write(tmp_path, "movies.csv", "user,item,rating\nu1,m1,3\nu2,m2,x\n")
    raises_at(lambda: readers.read_domain_files(tmp_path), path, 3, "x")


def test_read_domain_files_empty_folder(tmp_path):
    write(tmp_path, "notes.md", "hello\n")
    with pytest.raises(DataError, match="notes.md"):
        readers.read_domain_files(tmp_path)


@pytest.mark.parametrize(
    "name, domain",
    [
        ("ratings_Books.csv", "Books"),
        ("ratings_Movies_and_TV.csv.gz", "Movies_and_TV"),
        ("reviews_Musical_Instruments_5.json.gz", "Musical_Instruments"),
        ("Musical_Instruments.zip", "Musical_Instruments"),
        ("books.tsv", "books"),
        ("music.inter", "music"),
        ("README.md", None),
    ],
)
def test_domain_of_file(name, domain):
    assert readers.domain_of_file(name) == domain


# --- Parquet -----------------------------------------------------------------


def test_parquet_types_become_the_csv_types(tmp_path):
    import pandas as pd

    path = tmp_path / "books.parquet"
    pd.DataFrame(
        {
            "UserID": [7, 8, 9],
            "item": pd.Categorical(["a", " b", "a"]),
            "Rating": [5, 3, 4],
            "timestamp": pd.to_datetime(["1970-01-01 00:00:10", "2020-01-01 00:00:00", None], utc=True),
        }
    ).to_parquet(path, index=False)
    notes = []
    frame = readers.read_interactions(path, notes=notes)
    assert frame["user"].tolist() == ["7", "8", "9"]  # integer ids read as a CSV would
    assert frame["item"].tolist() == ["a", "b", "a"]
    assert frame["rating"].dtype == np.float64
    np.testing.assert_array_equal(frame["timestamp"], [10.0, 1577836800.0, np.nan])
    assert notes == [f"{path}: removed surrounding whitespace from 1 item values (e.g. ' b' read as 'b')"]


def test_parquet_dates_and_infinite_ratings(tmp_path):
    import datetime

    import pandas as pd

    path = tmp_path / "logs.parquet"
    table = pd.DataFrame(
        {"user": ["u1", "u2"], "item": ["a", "b"], "rating": [4.0, np.inf], "domain": ["x", "y"]}
    ).assign(timestamp=[datetime.date(1970, 1, 2), datetime.date(1970, 1, 3)])
    table.to_parquet(path, index=False)
    raises_at(lambda: readers.read_domain_table(path), path, None, float("inf"), "row 2", "not a finite number")
    table.assign(rating=[4.0, 5.0]).to_parquet(path, index=False)
    np.testing.assert_array_equal(readers.read_domain_table(path)["timestamp"], [86400.0, 172800.0])


def test_unreadable_file_is_a_data_error(tmp_path, monkeypatch):
    # Tests may run as root, which reads any file whatever its mode: make the read itself fail.
    path = write(tmp_path, "books.csv", "user,item\nu1,b1\n")
    original = type(path).read_bytes

    def refuse(self):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    raises_at(
        lambda: readers.read_delimited(path, ("user", "item"), header=True), path, None, None, "Permission denied"
    )
