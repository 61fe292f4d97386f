"""Training: `fit_model` and the callbacks and train steps models share."""

from tfcdr.training.fit import fit_model, monitor_for
from tfcdr.training.gradnorm import GradNormModel
from tfcdr.training.sparse_adam import SparseAdam, make_optimizer

__all__ = ["GradNormModel", "SparseAdam", "fit_model", "make_optimizer", "monitor_for"]
