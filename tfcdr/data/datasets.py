"""Named real-data recipes and `load_dataset`, the one entry point for data.

A recipe turns the files of one shared dataset (see PROTOCOLS.md, "Domain
recipes") into a `CrossDomainData`. Every row a recipe filters out is
counted, written to `notes` and logged on the "tfcdr" logger.

Example:

    data = load_dataset("ml1m-genre")          # a recipe over the data folder
    data = load_dataset("my_logs/")            # a folder of <domain>.csv files
    data = load_dataset("pairs/", format="cdrib")  # <domain>_<other>/{train,valid,test}.txt
    print(data.describe_text())
"""

import dataclasses
import inspect
import logging
import os
import pathlib
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from tfcdr.data import readers, views
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.synthetic import make_synthetic
from tfcdr.errors import DataError

logger = logging.getLogger("tfcdr")

DATA_DIR_VARIABLE = "TFCDR_DATA_DIR"

# SharedVAE's MovieLens setting: source = Action, target = these genres.
SOURCE_GENRES = ("Action",)
TARGET_GENRES = ("Comedy", "Drama", "Fantasy", "Romance")

# ml*-multi: a movie's FIRST listed genre decides its domain. Genres are
# grouped so the five domains differ clearly in size on ML-1M (ratings:
# family_comedy 390k, action 276k, drama 215k, crime_thriller 75k, horror
# 44k), as ADC's asymmetric domain sets need. ML-1M lists genres
# alphabetically, which is why Action, Adventure and Comedy lead so often.
GENRE_GROUPS = {
    "family_comedy": (
        "Comedy",
        "Adventure",
        "Animation",
        "Children's",
        "Fantasy",
        "Musical",
        "Romance",
    ),
    "action": ("Action", "Sci-Fi", "War", "Western"),
    "drama": ("Drama", "Documentary"),
    "crime_thriller": ("Crime", "Thriller", "Mystery", "Film-Noir"),
    "horror": ("Horror",),
}

MOVIELENS_POSITIVE = 4

# A user's explicit ratings without a positive threshold: positives are the
# ratings at least this far up the rating scale (declared, else inferred),
# i.e. 4 and 5 of 1-5 stars, the MovieLens recipes' rule.
DEFAULT_POSITIVE_FRACTION = 0.75

SHAREDVAE_MOVIELENS = {
    "source": "SharedVAE paper, Table 2 (its interactions are ratings >= 4)",
    "domains": {
        "action": {"items": 300, "positives": 52158},
        "target": {"items": 2262, "positives": 150615},
    },
    "users_in_every_domain": 1348,
}

