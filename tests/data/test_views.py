import pytest

from tests.test_case import tiny_data
from tfcdr.data.datasets import load_dataset
from tfcdr.data.views import DomainRef, merged_domain, one_domain, select, to_frames
from tfcdr.errors import DataError


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


def test_one_domain_keeps_only_that_domain_and_its_users():
    data = tiny_data()
    view = one_domain(data, "target")
    assert view.domain_names == ["target"]
    assert view.num_users == len(data.domain("target").users) < data.num_users
    assert _pairs(view, "target") == _pairs(data, "target")
    with pytest.raises(DataError, match="unknown domain"):
        one_domain(data, "nope")


def test_merged_domain_keeps_items_of_different_domains_apart():
    data = tiny_data()
    merged = merged_domain(data)
    sizes = data.describe()["interactions"]
    assert merged.domain_names == ["all"]
    assert len(merged.domain("all").interactions) == sizes.sum()
    assert merged.domain("all").num_items == sum(data.num_items.values())
    # Matching by external id merges the synthetic domains' equal item ids.
    assert merged_domain(data, match_items=True).domain("all").num_items < merged.domain("all").num_items


def test_load_dataset_reads_domain_references():
    options = {"num_users": 60, "num_items": 120, "interactions_per_user": 5}
    whole = load_dataset("synthetic", **options)
    source = load_dataset("synthetic:source", **options)
    merged = load_dataset("synthetic:*", **options)
    assert source.name == "synthetic:source" and source.domain_names == ["source"]
    assert _pairs(source, "source") == _pairs(whole, "source")
    assert merged.domain_names == ["all"]
    assert len(merged.domain("all").interactions) == sum(len(d.interactions) for d in whole.domains.values())
    with pytest.raises(DataError, match="unknown domain"):
        load_dataset("synthetic:nope", **options)


def test_select_keeps_the_chosen_domains_in_order():
    data = tiny_data(num_domains=3)
    chosen = select(data, ["domain_2", "domain_0"])
    assert chosen.domain_names == ["domain_2", "domain_0"]
    for name in chosen.domain_names:
        assert _pairs(chosen, name) == _pairs(data, name)
    with pytest.raises(DataError, match="distinct"):
        select(data, ["domain_0", "domain_0"])


def test_to_frames_round_trips_through_from_frames():
    data = tiny_data()
    frames = to_frames(data)
    assert list(frames) == data.domain_names
    assert all(list(frame.columns) == ["user", "item", "rating", "timestamp"] for frame in frames.values())
    assert {len(f) for f in frames.values()} == {len(d.interactions) for d in data.domains.values()}
