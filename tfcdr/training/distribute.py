"""Training on `tf.distribute` strategies, and the Keras 3 workarounds that needs.

`resolve_strategy` turns a name into a strategy: "default" (one device, the
strategy `tf.distribute.get_strategy()` returns outside any scope),
"mirrored" (`MirroredStrategy`, every local GPU, or the CPU) and
"multi-worker" (`MultiWorkerMirroredStrategy`, which reads the cluster and
this process' task from `TF_CONFIG` as TensorFlow does). A model must be
built inside `strategy.scope()` (Keras' rule: variables are created
mirrored there), so the caller builds it there and passes the strategy on
to `fit_model`, which compiles under the same scope.

Global-batch semantics: the batch size given to `fit_model` is the global
batch; each of the R replicas trains on its share of every step's global
batch (`replica_batches`) and the losses are scaled so that the summed
gradients equal those of one process on the whole batch (`replica_mean`,
`scale_for_replicas`). The learning rate therefore needs no change when
workers are added.

The Keras 3 workarounds (`DistributedFitFixes`) each name the upstream
issue; delete one when its issue is fixed in the pinned Keras.
"""

import functools
import logging

import tensorflow as tf
from keras import ops

logger = logging.getLogger("tfcdr")

STRATEGIES = ("default", "mirrored", "multi-worker")


@functools.cache
def _named_strategy(name):
    # Cached: a process may create MultiWorkerMirroredStrategy only once
    # (its collective ops are configured at creation).
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.MultiWorkerMirroredStrategy()


def resolve_strategy(strategy):
    """The `tf.distribute.Strategy` for `strategy` (a name of `STRATEGIES`, a strategy, or None)."""
    if strategy is None or isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {list(STRATEGIES)} or a tf.distribute.Strategy, got {strategy!r}")
    return _named_strategy(strategy)


def is_multi_worker(strategy):
    """True for a strategy whose replicas span several worker processes."""
    return strategy is not None and bool(strategy.extended._in_multi_worker_mode())


def is_chief(strategy=None):
    """Whether this process writes checkpoints, evaluates and exports (task 0, or a single process)."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    return resolver.task_type in (None, "chief") or (resolver.task_type == "worker" and resolver.task_id == 0)


def check_built_under(model, strategy):
    """Raises ValueError when `model`'s variables were not created under `strategy.scope()`."""
    variables = model.weights
    if variables and not isinstance(variables[0].value, tf.distribute.DistributedValues):
        if strategy.num_replicas_in_sync > 1 or is_multi_worker(strategy):
            raise ValueError(
                "the model was built outside the strategy's scope: build it inside "
                "`with strategy.scope():` (tfcdr.training.distribute.resolve_strategy gives the strategy), "
                "then pass the same strategy to fit_model"
            )