DISENCDR_PAIRS = ("sport-cloth", "sport-phone", "phone-electronic", "electronic-cloth")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A named dataset: how to load it and what it is.

    Attributes:
        load: function `(data_dir, **options) -> CrossDomainData`.
        description: one line for listings (`tfcdr data list`).
        needs_data: False for recipes that read no files (e.g. synthetic).
    """

    load: Callable
    description: str
    needs_data: bool = True


def default_data_dir():
    """Where the shared datasets are, or None when nowhere is found.

    Looks, in order, at $TFCDR_DATA_DIR (used as given when set),
    `../shared/data` from the current directory, and `../shared/data` next
    to the repository holding the tfcdr package.
    """
    if os.environ.get(DATA_DIR_VARIABLE):
        return pathlib.Path(os.environ[DATA_DIR_VARIABLE]).expanduser()
    for candidate in _candidate_dirs():
        if candidate.is_dir():
            return candidate.resolve()
    return None


def load_dataset(name_or_path, data_dir=None, positive_threshold=None, rating_scale=None, **options):
    """Loads a named recipe or a user's file or folder as `CrossDomainData`.

    Explicit ratings under ranking protocols: a rating is a positive when it
    is >= `positive_threshold`. Recipes bring their own default (MovieLens:
    4; the other explicit recipes count every rating); a user's explicit
    files default to 3/4 of the way up the rating scale (declared, else
    inferred: 4 and 5 of 1-5 stars), written to `notes` and shown by
    `describe_text`. Every domain must have a positive, at least two items,
    and no user who interacted with all of its items (`check_domains`).

    Args:
        name_or_path: a name in `DATASETS`, a `"<dataset>:<domain>"`
            reference to one domain of a dataset (`"<dataset>:*"`: all its
            domains merged; see `tfcdr.data.views`), or a path: a folder of
            per-domain files, a long table with a domain column, or one
            domain's file (formats in `tfcdr.data.readers`, Parquet
            included). A `CrossDomainData` is returned as it is.
        data_dir: folder of the shared datasets for recipes; None uses
            `default_data_dir()`.
        positive_threshold: explicit ratings >= this are positives (0:
            every rating); None keeps the default above.
        rating_scale: (low, high) every rating must lie in; None: no
            negative rating and none far above the inferred star scale (see
            `tfcdr.data.readers`).
        **options: passed to the recipe; `format` ("cdrib", "disencdr";
            or a path written `dataset_spec(folder, format, names)`, e.g.
            "cdrib:folder" or "cdrib[a,b]:folder") reads a folder of
            per-domain split folders with `load_split_folder` (options
            `domain_names`, `name`); for other paths: `name`, `sep`,
            `encoding`, `implicit` and the long table's column names `user`,
            `item`, `rating`, `timestamp`, `domain` (matched in any case).

    Returns:
        CrossDomainData.

    Raises:
        DataError: unknown name (the message lists the known ones), no data
            folder, any fault in the files read, a rating off the scale, or
            a domain no protocol can use.
    """
    if isinstance(name_or_path, CrossDomainData):
        if positive_threshold is not None or rating_scale is not None or options:
            raise ValueError("options apply when loading; got a CrossDomainData that is already loaded")
        return name_or_path
    rating_scale = readers.checked_rating_scale(rating_scale)
    if positive_threshold is not None and not np.isfinite(positive_threshold):
        raise ValueError(f"positive_threshold must be a finite number, got {positive_threshold!r}")
    key = str(name_or_path)
    spec = _SPEC.match(key)
    if spec and spec["format"] in SPLIT_FORMATS:
        options = {"domain_names": spec["names"], **options} if spec["names"] else options
        return load_split_folder(spec["path"], spec["format"], **options)
    if "format" in options:
        return load_split_folder(key, options.pop("format"), **options)
    if key in DATASETS:
        recipe = DATASETS[key]
        folder = _data_dir(data_dir) if recipe.needs_data else data_dir
        try:
            inspect.signature(recipe.load).bind(folder, **options)
        except TypeError as error:
            raise DataError(
                f"dataset {key!r} does not take these options ({error})",
                value=sorted(options),
            ) from None
        data = recipe.load(folder, **options)
        _recipe_rating_options(data, positive_threshold, rating_scale)
        return _usable(data)
    path = pathlib.Path(key).expanduser()
    if path.exists():
        return _usable(_load_path(path, positive_threshold=positive_threshold, rating_scale=rating_scale, **options))
    if path.is_symlink():
        raise DataError(f"a broken symbolic link (to {os.readlink(path)})", path)
    if views.is_reference(key):
        ref = views.DomainRef.parse(key)
        options = {"positive_threshold": positive_threshold, "rating_scale": rating_scale, **options}
        return ref.view(load_dataset(ref.dataset, data_dir=data_dir, **options))
    raise DataError(
        f"{key!r} is neither a known dataset nor an existing file or folder; known datasets: {', '.join(DATASETS)}",
        value=key,
    )


# --- paths users bring ---------------------------------------------------

# "<format>[<domain names>]:<path>": a split folder named in one string, the
# form the command line passes on and runs record as their dataset.
_SPEC = re.compile(r"^(?P<format>[a-z]+)(?:\[(?P<names>[^\]]*)\])?:(?P<path>.+)$")


def dataset_spec(path, format=None, domain_names=None):
    """The one-string form of a split folder read with `format` (e.g. "cdrib[a,b]:pairs/").

    Returns `path` unchanged when no format is given. The command line
    turns `--format` and `--domain-names` into it, so every command that
    takes a dataset name takes a split folder too.
    """
    if not format:
        if domain_names:
            raise DataError("--domain-names applies to --format cdrib|disencdr folders only", value=domain_names)
        return str(path)
    if format not in SPLIT_FORMATS:
        raise DataError(f"unknown --format {format!r}; choose one of {list(SPLIT_FORMATS)}", value=format)
    names = f"[{domain_names}]" if domain_names else ""
    return f"{format}{names}:{path}"


def _load_path(
    path,
    name=None,
    sep=None,
    encoding="utf-8",
    implicit=None,
    positive_threshold=None,
    rating_scale=None,
    user="user",
    item="item",
    rating="rating",
    timestamp="timestamp",
    domain="domain",
):
    """A user's folder or file as CrossDomainData (see `load_dataset`)."""
    notes = []
    checks = {"encoding": encoding, "notes": notes, "rating_scale": rating_scale}
    if path.is_dir():
        frames = readers.read_domain_files(path, sep=sep, **checks)
    elif domain.lower() in readers.header_names(path, encoding):
        table = readers.read_domain_table(path, sep, user, item, rating, timestamp, domain, **checks)
        frames = {str(label): group.drop(columns="domain") for label, group in table.groupby("domain", sort=False)}
    else:
        domain_name = readers.domain_of_file(path) or path.name.split(".")[0]
        frames = {domain_name: readers.read_interactions(path, sep=sep, **checks)}
    if implicit is None:
        # A file without ratings holds clicks: every interaction is positive.
        implicit = {label: "rating" not in frame for label, frame in frames.items()}
    implicit_of = implicit if isinstance(implicit, dict) else dict.fromkeys(frames, implicit)
    rated = {
        label: frame["rating"]
        for label, frame in frames.items()
        if not implicit_of.get(label, False) and "rating" in frame
    }
    if positive_threshold is None and rated:
        positive_threshold = _default_positive_threshold(rated, rating_scale, notes)
    name = name or path.name.split(".")[0]
    return CrossDomainData.from_frames(
        name, frames, implicit=implicit, positive_threshold=positive_threshold, notes=notes
    )


