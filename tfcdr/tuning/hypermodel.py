"""CDRHyperModel: any zoo model as a KerasTuner HyperModel."""

import contextlib

import keras
import keras_tuner

from tfcdr.models import build_model, split_config
from tfcdr.training import fit_model
from tfcdr.training.sparse_adam import make_optimizer
from tfcdr.tuning.search_spaces import search_space


class CDRHyperModel(keras_tuner.HyperModel):
    """Builds and fits zoo model `model_name` on one split for a tuner.

    `build(hp)` draws a flat config from the search space, splits it with
    `tfcdr.models.split_config` and builds the model with
    `tfcdr.models.build_model`, compiled with the config's `optimizer`
    (row-sparse Adam unless set) at the drawn learning rate. `fit` goes
    through `tfcdr.training.fit_model`, whose
    `EvaluationCallback` writes `val_<domain>_<metric>` (and `val_mean_*`,
    `val_source_*`, `val_target_*`) into the logs before the tuner's own
    callbacks read the objective from them.

    Args:
        model_name: a key of `tfcdr.models.MODELS`.
        split: the `Split` to train and validate on (never its test sets).
        space: function(hp) -> flat config (default: the model's entry in
            `tfcdr.tuning.SEARCH_SPACES`).
        fixed: flat config applied under the drawn values (e.g. a
            `--config` file's contents).
        epochs: overrides the training epochs of every trial (Hyperband
            sets its own).
        seed: seeds weights, pipeline shuffling and negative sampling.
        verbose: Keras verbosity of each fit.

    Example:
        >>> hypermodel = CDRHyperModel("mlp", split, epochs=5)
        >>> tuner = keras_tuner.RandomSearch(
        ...     hypermodel, keras_tuner.Objective("val_target_hr@10", "max"),
        ...     max_trials=10)
        >>> tuner.search()
    """

    def __init__(self, model_name, split, space=None, fixed=None, epochs=None, seed=0, verbose=0):
        super().__init__(name=model_name.replace("-", "_"), tunable=True)
        self.model_name = model_name
        self.split = split
        self.space = space or search_space(model_name)
        self.fixed = dict(fixed or {})
        self.epochs = epochs
        self.seed = seed
        self.verbose = verbose
        self._declaring = False

    @contextlib.contextmanager
    def declaring_space(self):
        """Within it, `build` only declares hyperparameters.

        A tuner's constructor calls `build` to discover the search space. A
        full model there costs a build per tuner, and a config that cannot
        build would crash the constructor instead of failing a trial, where
        `run_search` reports it. `make_tuner` creates tuners inside this.
        """
        self._declaring = True
        try:
            yield self
        finally:
            self._declaring = False

    def config(self, hp):
        """The flat config of `hp` (fixed values, overridden by the drawn ones)."""
        return {**self.fixed, **self.space(hp)}

    def build(self, hp):
        config = self.config(hp)
        if self._declaring:
            return None
        model_kwargs, training = split_config(self.model_name, config, self.split)
        keras.utils.set_random_seed(self.seed)
        model = build_model(self.model_name, self.split, **model_kwargs)
        model.compile(
            optimizer=make_optimizer(training["optimizer"], training["learning_rate"]),
            steps_per_execution=training["steps_per_execution"],
        )
        return model

    def fit(self, hp, model, *args, epochs=None, initial_epoch=0, callbacks=(), verbose=None, **kwargs):
        """Trains `model` with `fit_model`; returns its `History`.

        `epochs`/`initial_epoch` come from Hyperband, which resumes a
        model trained for `initial_epoch` epochs and wants it at `epochs`.
        Other fit arguments given to `tuner.search` are not used: the data
        is the hypermodel's split.
        """
        _, training = split_config(self.model_name, self.config(hp), self.split)
        if epochs is not None:
            training["epochs"] = max(1, int(epochs) - int(initial_epoch))
        elif self.epochs is not None:
            training["epochs"] = self.epochs
        return fit_model(
            model,
            self.split,
            seed=self.seed,
            verbose=self.verbose if verbose is None else verbose,
            callbacks=list(callbacks),
            **{**training, "optimizer": model.optimizer},
        )
