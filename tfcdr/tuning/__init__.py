"""Hyperparameter search: one KerasTuner HyperModel for every zoo model."""

from tfcdr.tuning.hypermodel import CDRHyperModel
from tfcdr.tuning.search import (
    TUNERS,
    make_tuner,
    objective_for,
    run_search,
    trial_table,
)
from tfcdr.tuning.search_spaces import SEARCH_SPACES, default_space, search_space

__all__ = [
    "CDRHyperModel",
    "SEARCH_SPACES",
    "TUNERS",
    "default_space",
    "make_tuner",
    "objective_for",
    "run_search",
    "search_space",
    "trial_table",
]
