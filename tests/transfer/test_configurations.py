import pytest

from tfcdr.errors import DataError
from tfcdr.transfer import CONFIGURATIONS, transferred_layers, variant_label, variants


def test_table_1_of_the_paper():
    assert transferred_layers("config-1") == ("fc_1", "fc_2", "fc_3", "fc_4")
    assert transferred_layers("config-2") == ("fc_1", "fc_2", "fc_3")
    assert transferred_layers("config-3") == ("fc_1", "fc_2")
    assert transferred_layers("config-4") == ("fc_1",)
    assert transferred_layers("config-5") == ("fc_2", "fc_3", "fc_4")
    assert transferred_layers("config-6") == ("fc_3", "fc_4")
    assert transferred_layers("config-7") == ("fc_4",)
    assert transferred_layers("none") == ()


def test_prediction_travels_only_with_fc_4():
    assert transferred_layers("config-7", transfer_prediction=True) == ("fc_4", "prediction")
    assert transferred_layers("config-2", transfer_prediction=True) == ("fc_1", "fc_2", "fc_3")
    assert variant_label("config-6", True) == "config-6+pred"
    assert variant_label("config-3", True) == "config-3"


def test_variants_run_each_distinct_model_once():
    labels = [label for _, _, label in variants(prediction="both")]
    assert len(labels) == len(set(labels)) == len(CONFIGURATIONS) + 4
    assert [label for _, _, label in variants(["config-7"], "with")] == ["config-7+pred"]


def test_unknown_configuration_is_a_clear_error():
    with pytest.raises(DataError, match="config-9"):
        transferred_layers("config-9")
