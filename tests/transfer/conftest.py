"""Shared fixtures of the transfer tests: one tiny pre-trained source, reused."""

import keras
import pytest

from tests.test_case import tiny_data
from tfcdr.data.splits import make_split
from tfcdr.data.views import one_domain
from tfcdr.models import NCFMLP
from tfcdr.training import fit_model

# Small but with the four named hidden layers the configurations address.
ARCHITECTURE = {"embedding_dim": 4, "hidden_units": (8, 8, 4, 4)}


@pytest.fixture(scope="session")
def source_split():
    return make_split(one_domain(tiny_data(), "source"), seed=0)


@pytest.fixture(scope="session")
def target_split():
    return make_split(one_domain(tiny_data(), "target"), seed=0)


@pytest.fixture(scope="session")
def source_model(source_split):
    """A source NCF-MLP trained for one epoch (enough to differ from any init)."""
    keras.utils.set_random_seed(0)
    model = NCFMLP(source_split.domain_names, source_split.num_users, source_split.num_items, **ARCHITECTURE)
    fit_model(model, source_split, epochs=1, verbose=0)
    return model
