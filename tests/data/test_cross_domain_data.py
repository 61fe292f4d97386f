import numpy as np
import pandas as pd
import pytest

from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.errors import DataError


def _data():
    frames = {
        "books": pd.DataFrame(
            {
                "user": ["u2", "u1", "u1", "u1"],
                "item": ["b1", "b1", "b2", "b2"],
                "rating": [5, 4, 1, 3],
                "timestamp": [1, 2, 3, 4],
            }
        ),
        "music": pd.DataFrame({"user": ["u3", "u1"], "item": ["m9", "m1"]}),
    }
    return CrossDomainData.from_frames("toy", frames, implicit={"music": True})


def test_one_user_vocabulary_shared_by_domains():
    data = _data()
    assert list(data.user_vocab) == ["u1", "u2", "u3"]
    books = data.domain("books").interactions
    music = data.domain("music").interactions
    assert data.user_vocab[books["user"]].tolist() == ["u1", "u1", "u2"]
    assert data.user_vocab[music["user"]].tolist() == ["u1", "u3"]
    assert list(data.overlapping_users()) == [0]
    assert data.overlap().loc["books", "music"] == 1


def test_repeated_pairs_keep_latest_rating_and_are_reported():
    data = _data()
    books = data.domain("books").interactions
    row = books[(books["user"] == 0) & (books["item"] == 1)]
    assert row["rating"].tolist() == [3.0]
    assert any("merged 1 repeated" in note for note in data.notes)


def test_implicit_domain_gets_unit_ratings():
    data = _data()
    assert data.domain("music").implicit and (data.domain("music").interactions["rating"] == 1).all()
    assert not data.domain("books").implicit


def test_describe_counts_and_density():
    table = _data().describe()
    assert table.loc["books", "users"] == 2 and table.loc["books", "items"] == 2
    assert table.loc["books", "interactions"] == 3
    assert table.loc["books", "density"] == pytest.approx(3 / 4)
    assert "users in every domain: 1" in _data().describe_text()


def test_unknown_domain_is_a_clear_error():
    with pytest.raises(DataError, match="unknown domain 'movies'.*'books', 'music'"):
        _data().domain("movies")


def test_missing_columns_and_empty_domains_are_clear_errors():
    with pytest.raises(DataError, match="lacks columns \\['item'\\]"):
        CrossDomainData.from_frames("toy", {"a": pd.DataFrame({"user": [1]})})
    with pytest.raises(DataError, match="has no interactions"):
        CrossDomainData.from_frames("toy", {"a": pd.DataFrame({"user": [], "item": []})})
    with pytest.raises(DataError, match="no domains"):
        CrossDomainData.from_frames("toy", {})


def test_numeric_ids_sort_numerically():
    frames = {"a": pd.DataFrame({"user": [10, 9, 100], "item": [2, 1, 3]})}
    data = CrossDomainData.from_frames("toy", frames)
    assert list(data.user_vocab) == ["9", "10", "100"]
    assert np.array_equal(data.domain("a").item_vocab, ["1", "2", "3"])


def test_positives_apply_the_threshold_to_explicit_domains_only():
    data = _data()
    assert len(data.positives("books")) == 3  # no threshold: every rating
    assert "every interaction, whatever its rating" in data.describe_text()
    data.positive_threshold = 4
    assert data.user_vocab[data.positives("books")["user"]].tolist() == ["u1", "u2"]  # ratings 4 and 5
    assert len(data.positives("music")) == 2  # implicit: every click, though its unit rating is below 4
    assert data.describe().loc[["books", "music"], "positives"].tolist() == [2, 2]
    assert "rating >= 4 in books; every interaction in the implicit domains" in data.describe_text()


def test_check_domains_names_the_one_item_domain_and_the_user_with_every_item():
    frames = {"books": pd.DataFrame({"user": ["u1", "u2", "u2"], "item": ["b1", "b1", "b2"]})}
    full = CrossDomainData.from_frames("toy", frames, implicit=True)
    with pytest.raises(DataError, match=r"'books' of 'toy'.*every one of its 2 items.*'u2'"):
        full.check_domains()
    frames["books"] = pd.DataFrame({"user": ["u1", "u2"], "item": ["b1", "b1"]})
    with pytest.raises(DataError, match=r"'books' of 'toy' has a single item"):
        CrossDomainData.from_frames("toy", frames, implicit=True).check_domains()
