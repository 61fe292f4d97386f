"""Folders of per-domain split folders: the "cdrib" and "disencdr" formats and their id conventions."""

import numpy as np
import pytest

from tfcdr.cli import main
from tfcdr.data.datasets import dataset_spec, load_dataset
from tfcdr.data.splits import make_split
from tfcdr.errors import DataError


def _write(folder, name, rows):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join("\t".join(str(v) for v in row) + "\n" for row in rows))


def _cdrib(root, log=None):
    """Two domains, common users 0..3 (user 2 cold in books, user 3 cold in games), 5 and 6 per domain."""
    books, games = root / "books_games", root / "games_books"
    _write(books, "train.txt", [(0, 0), (0, 1), (1, 1), (1, 2), (3, 0), (5, 0), (5, 2), (6, 1)])
    _write(books, "valid.txt", [(2, 0)])
    _write(books, "test.txt", [(2, 1)])
    _write(games, "train.txt", [(0, 0), (1, 1), (2, 0), (2, 1), (5, 1), (5, 2), (6, 0)])
    _write(games, "valid.txt", [(3, 2)])
    _write(games, "test.txt", [(3, 1)])
    if log is not None:
        (games / "books_games_data_info.txt").write_text(f"raw_data1 info : 1 2 3\ncommon user num {log}\n")
    return root


def test_cdrib_keeps_high_ids_apart_and_names_domains_after_folders(tmp_path):
    data = load_dataset(_cdrib(tmp_path / "pair", log=4), format="cdrib")
    assert data.name == "pair"
    assert data.domain_names == ["books", "games"]
    # 4 common users + 5 and 6 in each domain as different people.
    assert data.num_users == 8
    assert len(data.overlapping_users()) == 4
    vocab = list(data.user_vocab)
    assert {"books:5", "games:5", "books:6", "games:6"} <= set(vocab)
    books_train = data.given_split["books"]["train"]
    games_train = data.given_split["games"]["train"]
    assert vocab.index("books:5") in set(books_train["user"])
    assert vocab.index("books:5") not in set(games_train["user"])
    # The cold-start split uses the shipped parts with the new identities.
    split = make_split(data, "cold-start", seed=0, num_negatives=1)
    assert split.domains["books"].test.users.tolist() == [vocab.index("2")]


def test_cdrib_layout_through_the_command_line(tmp_path, capsys):
    folder = _cdrib(tmp_path / "pair")
    assert main(["data", "describe", str(folder), "--format", "cdrib", "--domain-names", "b,g"]) == 0
    out = capsys.readouterr().out
    assert "8 users in 2 domains" in out and "users in every domain: 4" in out
    assert load_dataset(dataset_spec(folder, "cdrib", "b,g")).domain_names == ["b", "g"]


def test_cdrib_log_that_disagrees_is_an_error(tmp_path):
    with pytest.raises(DataError, match="common user num"):
        load_dataset(_cdrib(tmp_path / "pair", log=7), format="cdrib")


def test_cdrib_cold_user_without_training_elsewhere_is_an_error(tmp_path):
    folder = _cdrib(tmp_path / "pair")
    _write(folder / "books_games", "test.txt", [(2, 1), (4, 0)])
    with pytest.raises(DataError, match="no training data in another domain"):
        load_dataset(folder, format="cdrib")


def test_disencdr_shares_equal_ids_and_checks_it(tmp_path):
    root = tmp_path / "x"
    rows = [(u, i, 1) for u in range(3) for i in range(2)]
    for folder in ("movies_music", "music_movies"):
        _write(root / folder, "train.txt", rows)
        _write(root / folder, "test_original.txt", [(u, 2, 1) for u in range(3)])
    data = load_dataset(f"disencdr:{root}")
    assert data.domain_names == ["movies", "music"]
    assert data.num_users == 3 and len(data.overlapping_users()) == 3
    assert np.array_equal(np.sort(data.given_split["music"]["test"]["user"]), [0, 1, 2])
    _write(root / "music_movies", "train.txt", [(9, 0, 1), *rows])
    with pytest.raises(DataError, match="user ids differ"):
        load_dataset(root, format="disencdr")


