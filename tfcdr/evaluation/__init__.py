"""Evaluation protocols' metrics, `evaluate`, and the Keras callback."""

from tfcdr.evaluation.callback import EvaluationCallback
from tfcdr.evaluation.evaluate import evaluate, headline_metric

__all__ = ["EvaluationCallback", "evaluate", "headline_metric"]
