"""Search spaces: model name -> function(hp) -> flat hyperparameter dict.

A space returns the same flat dict `tfcdr train --config` reads: model
constructor arguments and training options (`learning_rate`, `batch_size`,
`negative_ratio`, ... the keys of `tfcdr.models.TRAINING_DEFAULTS`), which
`tfcdr.models.split_config` separates. Tuning a new model needs only its
entry in `SEARCH_SPACES`, composed from the helpers below; a model without
an entry gets `default_space` (learning rate, plus `embedding_dim` when its
constructor takes one).

Ranges follow the papers that define the models:

- NCF (He et al., WWW 2017), for mlp / mlp-merged: predictive factors
  (embedding size) {8, 16, 32, 64}, learning rate {1e-4, 5e-4, 1e-3, 5e-3},
  1-10 sampled negatives per positive (Fig. 7; best around 3-6).
- BPR-MF (Rendle et al., UAI 2009): factors {8, ..., 128}, L2 regularization
  1e-6..1e-2 (log scale), learning rate {1e-3, 5e-3, 1e-2}.

Guidance for the entries other models add (hyperparameter names are the
models' constructor arguments; values from the papers):

- conet / conet-lasso (Hu et al., CIKM 2018): `target_weight` (the loss
  weight of the target domain, lambda) `hp.Float(..., 0.2, 0.8, step=0.1)`;
  `cross_layers` (which tower layers have cross units) among a few
  `hp.Choice` presets; `lasso_weight` `hp.Float(..., 1e-5, 1e-2,
  sampling="log")` for conet-lasso; plus `learning_rate(hp)` and
  `negative_ratio(hp)`.
- ddtcdr (Li & Tuzhilin, WSDM 2020): `transfer_rate` (alpha)
  `hp.Float(..., 0.1, 0.9, step=0.1)`, `embedding_dim(hp)`,
  `learning_rate(hp)`.
- any model: only tune what the paper tuned; fixed choices go into the
  model's preset in `tfcdr.models.MODELS`, not into a one-value Choice.
"""

import inspect

from tfcdr.models import get_spec


def embedding_dim(hp, values=(8, 16, 32, 64)):
    """{"embedding_dim": Choice(values)}."""
    return {"embedding_dim": hp.Choice("embedding_dim", list(values))}


def learning_rate(hp, values=(1e-4, 5e-4, 1e-3, 5e-3)):
    """{"learning_rate": Choice(values)}: Adam's step size."""
    return {"learning_rate": hp.Choice("learning_rate", list(values))}


def negative_ratio(hp, low=1, high=10):
    """{"negative_ratio": Int(low, high)}: sampled negatives per positive."""
    return {"negative_ratio": hp.Int("negative_ratio", low, high)}


def l2(hp, low=1e-6, high=1e-2):
    """{"l2": Float(low, high, log)}: L2 weight on embeddings."""
    return {"l2": hp.Float("l2", low, high, sampling="log")}


def ncf_space(hp):
    """NCF's MLP: embedding size, learning rate, negatives per positive."""
    return {**embedding_dim(hp), **learning_rate(hp), **negative_ratio(hp)}


def bpr_space(hp):
    """BPR-MF: factor size, L2 regularization, learning rate."""
    return {**embedding_dim(hp, (8, 16, 32, 64, 128)), **l2(hp), **learning_rate(hp, (1e-3, 5e-3, 1e-2))}


SEARCH_SPACES = {
    "mlp": ncf_space,
    "mlp-merged": ncf_space,
    "bpr-mf": bpr_space,
}


def default_space(name):
    """The space of a model without an entry: learning rate (+ embedding_dim)."""
    takes_embedding = "embedding_dim" in inspect.signature(get_spec(name).cls.__init__).parameters

    def space(hp):
        config = learning_rate(hp)
        if takes_embedding:
            config.update(embedding_dim(hp))
        return config

    return space


def search_space(name):
    """The space function of model `name` (its entry, else `default_space`)."""
    get_spec(name)  # a clear error for unknown names
    return SEARCH_SPACES.get(name) or default_space(name)
