"""Splits the export and tuning tests build each registered model on."""

import functools

import numpy as np
import pandas as pd

from tests.test_case import tiny_split
from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.splits import make_split
from tfcdr.models import MODELS

# The model single-model tests use: a foundation model every registry has.
BASIC = "bpr-mf"


@functools.cache
def feature_split():
    """A small split whose users and items have side features."""
    rng = np.random.default_rng(0)
    users = [str(k) for k in range(80)]
    frames = {
        name: pd.DataFrame({"user": rng.choice(users, 1200), "item": rng.integers(0, 120, 1200).astype(str)})
        for name in ("source", "target")
    }
    user_table = pd.DataFrame({"gender": rng.choice(["F", "M"], 80), "age": rng.choice([1, 18, 25], 80)}, index=users)
    items = {
        name: pd.DataFrame(
            {"genres": rng.choice(["Action|Comedy", "Drama", "Comedy"], 120), "year": rng.integers(1950, 2000, 120)},
            index=np.arange(120).astype(str),
        )
        for name in frames
    }
    data = CrossDomainData.from_frames("toy", frames, implicit=True, user_features=user_table, item_features=items)
    return make_split(data, "loo-sampled", seed=0, num_negatives=20)


def split_for(name):
    """`tiny_split()`, or `feature_split()` for models that read side features."""
    return feature_split() if getattr(MODELS[name], "feature_args", ()) else tiny_split()
