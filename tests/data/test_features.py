import logging

import numpy as np
import pandas as pd
import pytest

from tests.test_case import tiny_data
from tfcdr.data.features import encode_features, encode_table, has_features, infer_kind
from tfcdr.errors import DataError


def _table():
    return pd.DataFrame(
        {
            "gender": ["M", "F", "M", None],
            "genres": ["A|B", "B", "C|A", "B"],
            "year": [1990.0, 2000.0, 2010.0, np.nan],
            "age": pd.array([18, 1, 18, 25], dtype="Int64"),
        },
        index=[0, 1, 2, 4],
    )


def test_one_hot_multi_hot_and_numeric_are_exact():
    encoded = encode_table(_table(), num_rows=5)
    assert [(g.column, g.kind, g.width) for g in encoded.groups] == [
        ("gender", "one_hot", 2),
        ("genres", "multi_hot", 3),
        ("year", "numeric", 1),
        ("age", "one_hot", 3),
    ]
    z = 10.0 / np.std([1990.0, 2000.0, 2010.0])
    expected = np.array(
        [
            # F  M    A  B  C   year  age 1 18 25
            [0, 1, 1, 1, 0, -z, 0, 1, 0],
            [1, 0, 0, 1, 0, 0, 1, 0, 0],
            [0, 1, 1, 0, 1, z, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 0, 0, 0],  # row 3 has no features
            [0, 0, 0, 1, 0, 0, 0, 0, 1],  # missing gender: zeros; missing year: the mean
        ],
        np.float32,
    )
    np.testing.assert_allclose(encoded.matrix, expected, rtol=1e-6)
    assert encoded.groups[1].vocabulary == ["A", "B", "C"]
    assert encoded.groups[2].mean == pytest.approx(2000.0)


def test_kinds_can_be_forced_and_are_inferred():
    encoded = encode_table(_table(), kinds={"age": "numeric", "gender": "one_hot"})
    assert encoded.groups[3].kind == "numeric" and encoded.dim == 7
    assert infer_kind(pd.Series(np.arange(100))) == "numeric"
    assert infer_kind(pd.Series([1, 2, 3])) == "one_hot"
    assert infer_kind(pd.Series([True, False])) == "one_hot"
    with pytest.raises(DataError, match="kind"):
        encode_table(_table(), kinds={"age": "embedding"})
    with pytest.raises(DataError, match="lacks"):
        encode_table(_table(), kinds={"height": "numeric"})


def test_free_text_columns_are_skipped_and_said(caplog):
    table = pd.DataFrame({"text": [f"review {k}" for k in range(30)], "g": ["a"] * 30})
    with caplog.at_level(logging.INFO, logger="tfcdr"):
        encoded = encode_table(table, max_vocabulary=10)
    assert encoded.skipped == ["text"] and encoded.dim == 1
    assert "text" in caplog.text


def test_index_outside_the_rows_is_an_error():
    with pytest.raises(DataError, match="row indices"):
        encode_table(_table(), num_rows=3)


def test_dataset_tables_and_sizes():
    data = tiny_data(implicit=False)
    assert not has_features(data)
    tables = encode_features(data)
    assert tables.users is None and tables.sizes(data.domain_names) == {
        "user_feature_dim": 0,
        "item_feature_dims": [0, 0],
    }
    data = type(data)(**{**data.__dict__, "user_features": pd.DataFrame({"g": ["a", "b"]}, index=[0, 3])})
    tables = encode_features(data)
    assert has_features(data) and tables.users.matrix.shape == (data.num_users, 2)
    assert tables.sizes(data.domain_names)["user_feature_dim"] == 2