def _default_positive_threshold(ratings, rating_scale, notes):
    """3/4 of the way up the declared or inferred star scale; the choice goes to `notes`.

    Ratings on no star scale (e.g. play counts) give None: every
    interaction is a positive, and the note says so.
    """
    domains = ", ".join(ratings)
    how = "choose with positive_threshold= (--positive-threshold), 0 to count every rating"
    scale, source = rating_scale, "declared"
    if scale is None:
        scale, source = readers.inferred_rating_scale(pd.concat(list(ratings.values()))), "inferred"
    if scale is None:
        _note(
            notes,
            f"positives in ranking protocols ({domains}): every interaction, since the ratings are on no 1-, 5- or "
            f"10-point scale (counts?); {how}",
        )
        return None
    low, high = scale
    threshold = low + DEFAULT_POSITIVE_FRACTION * (high - low)
    _note(
        notes,
        f"positives in ranking protocols ({domains}): ratings >= {threshold:g}, the default for explicit "
        f"ratings ({DEFAULT_POSITIVE_FRACTION:.0%} of the way up the {source} rating scale [{low:g}, {high:g}]); "
        f"lower ratings stay for the rating protocol but are not positives; {how}",
    )
    return threshold


def _recipe_rating_options(data, positive_threshold, rating_scale):
    """Applies load options to a recipe's data: a declared scale is checked, a threshold replaces the recipe's."""
    if rating_scale is not None:
        low, high = rating_scale
        for name, domain in data.domains.items():
            ratings = domain.interactions["rating"].to_numpy()
            off = np.flatnonzero((ratings < low) | (ratings > high))
            if not domain.implicit and len(off):
                raise DataError(
                    f"domain {name!r} of {data.name!r} has {len(off):,} ratings outside the declared scale "
                    f"[{low:g}, {high:g}]",
                    value=float(ratings[off[0]]),
                )
    if positive_threshold is not None:
        default = "none" if data.positive_threshold is None else f"{data.positive_threshold:g}"
        _note(data.notes, f"positive threshold {positive_threshold:g} given (the recipe's default: {default})")
        data.positive_threshold = float(positive_threshold)


def _usable(data):
    """`data` once every explicit domain has a positive and `check_domains` passes."""
    for name, domain in data.domains.items():
        if not len(data.positives(name)):
            top = float(domain.interactions["rating"].max())
            raise DataError(
                f"domain {name!r} of {data.name!r} has no positive: no rating >= {data.positive_threshold:g} "
                f"(its highest is {top:g}); choose a lower positive_threshold (--positive-threshold)",
                value=name,
            )
    data.check_domains()
    return data


# --- MovieLens -------------------------------------------------------------


def _ml1m_files(data_dir, notes):
    """ML-1M ratings, movies and user features in common columns."""
    folder = pathlib.Path(data_dir) / "movielens-1m"
    ratings = readers.read_delimited(
        folder / "ratings_reconstructed.csv.gz",
        {
            "user_id": "user",
            "movie_id": "item",
            "rating": "rating",
            "timestamp": "timestamp",
        },
        header=True,
    )
    _note(
        notes,
        f"movielens-1m: {len(ratings):,} ratings read (ratings_reconstructed.csv.gz holds "
        f"999,960 of the official 1,000,209, see PROVENANCE.md); "
        f"{int(ratings['timestamp'].isna().sum()):,} have no timestamp (users >= 3000)",
    )
    movies = readers.read_delimited(folder / "movies.dat", ("item", "title", "genres"), sep="::", encoding="latin-1")
    movies["year"] = _year_of(movies["title"])
    users = readers.read_delimited(folder / "users.dat", ("user", "gender", "age", "occupation", "zip"), sep="::")
    return ratings, movies[["item", "genres", "year"]], _user_features(users)


def _ml100k_files(data_dir, notes):
    """ML-100K ratings, movies and user features in the same columns as ML-1M."""
    folder = pathlib.Path(data_dir) / "movielens-100k"
    ratings = readers.read_delimited(folder / "u.data", ("user", "item", "rating", "timestamp"), sep="\t")
    _note(notes, f"movielens-100k: {len(ratings):,} ratings read from u.data")
    genre_table = readers.read_delimited(folder / "u.genre", ("genre", "flag_index"), sep="|")
    genre_names = list(genre_table.sort_values("flag_index", key=lambda s: s.astype(int))["genre"])
    movies = readers.read_delimited(
        folder / "u.item",
        (
            "item",
            "title",
            "release_date",
            "video_release_date",
            "imdb_url",
            *genre_names,
        ),
        sep="|",
        encoding="latin-1",
    )
    flags = movies[genre_names].to_numpy() == "1"
    # Build "A|B|C" column by column (19 genres), not row by row.
    joined = pd.Series("", index=movies.index, dtype=object)
    for position, genre in enumerate(genre_names):
        joined = joined + np.where(flags[:, position], genre + "|", "")
    movies["genres"] = joined.str.rstrip("|").astype(str)
    movies["year"] = _year_of(movies["title"])
    users = readers.read_delimited(folder / "u.user", ("user", "age", "gender", "occupation", "zip"), sep="|")
    return ratings, movies[["item", "genres", "year"]], _user_features(users)


