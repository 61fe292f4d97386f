"""Export of trained models as SavedModels."""

from tfcdr.export.saved_model import export_scoring

__all__ = ["export_scoring"]
