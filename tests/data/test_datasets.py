"""load_dataset: names, user paths, the data folder, and the real-data recipes."""

import numpy as np
import pandas as pd
import pytest

from tfcdr.data import datasets
from tfcdr.data.datasets import DATASETS, default_data_dir, load_dataset
from tfcdr.errors import DataError

DATA_DIR = default_data_dir()
real_data = pytest.mark.skipif(
    DATA_DIR is None or not DATA_DIR.is_dir(),
    reason="shared datasets not found: set TFCDR_DATA_DIR or put them in ../shared/data",
)


# --- names, options and the data folder -------------------------------------


def test_unknown_name_lists_known_names():
    with pytest.raises(DataError) as caught:
        load_dataset("nope")
    message = str(caught.value)
    assert "'nope'" in message
    for name in ("ml1m-genre", "douban-book-music", "amazon-disencdr-sport-cloth"):
        assert name in message


def test_every_recipe_is_registered_with_a_description():
    expected = {
        "ml1m-genre",
        "ml1m-multi",
        "ml100k-genre",
        "ml100k-multi",
        "douban-book-music",
        "amazon-books-movies-dense",
        "amazon-disencdr-sport-cloth",
        "amazon-disencdr-sport-phone",
        "amazon-disencdr-phone-electronic",
        "amazon-disencdr-electronic-cloth",
        "amazon-cdrib-cloth-sport",
        "amazon-musical-instruments",
    }
    assert expected <= set(DATASETS)
    for name in expected:
        assert callable(DATASETS[name].load)
        assert DATASETS[name].description


def test_data_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TFCDR_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_missing_data_dir_says_where_and_how(monkeypatch, tmp_path):
    monkeypatch.delenv("TFCDR_DATA_DIR", raising=False)
    monkeypatch.setattr(datasets, "_candidate_dirs", lambda: [tmp_path / "a", tmp_path / "b"])
    assert default_data_dir() is None
    with pytest.raises(DataError) as caught:
        load_dataset("douban-book-music")
    message = str(caught.value)
    assert str(tmp_path / "a") in message and str(tmp_path / "b") in message
    assert "--data-dir" in message and "TFCDR_DATA_DIR" in message


def test_data_dir_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match="--data-dir") as caught:
        load_dataset("ml1m-genre", data_dir=tmp_path / "nowhere")
    assert "nowhere" in str(caught.value)


def test_unknown_recipe_option(tmp_path):
    with pytest.raises(DataError, match="colour"):
        load_dataset("douban-book-music", data_dir=tmp_path, colour="red")


def test_recipe_with_a_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match="not found") as caught:
        load_dataset("douban-book-music", data_dir=tmp_path)
    assert "ratings.dat" in str(caught.value)


# --- paths users bring ------------------------------------------------------


def test_folder_of_domain_files(tmp_path):
    (tmp_path / "books.csv").write_text("user,item,rating\nu1,b1,5\nu2,b2,4\nu1,b2,2\nu2,b3,5\n")
    (tmp_path / "movies.tsv").write_text("u1\tm1\nu3\tm2\n")
    data = load_dataset(tmp_path)
    assert data.domain_names == ["books", "movies"]
    assert data.num_users == 3
    assert list(data.overlapping_users()) == [0]  # u1
    assert not data.domain("books").implicit
    assert data.domain("movies").implicit


def test_long_table_with_domain_column(tmp_path):
    path = tmp_path / "logs.csv"
    path.write_text("uid,iid,stars,kind\na,x,5,music\nb,y,3,books\na,z,4,books\nb,w,4,music\n")
    data = load_dataset(
        path,
        user="uid",
        item="iid",
        rating="stars",
        domain="kind",
        positive_threshold=4,
    )
    assert data.domain_names == ["music", "books"]  # file order
    assert data.describe().loc["books", "interactions"] == 2
    assert data.describe().loc["books", "positives"] == 1


def test_single_domain_file(tmp_path):
    path = tmp_path / "ratings_Books.csv"
    path.write_text("A1,0001,5.0,1\nA2,0001,4.0,2\nA3,0002,3.0,3\n")
    data = load_dataset(path)
    assert data.domain_names == ["Books"]
    assert list(data.domain("Books").item_vocab) == ["0001", "0002"]


def test_bad_line_in_user_file_reaches_the_caller(tmp_path):
    path = tmp_path / "logs.csv"
    path.write_text("user,item,rating,domain\na,x,5,music\nb,y,,books\n")
    with pytest.raises(DataError, match=r"logs.csv, line 3: empty rating"):
        load_dataset(path)


