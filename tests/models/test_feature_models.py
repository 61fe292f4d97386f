"""Models that read features get their widths from build_model and their tables in prepare."""

import numpy as np
import pytest

from tests.test_case import feature_split, tiny_split
from tfcdr.data.features import encode_features
from tfcdr.errors import DataError
from tfcdr.models import build_model


def test_cdfm_features_fills_side_tables_from_the_one_encoder():
    split = feature_split()
    model = build_model("cdfm-features", split)
    tables = encode_features(split)
    assert model.user_feature_dim == tables.users.dim
    model.prepare(split)
    np.testing.assert_allclose(np.asarray(model.user_side), tables.users.matrix)
    np.testing.assert_allclose(np.asarray(model.item_side["target"]), tables.items["target"].matrix)


def test_sharedvae_aux_reads_encoded_user_features():
    split = feature_split()
    model = build_model("sharedvae-aux", split)
    model.prepare(split)
    np.testing.assert_allclose(np.asarray(model.user_features), encode_features(split).users.matrix)


def test_feature_models_refuse_datasets_without_features():
    with pytest.raises(DataError, match="reads features"):
        build_model("cdfm-features", tiny_split())


def test_ddtcdr_features_reads_the_encoded_feature_widths():
    split = feature_split()
    model = build_model("ddtcdr-features", split)
    sizes = encode_features(split).sizes(split.domain_names)
    assert model.uses_features and model.user_feature_dim == sizes["user_feature_dim"] > 0
    assert build_model("ddtcdr", split).uses_features is False
