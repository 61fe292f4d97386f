"""Export of trained models as SavedModels for TF Serving."""

from tfcdr.export.model_server_config import exported_models, write_model_server_config
from tfcdr.export.saved_model import SIGNATURES, export_model, export_scoring, versions
from tfcdr.export.serving_graph import (
    UNKNOWN_DOMAIN,
    UNKNOWN_ITEM,
    UNKNOWN_USER,
    ServingGraph,
)
from tfcdr.export.warmup import (
    predict_request,
    read_warmup_requests,
    warmup_requests,
    write_warmup_requests,
)

__all__ = [
    "SIGNATURES",
    "UNKNOWN_DOMAIN",
    "UNKNOWN_ITEM",
    "UNKNOWN_USER",
    "ServingGraph",
    "exported_models",
    "export_model",
    "export_scoring",
    "predict_request",
    "read_warmup_requests",
    "versions",
    "warmup_requests",
    "write_model_server_config",
    "write_warmup_requests",
]