def _year_of(titles):
    """Release year from a title such as "Toy Story (1995)" (NA if absent)."""
    return pd.to_numeric(titles.str.extract(r"\((\d{4})\)\s*$")[0], errors="coerce").astype("Int64")


def _user_features(users):
    table = users.set_index("user")
    features = pd.DataFrame(index=table.index)
    features["gender"] = table["gender"]
    features["age"] = table["age"].astype(np.int64)
    # ML-1M codes occupations as integers, ML-100K names them.
    occupation = pd.to_numeric(table["occupation"], errors="coerce")
    features["occupation"] = occupation.astype("Int64") if occupation.notna().all() else table["occupation"]
    features["zip_prefix"] = table["zip"].str[:1]
    return features


def _genre_pair(name, ratings, movies, user_features, notes, reference=None):
    """SharedVAE's genre split: Action -> Comedy/Drama/Fantasy/Romance."""
    genres = movies.set_index("item")["genres"].str.split("|").explode()
    in_source = genres.isin(SOURCE_GENRES).groupby(level=0).any()
    in_target = genres.isin(TARGET_GENRES).groupby(level=0).any()
    known = ratings["item"].isin(in_source.index)
    _drop_note(notes, name, ~known, "ratings of movies missing from the movie list")
    ratings = ratings[known]
    source_of = ratings["item"].map(in_source).to_numpy(bool)
    target_of = ratings["item"].map(in_target).to_numpy(bool)
    both = in_source & in_target
    neither = ~in_source & ~in_target
    _note(
        notes,
        f"{name}: dropped {int(both.sum()):,} movies in both Action and a target genre "
        f"({int((source_of & target_of).sum()):,} ratings) and {int(neither.sum()):,} movies "
        f"in neither group ({int((~source_of & ~target_of).sum()):,} ratings)",
    )
    frames = {
        "action": ratings[source_of & ~target_of],
        "target": ratings[target_of & ~source_of],
    }
    positive_users = [frame.loc[frame["rating"] >= MOVIELENS_POSITIVE, "user"].unique() for frame in frames.values()]
    keep = np.intersect1d(*positive_users)
    all_users = pd.concat(frames.values())["user"].nunique()
    dropped = {label: int((~frame["user"].isin(keep)).sum()) for label, frame in frames.items()}
    _note(
        notes,
        f"{name}: kept {len(keep):,} of {all_users:,} users, those with a rating >= "
        f"{MOVIELENS_POSITIVE} in both domains; dropped the others' ratings "
        f"(action {dropped['action']:,}, target {dropped['target']:,}); all ratings of kept "
        "users stay (the rating protocol needs them)",
    )
    frames = {label: frame[frame["user"].isin(keep)] for label, frame in frames.items()}
    return CrossDomainData.from_frames(
        name,
        frames,
        user_features=user_features,
        item_features=dict.fromkeys(frames, movies.set_index("item")),
        positive_threshold=MOVIELENS_POSITIVE,
        notes=notes,
        reference=reference,
    )


def _genre_groups(name, ratings, movies, user_features, notes):
    """One domain per genre group of each movie's first listed genre."""
    group_of_genre = {genre: group for group, genres in GENRE_GROUPS.items() for genre in genres}
    first = movies.set_index("item")["genres"].str.split("|").str[0]
    group = ratings["item"].map(first.map(group_of_genre))
    unmapped = group.isna()
    if unmapped.any():
        left_out = sorted(set(ratings.loc[unmapped, "item"].map(first).fillna("<not in movie list>")))
        _drop_note(
            notes,
            name,
            unmapped,
            f"ratings of movies whose first genre is in no group {left_out}",
        )
    frames = {label: ratings[group == label] for label in GENRE_GROUPS if (group == label).any()}
    _note(
        notes,
        f"{name}: domains by first listed genre, groups {dict(GENRE_GROUPS)}; "
        "no overlap filter (users overlap partially)",
    )
    return CrossDomainData.from_frames(
        name,
        frames,
        user_features=user_features,
        item_features=dict.fromkeys(frames, movies.set_index("item")),
        positive_threshold=MOVIELENS_POSITIVE,
        notes=notes,
    )


def _ml1m_genre(data_dir):
    notes = []
    ratings, movies, users = _ml1m_files(data_dir, notes)
    return _genre_pair("ml1m-genre", ratings, movies, users, notes, SHAREDVAE_MOVIELENS)


