"""Splits the export and tuning tests build each registered model on."""

import functools

from tests.test_case import feature_split, tiny_split
from tfcdr.models import MODELS

# The model single-model tests use: a foundation model every registry has.
BASIC = "bpr-mf"


@functools.cache
def split_for(name):
    """`tiny_split()`, or `feature_split()` for models that read side features."""
    return feature_split() if getattr(MODELS[name], "feature_args", ()) else tiny_split()
