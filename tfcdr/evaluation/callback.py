"""A Keras callback that puts validation metrics of every domain into `logs`."""

import numpy as np
from keras import callbacks

from tfcdr.evaluation.evaluate import evaluate


class EvaluationCallback(callbacks.Callback):
    """Evaluates on the split's validation sets at the end of each epoch.

    Adds `val_<domain>_<metric>` for every domain and metric (e.g.
    `val_target_hr@10`), `val_mean_<metric>` averaged over domains, and, when
    the first and last domains are not already called so, the aliases
    `val_source_<metric>` (first domain) and `val_target_<metric>` (last
    domain), so an objective written as `val_target_hr@10` works on any
    dataset. Place it before EarlyStopping, ModelCheckpoint, TensorBoard or a
    KerasTuner objective in the callbacks list: they read what it wrote.

    Args:
        split: a `tfcdr.data.splits.Split`.
        subset: "valid" (default) or "test" (only for curves, never selection).
        every: evaluate every this many epochs (the metrics are carried over
            in between so monitors always find them).
        prefix: key prefix, "val_" by default.
        metrics: metric names to put into logs (default every one).
        **evaluate_kwargs: passed to `tfcdr.evaluation.evaluate`.
    """

    def __init__(self, split, subset="valid", every=1, prefix="val_", metrics=None, **evaluate_kwargs):
        super().__init__()
        self.split = split
        self.subset = subset
        self.every = every
        self.prefix = prefix
        self.metrics = None if metrics is None else set(metrics)
        self.evaluate_kwargs = evaluate_kwargs
        self.last = {}

    def flatten(self, results):
        """Nested `evaluate` results -> flat `logs` entries."""
        flat = {}
        if self.metrics is not None:
            results = {n: {m: v for m, v in r.items() if m in self.metrics} for n, r in results.items()}
        names = list(results)
        for name, values in results.items():
            for metric, value in values.items():
                if metric != "users":
                    flat[f"{self.prefix}{name}_{metric}"] = value
        metrics = {m for values in results.values() for m in values if m != "users"}
        for metric in sorted(metrics):
            values = [results[n][metric] for n in names if metric in results[n]]
            flat[f"{self.prefix}mean_{metric}"] = float(np.mean(values))
            for role, name in (("source", names[0]), ("target", names[-1])):
                if role not in results and metric in results[name]:
                    flat[f"{self.prefix}{role}_{metric}"] = results[name][metric]
        return flat

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if (epoch + 1) % self.every == 0 or not self.last:
            results = evaluate(self.model, self.split, subset=self.subset, **self.evaluate_kwargs)
            self.last = self.flatten(results)
        logs.update(self.last)
