"""Layer importance by representation erasure (Nguyen et al., Fig. 2).

Following Li, Monroe and Jurafsky (2016), a unit's importance is how much
the model gets worse when the unit's output is erased (set to zero). The
paper compares log-likelihoods of the correct labels; we report both the
drop of that log-likelihood on the evaluation candidates (continuous, so
small effects show) and the drop of HR@10 (what the transfer study
measures).

Erasure is done by zeroing the unit's kernel column and bias: the unit's
pre-activation is then 0 and, since the tower's activation maps 0 to 0
(ReLU), its output is exactly 0 for every input. The weights are restored
afterwards, also on error.

Erasing a whole hidden layer of a plain MLP cuts every path from the input:
all pairs get one constant score, so the HR@10 drop is always "baseline
minus chance" whatever the layer. That is why Fig. 2 (and the report)
compare layers by their units' importances; whole-layer erasure
(`per_unit=False`) is kept as a sanity check.
"""

import contextlib

import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from tfcdr.data.splits import SampledEval
from tfcdr.errors import DataError
from tfcdr.evaluation import evaluate
from tfcdr.transfer.layer_transfer import _tower

METRIC = "hr@10"
LOG_LIKELIHOOD = "log_likelihood"


@contextlib.contextmanager
def erased(layer, units=None):
    """Within the block, `layer`'s output units `units` (default all) are zero.

    Args:
        layer: a Dense layer whose activation maps 0 to 0.
        units: indices of output units, or None for the whole layer.
    """
    if float(ops.convert_to_numpy(ops.sum(ops.abs(layer.activation(ops.zeros((1, 2))))))) != 0.0:
        raise DataError(f"erasure by zero weights needs activation(0) == 0; layer {layer.name!r} has another")
    kernel, bias = (np.array(w) for w in layer.get_weights())
    units = np.arange(kernel.shape[1]) if units is None else np.atleast_1d(units)
    new_kernel, new_bias = kernel.copy(), bias.copy()
    new_kernel[:, units] = 0.0
    new_bias[units] = 0.0
    layer.set_weights([new_kernel, new_bias])
    try:
        yield layer
    finally:
        layer.set_weights([kernel, bias])


def layer_importance(model, split, domain=None, subset="test", per_unit=True, metric=METRIC, batch_size=262144):
    """How much worse the model gets when each unit (or layer) of its tower is erased.

    Args:
        model: an `NCFMLP` (e.g. a trained source model).
        split: a split with sampled candidates (loo-sampled, cold-start).
        domain: the domain whose tower and evaluation set to use (default
            the model's last).
        subset: "test" or "valid".
        per_unit: erase one unit at a time (Fig. 2); False erases each whole
            layer instead (see the module docstring for why that only
            sanity-checks).
        metric: the evaluation metric whose drop is reported.
        batch_size: pairs scored per call for the log-likelihood.

    Returns:
        DataFrame with one row per erased unit (or layer, `unit` = -1):
        `layer`, `unit`, the metric after erasure, `drop` (baseline minus
        erased; positive = the unit matters), `log_likelihood` after
        erasure and `ll_drop`, its drop. `frame.attrs` holds the baselines.
    """
    tower = _tower(model, domain)
    domain = model.domains[-1] if domain is None else domain
    part = getattr(split.domains[domain], subset)
    if not isinstance(part, SampledEval):
        raise DataError(f"erasure importance needs sampled candidates; the {split.protocol} split has none")
    likelihood = _log_likelihood_fn(model, domain, part, batch_size)

    def measure():
        return evaluate(model, split, subset=subset, domains=[domain])[domain][metric], likelihood()

    base_metric, base_ll = measure()
    rows = []
    for layer in tower.hidden:
        for unit in range(layer.units) if per_unit else [None]:
            with erased(layer, unit):
                value, ll = measure()
            rows.append(
                {
                    "layer": layer.name,
                    "unit": -1 if unit is None else int(unit),
                    metric: value,
                    "drop": base_metric - value,
                    LOG_LIKELIHOOD: ll,
                    "ll_drop": base_ll - ll,
                }
            )
    frame = pd.DataFrame(rows)
    frame.attrs.update({"baseline": base_metric, "metric": metric, "baseline_log_likelihood": base_ll})
    return frame


def _log_likelihood_fn(model, domain, part, batch_size):
    """A function giving the mean log-likelihood of the correct labels on `part`.

    Per row: 0.5 * (log sigmoid(s_pos) + mean_j log(1 - sigmoid(s_neg_j))), so
    the positive and its negatives weigh the same, averaged over rows.
    """
    candidates = np.concatenate([part.items[:, None], part.negatives], axis=1)
    users = np.repeat(part.users, candidates.shape[1]).astype(np.int32)
    items = candidates.ravel().astype(np.int32)
    shape = candidates.shape
    score = tf.function(lambda u, i: model.score(domain, u, i), reduce_retracing=True)

    def compute():
        logits = np.concatenate(
            [
                np.asarray(score(users[s : s + batch_size], items[s : s + batch_size]))
                for s in range(0, len(users), batch_size)
            ]
        ).reshape(shape)
        positive = -np.logaddexp(0.0, -logits[:, 0])  # log sigmoid
        negative = -np.logaddexp(0.0, logits[:, 1:]).mean(axis=1)  # log(1 - sigmoid)
        return float(np.mean(0.5 * (positive + negative)))

    return compute