def _ml1m_multi(data_dir):
    notes = []
    return _genre_groups("ml1m-multi", *_ml1m_files(data_dir, notes), notes)


def _ml100k_genre(data_dir):
    notes = []
    return _genre_pair("ml100k-genre", *_ml100k_files(data_dir, notes), notes)


def _ml100k_multi(data_dir):
    notes = []
    return _genre_groups("ml100k-multi", *_ml100k_files(data_dir, notes), notes)


# --- explicit pairs with shared user ids -----------------------------------


def _douban_book_music(data_dir):
    folder = pathlib.Path(data_dir) / "douban-book-music"
    frames = {
        label: readers.read_delimited(
            folder / f"douban_{label}" / "ratings.dat",
            ("user", "item", "rating"),
            sep="\t",
        )
        for label in ("book", "music")
    }
    return CrossDomainData.from_frames("douban-book-music", frames)


def _amazon_books_movies_dense(data_dir):
    folder = pathlib.Path(data_dir) / "amazon-books-movies-dense"
    frames = {
        "movies": readers.read_atomic_inter(folder / "Amazon-Movies-Dense.inter"),
        "books": readers.read_atomic_inter(folder / "Amazon-Books-Dense.inter"),
    }
    return CrossDomainData.from_frames("amazon-books-movies-dense", frames)


# --- implicit Amazon pairs with shipped splits -----------------------------


def _read_pairs(path, columns, notes):
    """A tab-separated `user item [label]` file of implicit interactions."""
    frame = readers.read_delimited(path, columns, sep="\t")
    if "label" in frame:
        not_one = frame["label"] != "1"
        if not_one.any():
            _note(
                notes,
                f"{path}: {int(not_one.sum()):,} rows with a label other than 1 kept as interactions",
            )
    return frame[["user", "item"]]


def _index_split(data, pieces, folders):
    """Translates split parts of external ids to index ids (with ratings and timestamps); adds empty parts.

    Raises:
        DataError: a negatives row naming an item that no train/valid/test row
            of the domain has (its index would not exist).
    """
    users = pd.Index(data.user_vocab)
    split = {}
    for label, parts in pieces.items():
        items = pd.Index(data.domain(label).item_vocab)
        split[label] = {}
        for part in ("train", "valid", "test", *(p for p in parts if p.endswith("negatives"))):
            frame = parts.get(part)
            if frame is None:
                frame = pd.DataFrame({"user": [], "item": []})
            indexed = pd.DataFrame(
                {
                    "user": users.get_indexer(frame["user"].astype(str)).astype(np.int64),
                    "item": items.get_indexer(frame["item"].astype(str)).astype(np.int64),
                    "rating": frame["rating"].to_numpy(np.float32) if "rating" in frame else np.float32(1.0),
                    "timestamp": frame["timestamp"].to_numpy(np.float64) if "timestamp" in frame else np.nan,
                }
            )
            unknown = (indexed[["user", "item"]] < 0).any(axis=1).to_numpy()
            if unknown.any():
                row = frame.iloc[int(np.argmax(unknown))]
                raise DataError(
                    f"{part} row ({row['user']}, {row['item']}) names a user or item that no train/valid/test row "
                    f"of domain {label!r} has; candidates must be items of the domain",
                    pathlib.Path(folders[label]),
                    value=row["item"],
                )
            split[label][part] = indexed
    return split


def _disencdr(pair):
    source, target = pair.split("-")

    def load(data_dir):
        """A DisenCDR pair: equal user ids are one person in both domains.

        Verified against the files (all four pairs): in each pair both
        folders' train.txt hold exactly the ids 0..n-1 (n = 9,928, 4,998,
        3,325, 15,761) and test_original.txt one row per user, so every
        user is in both domains, as DisenCDR's overlapping-users-only data
        should be; the "shared" convention is checked again at load time.
        """
        root = pathlib.Path(data_dir) / "amazon-cdr-disencdr"
        return _shipped_split_data(
            f"amazon-disencdr-{pair}",
            {source: root / f"{source}_{target}", target: root / f"{target}_{source}"},
            SPLIT_FORMATS["disencdr"],
        )

    return load


def _cdrib_cloth_sport(data_dir):
    """CDRIB's cloth/sport pair: the "cdrib" format over the two folders.

    Only ids 0..9,827 are the same person in both domains (the common users
    CDRIB numbers first; "common user num 9828" in sport_cloth's log); higher
    ids are numbered per domain. Verified against the files: every valid/test
    id is below 9,828 (cloth's cold users 8,838..9,827, sport's 7,856..8,837)
    and the ids below 9,828 are 9,828 distinct users; the two train files
    share 25,356 ids but only 7,856 below 9,828. Merging equal ids (as
    earlier versions did) invented 17,500 shared users (27,328 in both).
    """
    root = pathlib.Path(data_dir) / "amazon-cdr-cdrib"
    return _shipped_split_data(
        "amazon-cdrib-cloth-sport",
        {"cloth": root / "cloth_sport", "sport": root / "sport_cloth"},
        SPLIT_FORMATS["cdrib"],
    )


