"""Training: `fit_model` and the callbacks and train steps models share."""

from tfcdr.training.fit import fit_model, monitor_for
from tfcdr.training.gradnorm import GradNormModel

__all__ = ["GradNormModel", "fit_model", "monitor_for"]
