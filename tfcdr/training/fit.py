"""`fit_model`: compile and fit any zoo model on a split with the standard callbacks."""

import contextlib
import math
import warnings

import keras

from tfcdr.data import inputs
from tfcdr.data.protocols import get_protocol
from tfcdr.errors import DataError
from tfcdr.evaluation import EvaluationCallback, headline_metric
from tfcdr.training import distribute
from tfcdr.training.resumable_backup import ResumableBackup
from tfcdr.training.sparse_adam import DEFAULT_OPTIMIZER, make_optimizer


def monitor_for(protocol, monitor="mean"):
    """(logs key, mode) that model selection watches.

    Args:
        protocol: the split's protocol; its headline metric is watched.
        monitor: "mean" (over domains), "source" (first domain), "target"
            (last domain) or a domain name.
    """
    metric, mode = headline_metric(protocol)
    return f"val_{monitor}_{metric}", mode


def fit_model(
    model,
    split,
    epochs=20,
    batch_size=256,
    learning_rate=1e-3,
    negative_ratio=4,
    patience=5,
    steps_per_execution=16,
    monitor="mean",
    seed=0,
    log_dir=None,
    verbose=1,
    callbacks=(),
    optimizer=DEFAULT_OPTIMIZER,
    backup_dir=None,
    strategy=None,
):
    """Trains `model` on `split` and keeps the weights of its best validation epoch.

    The evaluation callback adds `val_<domain>_<metric>` to the logs each
    epoch; EarlyStopping watches the protocol's headline metric (averaged
    over domains unless `monitor` names one) and restores the best epoch's
    weights, so test data never choose anything. TensorBoard logs go to
    `log_dir` when given. A loss that becomes NaN or infinite stops
    training (`TerminateOnNaN`) and raises `DataError`, so a diverged run
    never reports metrics.

    Args:
        model: a `tfcdr.models.CDRModel`.
        split: the `Split` to train on.
        epochs, batch_size, learning_rate, negative_ratio, patience,
        steps_per_execution: training options (`negative_ratio` is used by
            pointwise models only).
        monitor: which validation figure picks the epoch: "mean" over the
            domains, "source", "target" or a domain name. A model whose
            aim is one domain (SharedVAE's target) watches that domain.
        seed: seeds the pipeline's shuffling and negative sampling.
        log_dir: TensorBoard directory, or None.
        verbose: Keras verbosity.
        callbacks: extra callbacks, run after the evaluation callback.
        optimizer: "sparse_adam" (default: `SparseAdam(learning_rate)`, whose
            embedding-table updates touch only the batch's rows, so a step
            costs the same at 10 k or 1 M users), "adam" (Keras' Adam, which
            updates whole tables and both moments every step) or a Keras
            optimizer instance, used as it is.
        backup_dir: a folder to back training up into after every epoch
            (`ResumableBackup`: weights, optimizer state, EarlyStopping's
            state and the epoch logs). A `fit_model` given a folder that
            holds a backup resumes from its last finished epoch and ends
            with the same weights and history as an uninterrupted run;
            the pipeline draws each epoch's negatives and order from
            (seed, epoch). The caller removes the folder when done.
        strategy: None (no strategy), "default", "mirrored", "multi-worker"
            (the cluster from `TF_CONFIG`) or a `tf.distribute.Strategy`.
            Build the model inside `strategy.scope()` first (Keras' rule;
            `tfcdr.training.distribute.resolve_strategy` turns a name into
            the strategy), e.g. `strategy = resolve_strategy("multi-worker")`,
            `with strategy.scope(): model = build_model(...)`, then
            `fit_model(model, split, strategy=strategy)`. `batch_size` is
            the global batch, split over the replicas; see
            `tfcdr.training.distribute` for the scaling.

    Returns:
        The Keras `History`.

    Raises:
        DataError: the loss became NaN or infinite.
    """
    roles = ("mean", "source", "target", *split.domain_names)
    if monitor not in roles:
        raise DataError(f"monitor must be one of {list(roles)}, got {monitor!r}")
    strategy = distribute.resolve_strategy(strategy)
    model.prepare(split)

    def make_dataset():
        return inputs.training_dataset(
            split, model.input_kind, batch_size=batch_size, negative_ratio=negative_ratio, seed=seed
        )

    dataset = make_dataset()
    steps_per_epoch = None
    scope = contextlib.nullcontext()
    if strategy is not None:
        distribute.check_built_under(model, strategy)
        steps_per_execution = distribute.steps_per_execution_for(strategy, steps_per_execution)
        if strategy.num_replicas_in_sync > 1:
            steps_per_epoch = int(dataset.cardinality())
            dataset = distribute.replica_batches(make_dataset, strategy)
        scope = strategy.scope()
    with scope:
        model.compile(
            optimizer=make_optimizer(optimizer, learning_rate),
            steps_per_execution=steps_per_execution,
        )
    monitor, mode = monitor_for(split.protocol, monitor)
    early_stopping = keras.callbacks.EarlyStopping(
        monitor=monitor, mode=mode, patience=patience, restore_best_weights=True, verbose=0
    )
    backup = None if backup_dir is None else ResumableBackup(backup_dir, early_stopping)
    all_callbacks = [
        keras.callbacks.TerminateOnNaN(),
        EvaluationCallback(split, metrics=get_protocol(split.protocol).logged),
        early_stopping,
        *([backup] if backup else []),
        # Each epoch draws from (seed, epoch), also when a resumed fit starts at a later epoch (the
        # replica-sharded stream of several workers keeps its own order: no resume there).
        *(
            [keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: dataset.epoch_source.start(epoch))]
            if hasattr(dataset, "epoch_source")
            else []
        ),
        *callbacks,
    ]
    if log_dir is not None and distribute.is_chief(strategy):
        all_callbacks.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    with warnings.catch_warnings():
        # Floors (Pop, Bias) are set by `prepare` and have nothing to train, by design.
        warnings.filterwarnings("ignore", "The model does not have any trainable weights")
        history = model.fit(
            dataset,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=all_callbacks,
            verbose=verbose,
            shuffle=False,
        )
    if backup is not None and backup.restored_logs:
        # The epochs before the resume come from the backup.
        done = backup.restored_logs
        history.epoch = list(range(len(done))) + history.epoch
        keys = dict.fromkeys([*done[0], *history.history])
        history.history = {k: [logs[k] for logs in done if k in logs] + history.history.get(k, []) for k in keys}
    losses = history.history.get("loss", [])
    if any(not math.isfinite(value) for value in losses):
        epoch = next(i for i, value in enumerate(losses) if not math.isfinite(value)) + 1
        raise DataError(
            f"training stopped in epoch {epoch}: the loss became {losses[epoch - 1]} "
            f"(learning_rate={learning_rate}); lower the learning rate or check the config"
        )
    return history
