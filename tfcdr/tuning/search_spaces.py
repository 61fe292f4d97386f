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

- CoNet / CoNet-lasso (Hu et al., CIKM 2018, Figs. 5-7): `target_weight`
  (eq. 7's alpha) 0.2..0.8; which layers carry cross units; `lasso_weight`
  (eq. 8) log 1e-4..1e-1 for CoNet-lasso; negatives 1..5.
- DDTCDR (Li & Tuzhilin, WSDM 2020, Figs. 5-7): `transfer_rate` (alpha) on
  (0, 0.2], log scale (the paper picked 0.03 by Bayesian optimization).
- ADC (Rafailidis & Weiss, Figs. 3-4): `asymmetry` (gamma) 0..3 by 0.5 and
  the number of shared layers h 1..5.
- SharedVAE (Ahangama et al., Fig. 2 and sec. 5): `nonzero_weight` (beta),
  `mmd_weight`, `latent_dim`.
- CMF: the auxiliary domain's weight; EMCDR: factor size and map type;
  CDFM: factor size and L2.
Only what the papers tuned is searched; fixed choices stay in the model's
preset in `tfcdr.models.MODELS`. The layer-transfer configuration is chosen
by the `auto` rule of `tfcdr transfer` (best validation HR@10), not here.
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


def l2(hp, low=1e-5, high=1e-1):
    """{"l2": Float(low, high, log)}: L2 weight on the batch's embedding rows."""
    return {"l2": hp.Float("l2", low, high, sampling="log")}


def ncf_space(hp):
    """NCF's MLP: embedding size, learning rate, negatives per positive."""
    return {**embedding_dim(hp), **learning_rate(hp), **negative_ratio(hp)}


def bpr_space(hp):
    """BPR-MF: factor size, L2 regularization, learning rate."""
    return {**embedding_dim(hp, (8, 16, 32, 64, 128)), **l2(hp), **learning_rate(hp, (1e-3, 5e-3, 1e-2))}


# CoNet's cross-unit placements: every layer, the lower or upper half, one end.
CROSS_LAYERS = {"all": (1, 2, 3, 4), "lower": (1, 2), "upper": (3, 4), "first": (1,), "last": (4,)}


def conet_space(hp, lasso=False):
    """CoNet: target weight (eq. 7), cross-unit layers, negatives (+ lasso weight)."""
    config = {
        "target_weight": hp.Float("target_weight", 0.2, 0.8, step=0.1),
        "cross_layers": CROSS_LAYERS[hp.Choice("cross_layers", list(CROSS_LAYERS))],
        **learning_rate(hp, (5e-4, 1e-3, 5e-3)),
        **negative_ratio(hp, 1, 5),
    }
    if lasso:
        config["lasso_weight"] = hp.Float("lasso_weight", 1e-4, 1e-1, sampling="log")
    return config


def ddtcdr_space(hp):
    """DDTCDR: the transfer rate alpha on (0, 0.2], plus embedding size and step size."""
    return {
        "transfer_rate": hp.Float("transfer_rate", 0.005, 0.2, sampling="log"),
        **embedding_dim(hp, (8, 16, 32)),
        **learning_rate(hp, (5e-4, 1e-3, 2e-3, 5e-3)),
    }


# ADC's shared MLP of h = 1..5 layers (Fig. 3), named by its widths.
SHARED_LAYERS = {"-".join(["128"] * depth): [128] * depth for depth in range(1, 6)}


def adc_space(hp, gradnorm=True):
    """ADC: the number of shared layers h and (with GradNorm) the asymmetry gamma."""
    config = {
        "shared_layers": SHARED_LAYERS[hp.Choice("shared_layers", list(SHARED_LAYERS))],
        **learning_rate(hp, (5e-4, 1e-3, 5e-3)),
    }
    if gradnorm:
        config["asymmetry"] = hp.Float("asymmetry", 0.0, 3.0, step=0.5)
    return config


def sharedvae_space(hp, mmd=True):
    """SharedVAE: non-zero weight beta (eq. 8), latent size and (with MMD) its weight."""
    config = {
        "nonzero_weight": hp.Float("nonzero_weight", 0.0, 100.0, step=10.0),
        "latent_dim": hp.Choice("latent_dim", [32, 64, 128, 256]),
        **learning_rate(hp, (5e-4, 1e-3, 5e-3)),
    }
    if mmd:
        config["mmd_weight"] = hp.Float("mmd_weight", 0.01, 10.0, sampling="log")
    return config


def cmf_space(hp):
    """CMF: the auxiliary domains' loss weight, factor size, L2."""
    return {
        "auxiliary_weight": hp.Float("auxiliary_weight", 0.05, 2.0, sampling="log"),
        **embedding_dim(hp, (8, 16, 32, 64)),
        **l2(hp),
        **learning_rate(hp, (1e-3, 5e-3, 1e-2)),
    }


def emcdr_space(hp):
    """EMCDR: factor size and the mapping function (linear or MLP)."""
    return {
        "mapping": hp.Choice("mapping", ["linear", "mlp"]),
        **embedding_dim(hp, (10, 20, 32, 64)),
        **learning_rate(hp, (1e-3, 5e-3, 1e-2)),
    }


def fm_space(hp):
    """Factorization machine: factor size, L2, step size."""
    return {**embedding_dim(hp, (8, 16, 32, 64)), **l2(hp), **learning_rate(hp, (1e-3, 5e-3, 1e-2))}


SEARCH_SPACES = {
    "mlp": ncf_space,
    "mlp-merged": ncf_space,
    "bpr-mf": bpr_space,
    "conet": conet_space,
    "conet-lasso": lambda hp: conet_space(hp, lasso=True),
    "ddtcdr": ddtcdr_space,
    "ddtcdr-features": ddtcdr_space,
    "ncf-rating": lambda hp: {**embedding_dim(hp, (8, 16, 32)), **learning_rate(hp, (5e-4, 1e-3, 2e-3, 5e-3))},
    "adc": adc_space,
    "adc-equal": lambda hp: adc_space(hp, gradnorm=False),
    "sharedvae": sharedvae_space,
    "sharedvae-mmd0": lambda hp: sharedvae_space(hp, mmd=False),
    "cmf": cmf_space,
    "emcdr": emcdr_space,
    "cdfm": fm_space,
    "cdfm-features": fm_space,
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