def _interaction_table():
    """Two explicit domains with integer user ids, text item ids and integer times."""
    rows = [
        (user, f"i{(user * 3 + step) % 7}", (user + step) % 5 + 1, 1000 + user * 10 + step)
        for user in range(9)
        for step in range(3)
    ]
    table = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    table["domain"] = np.where(table.index % 2 == 0, "books", "music")
    return table


@pytest.mark.parametrize("layout", ["long table", "folder", "one domain"])
def test_parquet_loads_identically_to_the_same_csv(tmp_path, layout):
    table = _interaction_table()
    loaded = {}
    for kind in ("csv", "parquet"):
        folder = tmp_path / kind
        folder.mkdir()

        def save(frame, path, kind=kind):
            frame.to_csv(path, index=False) if kind == "csv" else frame.to_parquet(path, index=False)
            return path

        if layout == "long table":
            path = save(table, folder / f"logs.{kind}")
        elif layout == "folder":
            for name, part in table.groupby("domain"):
                save(part.drop(columns="domain"), folder / f"{name}.{kind}")
            path = folder
        else:
            path = save(
                table.drop(columns="domain").rename(columns={"user": "userId", "item": "ItemID"}),
                folder / f"books.{kind}",
            )
        loaded[kind] = load_dataset(path, name="logs")
    csv, parquet = loaded["csv"], loaded["parquet"]
    assert parquet.domain_names == csv.domain_names
    np.testing.assert_array_equal(parquet.user_vocab, csv.user_vocab)
    assert parquet.positive_threshold == csv.positive_threshold == 4
    assert parquet.notes == csv.notes  # the default threshold's note
    for name in csv.domain_names:
        np.testing.assert_array_equal(parquet.domain(name).item_vocab, csv.domain(name).item_vocab)
        pd.testing.assert_frame_equal(parquet.domain(name).interactions, csv.domain(name).interactions)
    assert len(csv.domains[csv.domain_names[0]].interactions) > 5


def test_rating_options_reach_recipes_and_a_loaded_dataset_passes_through():
    explicit = {"num_users": 60, "num_items": 30, "interactions_per_user": (8, 4), "implicit": False}
    data = load_dataset("synthetic", positive_threshold=5, **explicit)
    assert data.positive_threshold == 5
    assert any("positive threshold 5 given" in note for note in data.notes)
    assert "rating >= 5" in data.describe_text()
    assert load_dataset(data) is data
    with pytest.raises(DataError, match=r"ratings outside the declared scale \[2, 5\]"):
        load_dataset("synthetic", rating_scale=(2, 5), **explicit)
    with pytest.raises(ValueError, match="low < high"):
        load_dataset("synthetic", rating_scale=(5, 1))


def test_cli_passes_rating_options_to_describe(tmp_path, capsys):
    from tfcdr.cli import main

    path = tmp_path / "logs.csv"
    _interaction_table().to_csv(path, index=False)
    assert main(["data", "describe", str(path)]) == 0
    assert "positives in ranking protocols: rating >= 4" in capsys.readouterr().out
    assert main(["data", "describe", str(path), "--positive-threshold", "2"]) == 0
    assert "positives in ranking protocols: rating >= 2" in capsys.readouterr().out
    assert main(["data", "describe", str(path), "--rating-scale", "2,5"]) == 2
    assert "line 2: rating outside the declared scale [2, 5]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["data", "describe", str(path), "--rating-scale", "5"])


# --- real data (shared/data) ------------------------------------------------


