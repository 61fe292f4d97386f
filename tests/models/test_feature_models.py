"""Models that read features get their widths from build_model and their tables in prepare."""

import functools

import numpy as np
import pandas as pd
import pytest

from tests.test_case import tiny_split
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.features import encode_features
from tfcdr.data.splits import make_split
from tfcdr.errors import DataError
from tfcdr.models import build_model


@functools.cache
def _split_with_features():
    rng = np.random.default_rng(0)
    users = [f"u{k}" for k in range(60)]
    frames = {
        name: pd.DataFrame({"user": rng.choice(users, 900), "item": rng.integers(0, 130, 900).astype(str)})
        for name in ("source", "target")
    }
    user_table = pd.DataFrame({"gender": rng.choice(["F", "M"], 60), "age": rng.choice([1, 18, 25], 60)}, index=users)
    items = {
        name: pd.DataFrame(
            {"genres": rng.choice(["Action|Comedy", "Drama", "Comedy"], 130), "year": rng.integers(1950, 2000, 130)},
            index=np.arange(130).astype(str),
        )
        for name in frames
    }
    data = CrossDomainData.from_frames("toy", frames, implicit=True, user_features=user_table, item_features=items)
    return make_split(data, "loo-sampled", seed=0, num_negatives=20)


def test_cdfm_features_fills_side_tables_from_the_one_encoder():
    split = _split_with_features()
    model = build_model("cdfm-features", split)
    tables = encode_features(split)
    assert model.user_feature_dim == tables.users.dim
    model.prepare(split)
    np.testing.assert_allclose(np.asarray(model.user_side), tables.users.matrix)
    np.testing.assert_allclose(np.asarray(model.item_side["target"]), tables.items["target"].matrix)


def test_sharedvae_aux_reads_encoded_user_features():
    split = _split_with_features()
    model = build_model("sharedvae-aux", split)
    model.prepare(split)
    np.testing.assert_allclose(np.asarray(model.user_features), encode_features(split).users.matrix)


def test_feature_models_refuse_datasets_without_features():
    with pytest.raises(DataError, match="reads features"):
        build_model("cdfm-features", tiny_split())
