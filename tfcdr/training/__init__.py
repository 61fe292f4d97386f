"""Training: `fit_model` and the callbacks and train steps models share."""

from tfcdr.training.fit import fit_model, monitor_for

__all__ = ["fit_model", "monitor_for"]