@pytest.fixture(scope="module")
def ml1m_genre():
    return load_dataset("ml1m-genre", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def ml1m_multi():
    return load_dataset("ml1m-multi", data_dir=DATA_DIR)


def _external_items(data, name):
    return set(data.domain(name).item_vocab)


@pytest.mark.real_data
@real_data
def test_ml1m_genre(ml1m_genre):
    data = ml1m_genre
    stats = data.describe()
    assert data.domain_names == ["action", "target"]
    assert data.num_users == 5119
    assert len(data.overlapping_users()) == 5119
    assert stats["items"].tolist() == [303, 2320]
    assert stats["interactions"].tolist() == [149276, 539221]
    assert stats["positives"].tolist() == [76923, 320062]
    assert data.positive_threshold == 4
    assert not _external_items(data, "action") & _external_items(data, "target")
    # Every kept user has a positive in both domains.
    for name in data.domain_names:
        table = data.domain(name).interactions
        assert table.loc[table["rating"] >= 4, "user"].nunique() == data.num_users
    assert data.reference["users_in_every_domain"] == 1348
    assert list(data.user_features.columns) == [
        "gender",
        "age",
        "occupation",
        "zip_prefix",
    ]
    features = data.domain("action").item_features
    assert list(features.columns) == ["genres", "year"]
    assert features["genres"].str.contains("Action").all()
    assert features["year"].notna().all()
    assert any("kept 5,119 of 6,040 users" in note for note in data.notes)
    assert "paper figures" in data.describe_text()


@pytest.mark.real_data
@real_data
def test_ml1m_multi(ml1m_multi):
    data = ml1m_multi
    assert data.domain_names == list(datasets.GENRE_GROUPS)
    assert data.num_users == 6040
    stats = data.describe()
    assert stats["interactions"].tolist() == [389640, 275577, 215334, 75266, 44143]
    assert stats["interactions"].sum() == 999960  # every rating in exactly one domain
    assert 0 < len(data.overlapping_users()) < data.num_users  # partial overlap


@pytest.mark.real_data
@real_data
def test_ml100k_recipes():
    genre = load_dataset("ml100k-genre", data_dir=DATA_DIR)
    assert genre.domain_names == ["action", "target"]
    assert genre.num_users == 809
    assert genre.describe()["items"].tolist() == [156, 1118]
    multi = load_dataset("ml100k-multi", data_dir=DATA_DIR)
    assert multi.num_users == 943
    assert multi.describe()["interactions"].sum() == 100000 - 10  # "unknown" genre left out
    assert any("['unknown']" in note for note in multi.notes)


@pytest.mark.real_data
@real_data
def test_douban_book_music():
    data = load_dataset("douban-book-music", data_dir=DATA_DIR)
    assert data.domain_names == ["book", "music"]
    assert data.describe()["interactions"].tolist() == [96041, 69709]
    assert len(data.overlapping_users()) == 1566
    assert data.num_users == 2216


@pytest.mark.real_data
@real_data
def test_amazon_books_movies_dense():
    data = load_dataset("amazon-books-movies-dense", data_dir=DATA_DIR)
    assert data.domain_names == ["movies", "books"]
    # Repeated (user, item) rows merged: 62,084 and 31,504 unique pairs.
    assert data.describe()["interactions"].tolist() == [62084, 31504]
    assert len(data.overlapping_users()) == 1329


@pytest.mark.real_data
@real_data
@pytest.mark.parametrize(
    "pair, users, train",
    [
        ("sport-cloth", 9928, (92612, 87829)),
        ("sport-phone", 4998, (50558, 42446)),
        ("phone-electronic", 3325, (50407, 115554)),
        ("electronic-cloth", 15761, (210865, 121083)),
    ],
)
def test_amazon_disencdr(pair, users, train):
    data = load_dataset(f"amazon-disencdr-{pair}", data_dir=DATA_DIR)
    assert data.domain_names == pair.split("-")
    assert len(data.overlapping_users()) == users == data.num_users
    for name, train_rows in zip(data.domain_names, train, strict=True):
        domain = data.domain(name)
        assert domain.implicit
        split = data.given_split[name]
        assert len(split["train"]) == train_rows
        assert len(split["valid"]) == 0
        # Leave-one-out: exactly one test item per user.
        assert len(split["test"]) == users == split["test"]["user"].nunique()
        assert len(domain.interactions) == train_rows + users
        for part in split.values():
            assert (part[["user", "item"]].to_numpy() >= 0).all()


@pytest.mark.real_data
@real_data
def test_amazon_cdrib_cloth_sport():
    data = load_dataset("amazon-cdrib-cloth-sport", data_dir=DATA_DIR)
    assert data.domain_names == ["cloth", "sport"]
    # Only ids below 9,828 are common users; the others are per domain.
    assert len(data.overlapping_users()) == 9828
    assert data.describe()["users"].tolist() == [41829, 27328]
    sizes = {name: {part: len(f) for part, f in s.items()} for name, s in data.given_split.items()}
    assert sizes == {
        "cloth": {"train": 187880, "valid": 3156, "test": 3085},
        "sport": {"train": 163291, "valid": 3589, "test": 3546},
    }
    cloth, sport = data.given_split["cloth"], data.given_split["sport"]
    test_users = np.unique(cloth["test"]["user"])
    # Cold start: cloth's test users have no cloth training data, only sport's.
    assert not np.isin(test_users, cloth["train"]["user"]).any()
    assert np.isin(test_users, sport["train"]["user"]).all()


@pytest.mark.real_data
@real_data
def test_amazon_musical_instruments():
    data = load_dataset("amazon-musical-instruments", data_dir=DATA_DIR)
    assert data.domain_names == ["musical_instruments"]
    stats = data.describe().loc["musical_instruments"]
    assert (stats["users"], stats["items"], stats["interactions"]) == (1429, 900, 10261)
    texts = data.user_features["review_text"]
    assert len(texts) == 1429 and (texts.str.len() > 0).all()