def test_wrong_number_of_domain_names_is_an_error(tmp_path):
    with pytest.raises(DataError, match="2 distinct names"):
        load_dataset(_cdrib(tmp_path / "pair"), format="cdrib", domain_names="a")


# --- a user's own split -------------------------------------------------------


def _own(root, ratings=True, negatives=True):
    """Two domains of 6 users x 6 items; valid/test one row per user; negatives of 2 per user."""
    for domain in ("films", "games"):
        folder = root / domain
        rows = {"train": [], "valid": [], "test": [], "test_negatives": []}
        for user in range(6):
            items = [(user + k) % 6 for k in range(6)]
            rows["train"] += [(f"u{user}", f"i{item}", 1 + (user + item) % 5) for item in items[:3]]
            rows["valid"].append((f"u{user}", f"i{items[3]}", 4))
            rows["test"].append((f"u{user}", f"i{items[4]}", 2))
            rows["test_negatives"].append((f"u{user}", f"i{items[5]}"))
        for part, lines in rows.items():
            if part == "test_negatives" and not negatives:
                continue
            header = "user,item" + (",rating" if ratings and part != "test_negatives" else "")
            width = 3 if ratings else 2
            text = header + "\n" + "".join(",".join(str(v) for v in line[:width]) + "\n" for line in lines)
            (folder.mkdir(parents=True, exist_ok=True), (folder / f"{part}.csv").write_text(text))
    return root


def test_own_split_ranks_the_given_test_rows_against_the_given_negatives(tmp_path):
    data = load_dataset(_own(tmp_path / "mine"), format="split")
    assert data.domain_names == ["films", "games"] and data.num_users == 6
    # The valid rows have no negatives file: theirs are sampled.
    split = make_split(data, "loo-sampled", seed=0, num_negatives=1)
    items = data.domain("films").item_vocab
    test = split.domains["films"].test
    assert [items[i] for i in test.items] == [f"i{(u + 4) % 6}" for u in range(6)]
    assert test.negatives.shape == (6, 1)
    assert [items[i] for i in test.negatives[:, 0]] == [f"i{(u + 5) % 6}" for u in range(6)]
    assert len(split.domains["films"].train) == 18 and len(split.domains["films"].valid) == 6
    again = load_dataset(_own(tmp_path / "again"), format="split")
    assert split.fingerprint() == make_split(again, "loo-sampled", seed=0, num_negatives=1).fingerprint()


def test_own_split_under_rating_keeps_the_parts_and_scales_ratings(tmp_path):
    split = make_split(load_dataset(dataset_spec(_own(tmp_path / "mine"), "split")), "rating", seed=0)
    part = split.domains["games"]
    assert len(part.train) == 18 and part.train["rating"].between(0, 1).all()
    assert split.rating_scales()["games"] == [1.0, 5.0]
    np.testing.assert_allclose(part.test.ratings, (2 - 1) / 4)


def test_own_split_without_negatives_or_valid_samples_and_holds_out(tmp_path):
    root = _own(tmp_path / "mine", ratings=False, negatives=False)
    for domain in ("films", "games"):
        (root / domain / "valid.csv").unlink()
    data = load_dataset(root, format="split")
    split = make_split(data, "loo-sampled", seed=0, num_negatives=2)
    films = split.domains["films"]
    assert films.test.negatives.shape == (6, 2) and len(films.valid) == 6 and len(films.train) == 12
    # Sampled candidates are never the user's known items.
    assert not films.known.contains(np.repeat(films.test.users, 2), films.test.negatives.ravel()).any()
    with pytest.raises(DataError, match="explicit ratings"):
        make_split(data, "rating")


def test_own_split_negative_of_an_unknown_item_is_an_error(tmp_path):
    root = _own(tmp_path / "mine")
    (root / "films" / "test_negatives.csv").write_text("user,item\nu0,nowhere\n")
    with pytest.raises(DataError, match="candidates must be items of the domain"):
        load_dataset(root, format="split")