# --- splits shipped with the data (CDRIB, DisenCDR, a user's own) ---------


@dataclasses.dataclass(frozen=True)
class SplitFormat:
    """How a folder-per-domain split names its files and numbers its users.

    Attributes:
        parts: split part -> file name in each domain's folder; a name
            without a suffix matches any file of that stem (`train.csv`,
            `train.tsv.gz`, ...). The first part is required.
        columns: the fields of each line (tab-separated, no header), or
            None to read each file as `tfcdr.data.readers.read_interactions`
            does (separator and header detected, ratings where present).
        identities: "common-first" (CDRIB: ids below the common-user count
            are the same person in every domain, higher ids are numbered
            per domain), "shared" (DisenCDR: equal ids are one person and
            every user is in every domain) or "as-given" (equal ids are one
            person, any overlap).
        description: what the split is, for notes.
        protocols: the protocols that use the split by default.
    """

    parts: dict
    columns: tuple | None
    identities: str
    description: str
    protocols: tuple = ()


SPLIT_FORMATS = {
    "cdrib": SplitFormat(
        {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"},
        ("user", "item"),
        "common-first",
        "CDRIB cold start: valid/test users of a domain appear only in another domain's train",
        ("cold-start",),
    ),
    "disencdr": SplitFormat(
        {"train": "train.txt", "test": "test_original.txt"},
        ("user", "item", "label"),
        "shared",
        "DisenCDR leave-one-out: train.txt as train, test_original.txt as test, no valid",
    ),
    "split": SplitFormat(
        {part: part for part in ("train", "valid", "test", "valid_negatives", "test_negatives")},
        None,
        "as-given",
        "the folder's own train/valid/test files",
        ("loo-sampled", "full-ranking", "rating", "cold-start"),
    ),
}


def load_split_folder(path, format, domain_names=None, name=None):
    """A folder of per-domain folders holding a shipped split, as CrossDomainData.

    Each sub-folder is one domain and holds the files of `SPLIT_FORMATS[format]`
    (e.g. CDRIB's `cloth_sport/{train,valid,test}.txt`). Domain names come from
    the folder names: a pair of folders `X_Y` and `Y_X` (CDRIB's and DisenCDR's
    naming) gives domains X and Y; other folders keep their whole name.

    Args:
        path: the folder.
        format: a key of `SPLIT_FORMATS`: "cdrib", "disencdr", or "split"
            (a user's own: `<domain>/train.*`, `test.*`, optional `valid.*`,
            `valid_negatives.*`, `test_negatives.*`, any format
            `read_interactions` reads).
        domain_names: names for the sub-folders in sorted order (a list or a
            comma-separated string) instead of the derived ones.
        name: dataset name (default: the folder's name).

    Returns:
        CrossDomainData with the split in `given_split`.

    Raises:
        DataError: unknown format, a folder without the format's files, a
            wrong number of domain names, or user ids that break the
            format's id convention (see `_identities`).
    """
    if format not in SPLIT_FORMATS:
        raise DataError(f"unknown split format {format!r}; choose one of {list(SPLIT_FORMATS)}", value=format)
    path = pathlib.Path(path).expanduser()
    if not path.is_dir():
        raise DataError(f"--format {format} needs a folder of per-domain folders", path)
    first = next(iter(SPLIT_FORMATS[format].parts.values()))
    folders = sorted(p for p in path.iterdir() if p.is_dir() and _part_file(p, first))
    if not folders:
        raise DataError(f"no sub-folder holds {first} (the {format} layout: one folder per domain)", path)
    names = _folder_domain_names([f.name for f in folders])
    if domain_names is not None:
        given = domain_names.split(",") if isinstance(domain_names, str) else list(domain_names)
        given = [n.strip() for n in given]
        if len(given) != len(folders) or len(set(given)) != len(given) or not all(given):
            raise DataError(
                f"--domain-names needs {len(folders)} distinct names, one per folder {[f.name for f in folders]}",
                path,
                value=domain_names,
            )
        names = given
    return _shipped_split_data(name or path.name, dict(zip(names, folders, strict=True)), SPLIT_FORMATS[format])


def _folder_domain_names(folders):
    """Domain names of split folders: X for a pair `X_Y` and `Y_X`, else the folder's name."""
    names = []
    for folder in folders:
        head, _, tail = folder.partition("_")
        paired = tail and f"{tail}_{head}" in folders
        names.append(head if paired else folder)
    if len(set(names)) != len(names):
        return list(folders)
    return names


def _shipped_split_data(name, domains, split_format, notes=None):
    """CrossDomainData of implicit domains plus the split shipped with them.

    `domains` maps domain -> folder holding `split_format.parts`. Interactions
    are the union of the parts; user ids become identities by the format's
    convention (`_identities`).
    """
    notes = [] if notes is None else notes
    pieces = {}
    for label, folder in domains.items():
        pieces[label] = {}
        for part, file in split_format.parts.items():
            path = _part_file(pathlib.Path(folder), file)
            if path is None:
                if part == next(iter(split_format.parts)) or split_format.columns is not None:
                    raise DataError(f"the domain folder lacks its {file} file", pathlib.Path(folder))
                continue
            if split_format.columns is None:
                pieces[label][part] = readers.read_interactions(path)
            else:
                pieces[label][part] = _read_pairs(path, split_format.columns, notes)
    pieces = _identities(name, pieces, domains, split_format.identities, notes)
    frames = {
        label: pd.concat([frame for part, frame in split.items() if not part.endswith("negatives")], ignore_index=True)
        for label, split in pieces.items()
    }
    read = sorted({part for split in pieces.values() for part in split})
    _note(
        notes,
        f"{name}: interactions = {' + '.join(p for p in read if not p.endswith('negatives'))} of each domain; "
        f"the split is in given_split ({split_format.description}), used by default under "
        f"{', '.join(split_format.protocols) or 'no protocol (use_given=True asks for it)'}",
    )
    implicit = {label: "rating" not in split["train"] for label, split in pieces.items()}
    data = CrossDomainData.from_frames(name, frames, implicit=implicit, notes=notes)
    data.given_split = _index_split(data, pieces, domains)
    data.given_protocols = split_format.protocols
    return data


def _part_file(folder, name):
    """The file of a split part: `name` itself, or the one file whose stem is `name` (None if absent)."""
    if (folder / name).is_file():
        return folder / name
    if "." in name:
        return None
    matches = sorted(p for p in folder.glob(f"{name}.*") if p.is_file())
    if len(matches) > 1:
        raise DataError(f"several files for the {name} part: {[p.name for p in matches]}", folder)
    return matches[0] if matches else None


def _identities(name, pieces, domains, convention, notes):
    """Turns each domain's user ids into person identities by the format's convention.

    "shared": equal ids are one person. Checked: every domain has the same
    set of user ids (DisenCDR's pairs keep only users of both domains, ids
    0..n-1 in each); otherwise the files follow another convention.

    "common-first": CDRIB numbers the users of both domains with the common
    ones first, so ids below the common count are one person everywhere and
    higher ids are per domain (prefixed `<domain>:`). The count is the
    largest valid/test id + 1 (the cold-start users are common users).
    Checked: ids are integers; each valid/test user has training data in
    another domain; and where a preprocessing log (`*_data_info.txt`) states
    "common user num N", one of the logs states this count.
    """
    if convention == "as-given":
        return pieces
    if convention == "shared":
        users = {label: set(pd.concat(parts.values())["user"]) for label, parts in pieces.items()}
        reference = next(iter(users.values()))
        differ = [label for label, ids in users.items() if ids != reference]
        if differ:
            raise DataError(
                f"{name}: the domains' user ids differ ({ {k: len(v) for k, v in users.items()} } ids), so equal "
                "ids cannot all be one person as this format says; try --format cdrib (common users first)",
                pathlib.Path(domains[differ[0]]),
            )
        _note(notes, f"{name}: user ids shared by all domains ({len(reference):,} users in each)")
        return pieces
    ids = {}
    for label, parts in pieces.items():
        for part, frame in parts.items():
            values = pd.to_numeric(frame["user"], errors="coerce")
            if values.isna().any():
                bad = frame["user"][values.isna()].iloc[0]
                raise DataError(
                    f"{name}: user ids must be integers (common users first)",
                    pathlib.Path(domains[label]) / part,
                    value=bad,
                )
            ids[label, part] = values.astype(np.int64)
    cold = [ids[key] for key in ids if key[1] != "train"]
    if not cold or not any(len(c) for c in cold):
        raise DataError(f"{name}: no valid/test users to read the common-user count from", domains[next(iter(domains))])
    common = int(max(int(c.max()) for c in cold if len(c))) + 1
    for label in pieces:
        others = set().union(*(set(ids[o, "train"]) for o in pieces if o != label))
        for part in pieces[label]:
            if part == "train":
                continue
            stranded = sorted(set(ids[label, part]) - others)
            if stranded:
                raise DataError(
                    f"{name}: {len(stranded)} {part} users of {label!r} have no training data in another domain, "
                    f"so ids below {common} are not the common users this format assumes",
                    pathlib.Path(domains[label]),
                    value=stranded[0],
                )
    logged = _logged_common_counts(domains)
    if logged and common not in logged:
        raise DataError(
            f"{name}: the largest valid/test user id + 1 is {common}, but the preprocessing logs state common "
            f"user num {sorted(logged)}",
            pathlib.Path(domains[next(iter(domains))]).parent,
        )
    out = {}
    for label, parts in pieces.items():
        out[label] = {}
        for part, frame in parts.items():
            values = ids[label, part]
            own = values >= common
            users = values.astype(str).where(~own, label + ":" + values.astype(str))
            out[label][part] = frame.assign(user=users.to_numpy())
    private = {label: int((ids[label, "train"] >= common).sum()) for label in pieces}
    _note(
        notes,
        f"{name}: ids 0..{common - 1} are the {common:,} common users (largest valid/test id + 1"
        + (", as the preprocessing log states" if logged else "")
        + "); higher ids are numbered per domain and kept apart as '<domain>:<id>' "
        f"(training rows of such users: {private})",
    )
    return out


def _logged_common_counts(domains):
    """The "common user num N" counts stated by preprocessing logs in the domain folders."""
    counts = set()
    for folder in domains.values():
        for log in sorted(pathlib.Path(folder).glob("*_data_info.txt")):
            for line in log.read_text(errors="replace").splitlines():
                match = re.match(r"\s*common user num\s+(\d+)", line)
                if match:
                    counts.add(int(match.group(1)))
    return counts


# --- single domain with review text ---------------------------------------


def _amazon_musical_instruments(data_dir):
    path = pathlib.Path(data_dir) / "amazon-musical-instruments-5core" / "Musical_Instruments.zip"
    reviews = readers.read_amazon_reviews(path, text=True)
    texts = reviews.groupby("user", sort=False)["review_text"].agg("\n".join)
    notes = [
        "user_features.review_text: each user's review texts joined by newlines in file "
        "order (auxiliary text, not interactions)"
    ]
    return CrossDomainData.from_frames(
        "amazon-musical-instruments",
        {"musical_instruments": reviews[["user", "item", "rating", "timestamp"]]},
        user_features=texts.to_frame("review_text"),
        notes=notes,
    )


# --- helpers ----------------------------------------------------------------


def _note(notes, message):
    notes.append(message)
    logger.info(message)


def _drop_note(notes, name, mask, why):
    count = int(mask.sum())
    if count:
        _note(notes, f"{name}: dropped {count:,} {why}")


def _candidate_dirs():
    repo_root = pathlib.Path(__file__).resolve().parents[2]
    return [
        pathlib.Path.cwd() / ".." / "shared" / "data",
        repo_root / ".." / "shared" / "data",
    ]


def _data_dir(data_dir):
    """The data folder to read recipes from, or a DataError saying where we looked."""
    how = f"set it with --data-dir (Python: data_dir=) or the {DATA_DIR_VARIABLE} environment variable"
    if data_dir is None:
        data_dir = default_data_dir()
        if data_dir is None:
            looked = ", ".join(str(p) for p in _candidate_dirs())
            raise DataError(f"no data folder found: ${DATA_DIR_VARIABLE} is not set and none of {looked} exists; {how}")
        source = f"${DATA_DIR_VARIABLE}" if os.environ.get(DATA_DIR_VARIABLE) else "default"
    else:
        source = "given"
    data_dir = pathlib.Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise DataError(f"the data folder ({source}) does not exist; {how}", data_dir)
    return data_dir


def _synthetic(data_dir=None, **options):
    """The embedded default; `data_dir` is ignored (nothing is read)."""
    return make_synthetic(**options)


DATASETS = {
    "ml1m-genre": Recipe(
        _ml1m_genre,
        "MovieLens-1M, SharedVAE setting: action -> target (Comedy/Drama/Fantasy/Romance), "
        "users positive in both, explicit 1-5, positives >= 4",
    ),
    "ml1m-multi": Recipe(
        _ml1m_multi,
        f"MovieLens-1M, one domain per first-genre group ({len(GENRE_GROUPS)} domains, partial overlap), explicit 1-5",
    ),
    "ml100k-genre": Recipe(_ml100k_genre, "MovieLens-100K with the ml1m-genre recipe: action -> target"),
    "ml100k-multi": Recipe(_ml100k_multi, "MovieLens-100K with the ml1m-multi recipe (first-genre groups)"),
    "douban-book-music": Recipe(
        _douban_book_music,
        "Douban book -> music, explicit 1-5, shared user ids (GA-DTCDR)",
    ),
    "amazon-books-movies-dense": Recipe(
        _amazon_books_movies_dense,
        "Amazon movies -> books dense subset, explicit 1-5, original reviewer ids",
    ),
    **{
        f"amazon-disencdr-{pair}": Recipe(
            _disencdr(pair),
            f"Amazon {pair.replace('-', ' -> ')} (DisenCDR), implicit, shipped leave-one-out split",
        )
        for pair in DISENCDR_PAIRS
    },
    "amazon-cdrib-cloth-sport": Recipe(
        _cdrib_cloth_sport,
        "Amazon cloth <-> sport (CDRIB), implicit, shipped cold-start train/valid/test",
    ),
    "amazon-musical-instruments": Recipe(
        _amazon_musical_instruments,
        "Amazon Musical Instruments 5-core, one explicit domain, review text as user features",
    ),
    "synthetic": Recipe(
        _synthetic,
        "the embedded default: seeded synthetic source -> target with shared user taste "
        "(options as tfcdr.data.synthetic.make_synthetic)",
        needs_data=False,
    ),
}
