import numpy as np
import pytest

from tests.test_case import tiny_data
from tfcdr.errors import DataError
from tfcdr.transfer import DomainRef, load_domain, merged_domain, single_domain


def _pairs(data, name):
    part = data.domain(name)
    table = part.interactions
    return set(zip(data.user_vocab[table["user"]], part.item_vocab[table["item"]], strict=True))


def test_parse_domain_references():
    assert DomainRef.parse("amazon-disencdr-sport-cloth:cloth") == DomainRef("amazon-disencdr-sport-cloth", "cloth")
    assert DomainRef.parse("ml1m-multi") == DomainRef("ml1m-multi", "*")
    assert str(DomainRef.parse("ml1m-multi:*")) == "ml1m-multi:*"
    with pytest.raises(DataError):
        DomainRef.parse("dataset:")


def test_single_domain_keeps_only_that_domain_and_its_users():
    data = tiny_data()
    view = single_domain(data, "target")
    assert view.domain_names == ["target"]
    assert view.num_users == len(data.domain("target").users) < data.num_users
    assert _pairs(view, "target") == _pairs(data, "target")
    with pytest.raises(DataError, match="unknown domain"):
        single_domain(data, "nope")


def test_merged_domain_keeps_items_of_different_domains_apart():
    data = tiny_data()
    merged = merged_domain(data)
    sizes = data.describe()["interactions"]
    assert merged.domain_names == ["all"]
    assert len(merged.domain("all").interactions) == sizes.sum()
    assert merged.domain("all").num_items == sum(data.num_items.values())
    # Matching by external id merges the synthetic domains' equal item ids.
    assert merged_domain(data, match_items=True).domain("all").num_items < merged.domain("all").num_items


def test_load_domain_reads_a_recipe_once():
    cache = {}
    options = {"synthetic": {"num_users": 60, "num_items": 120, "interactions_per_user": 5}}
    source = load_domain("synthetic:source", options=options, loaded=cache)
    target = load_domain("synthetic:target", options=options, loaded=cache)
    assert list(cache) == ["synthetic"]
    assert source.name == "synthetic:source" and target.domain_names == ["target"]
    assert np.all(np.diff(source.domain("source").interactions["user"].unique()) > 0)