def _replica_context():
    """The replica context when more than one replica trains in sync, else None."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def replicated():
    """True inside a replica of a strategy that trains more than one replica in sync."""
    return _replica_context() is not None


def replica_mean(values, weights=None):
    """Mean of `values` (weighted by `weights`, same shape, if given) over the global batch, as this replica's share.

    Without replicas: `ops.mean(values)`, or `sum(weights * values) /
    max(sum(weights), 1)`. With R replicas the denominator is the sum over
    all replicas (an all-reduce), so the replicas' gradients, which the
    optimizer sums, are those of the global mean even when the replicas
    hold unequal shares (a domain's part of a batch rarely splits evenly).
    """
    context = _replica_context()
    if weights is None:
        if context is None:
            return ops.mean(values)
        total, count = ops.sum(values), ops.cast(ops.size(values), values.dtype)
    else:
        total, count = ops.sum(weights * values), ops.sum(weights)
        if context is None:
            return total / ops.maximum(count, 1.0)
    count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
    return total / ops.maximum(count, 1.0)


def scale_for_replicas(value):
    """`value / R` in a replica: a term averaged over this replica's rows as its share of the global one."""
    context = _replica_context()
    if context is None:
        return value
    return value * (1.0 / context.num_replicas_in_sync)


def unscale_for_replicas(value):
    """`value * R` in a replica: a share of a global mean back to the scale of the mean (for logs)."""
    context = _replica_context()
    if context is None:
        return value
    return value * float(context.num_replicas_in_sync)


def share_factor(rows):
    """`R * rows / N` in a replica holding `rows` of a global batch of N rows (1 without replicas)."""
    context = _replica_context()
    if context is None:
        return 1.0
    return rows * float(context.num_replicas_in_sync) / context.all_reduce(tf.distribute.ReduceOp.SUM, rows)


def sum_over_replicas(value):
    """All-reduce SUM of `value` (a tensor or a list of them) over the replicas; identity without replicas."""
    context = _replica_context()
    if context is None:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


def _shard(tensor, index, count):
    """Rows `index, index + count, ...` of `tensor`: replica `index`'s share of a global batch."""
    return tensor[index::count]


def replica_batches(make_dataset, strategy):
    """The `DistributedDataset` of `make_dataset()` with each global batch split over the replicas.

    Every worker builds the same global stream (the pipeline's seed is
    shared, so shuffling and negative sampling agree) and keeps the rows of
    its replicas (`tf.data` auto-sharding by data, done here because
    `experimental_distribute_dataset` re-batches each component on its
    own and would give a domain's rows and its labels to different
    replicas when the domain's part does not split evenly). A step's global
    batch is thus exactly the single-process batch, which is what makes a
    run on N workers equal to a run on one.

    Args:
        make_dataset: a callable returning the global-batch `tf.data.Dataset`.
        strategy: the strategy.

    Returns:
        A `tf.distribute.DistributedDataset`.
    """
    replicas = strategy.num_replicas_in_sync

    def per_worker(context):
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local
        dataset = make_dataset()

        def split(*element):
            pieces = tf.data.Dataset.range(local).map(
                lambda j: tf.nest.map_structure(lambda t: _shard(t, first + tf.cast(j, tf.int32), replicas), element)
            )
            return pieces

        # Repeated: Keras keeps one iterator over a distributed dataset for
        # all epochs; each pass of the generator is the next epoch.
        return dataset.repeat().flat_map(split)

    return strategy.distribute_datasets_from_function(per_worker)


def _first_replica_spec(spec):
    """A replica's `tf.TensorSpec` in a distributed dataset's element spec."""
    values = getattr(spec, "_value_specs", None)
    return values[0] if values else spec


class DistributedFitFixes:
    """Mixin of `keras.Model` subclasses: the Keras 3 `fit` fixes `MultiWorkerMirroredStrategy` needs.

    Each method is a no-op unless the model trains under a strategy that
    spans several workers, so single-process training runs Keras' own code.
    """

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # keras-team/keras#20585, #20329: Keras averages the first batch
        # across workers (`strategy.reduce("MEAN", batch)`) to learn its
        # shapes, which fails for integer ids and unequal shares, and draws
        # that batch from the stream (so training would start at the second
        # epoch of a re-iterated generator). Shapes and dtypes are all it
        # needs: they come from the dataset's element spec.
        strategy = self._distribute_strategy
        if iterator is None or not is_multi_worker(strategy):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        spec = iterator.data_adapter.get_tf_dataset().element_spec
        data_batch = tf.nest.map_structure(_first_replica_spec, spec, expand_composites=False)
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    def _make_function(self, step_function):
        # keras-team/keras#20585: Keras reduces the step's logs with
        # `strategy.reduce("MEAN", value, axis=0)`, which a scalar has no
        # axis 0 for ("Invalid reduction dimension 0 for input with 0
        # dimensions"). Logs are given a length-1 axis inside the replica
        # and lose it after the reduction.
        if not is_multi_worker(self._distribute_strategy):
            return super()._make_function(step_function)

        def step_with_vector_logs(data):
            return tf.nest.map_structure(lambda v: tf.reshape(v, [-1]), step_function(data))

        function = super()._make_function(step_with_vector_logs)

        def with_scalar_logs(iterator):
            return tf.nest.map_structure(
                lambda v: tf.reshape(v, []) if v.shape.num_elements() == 1 else v, function(iterator)
            )

        return with_scalar_logs


def steps_per_execution_for(strategy, steps_per_execution):
    """1 under a multi-replica strategy (keras-team/keras#19246), else `steps_per_execution`."""
    if strategy is None or steps_per_execution == 1:
        return steps_per_execution
    if strategy.num_replicas_in_sync > 1 or is_multi_worker(strategy):
        # keras-team/keras#19246: with steps_per_execution > 1 Keras' while
        # loop over a distributed iterator fails to trace under a strategy.
        logger.info(
            "steps_per_execution=%d set to 1 under %s (keras-team/keras#19246)",
            steps_per_execution,
            type(strategy).__name__,
        )
        return 1
    return steps_per_execution
