"""The model zoo: `MODELS` maps command-line names to a class and its preset.

A preset is a plain dict of constructor arguments; `training` holds the
defaults `tfcdr train` uses (epochs, batch size, learning rate, negatives).
Adding a method means adding one entry here.
"""

import dataclasses
import inspect
import math

from tfcdr.data.protocols import COLD_START, RATING
from tfcdr.models.adc import ADC
from tfcdr.models.bias import Bias
from tfcdr.models.bpr_mf import BPRMF
from tfcdr.models.cdfm import CDFM
from tfcdr.models.cdr_model import CDRModel, PointwiseModel
from tfcdr.models.cmf import CMF
from tfcdr.models.conet import CoNet
from tfcdr.models.ddtcdr import DDTCDR
from tfcdr.models.emcdr import EMCDR
from tfcdr.models.ncf_mlp import NCFMLP
from tfcdr.models.pop import Pop
from tfcdr.models.shared_vae_cdr import MOVIELENS_TRAINING, PRESETS, SharedVAECDR, sized_preset

TRAINING_DEFAULTS = {
    "epochs": 20,
    "batch_size": 256,
    "learning_rate": 1e-3,
    "negative_ratio": 4,
    "patience": 5,
    "steps_per_execution": 16,
    "monitor": "mean",
    # "sparse_adam" (row-sparse updates of embedding tables) or "adam" (Keras' dense Adam).
    "optimizer": "sparse_adam",
}
# The smallest value of each integer training option (a zero or negative
# batch size would train one step per epoch, not fail).
_TRAINING_MINIMUM = {"epochs": 1, "batch_size": 1, "negative_ratio": 1, "patience": 0, "steps_per_execution": 1}


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A zoo entry: class, constructor preset and training defaults."""

    cls: type
    preset: dict
    training: dict
    description: str
    protocol_presets: dict = dataclasses.field(default_factory=dict)
    # False for ablations and variants that need inputs the synthetic
    # default lacks: `tfcdr compare` without --models runs the others.
    main_job: bool = True
    # Constructor arguments filled from the split's encoded feature widths:
    # any of "user_feature_dim", "item_feature_dims", "auxiliary_dim".
    feature_args: tuple = ()
    # (preset, largest domain's item count) -> (preset, training, sentence):
    # presets chosen by the data's size (SharedVAE's MovieLens/Amazon).
    size_rule: object = None

    def training_options(self, **overrides):
        options = {**TRAINING_DEFAULTS, **self.training}
        options.update({k: v for k, v in overrides.items() if v is not None})
        return options


# Floors set from the split by prepare(): one pass of the pipeline and no learning.
FLOOR_TRAINING = {"epochs": 1, "patience": 1}

MODELS = {
    "pop": ModelSpec(
        Pop,
        {},
        FLOOR_TRAINING,
        "floor: items by training count in the domain (under rating: the item's mean rating)",
        protocol_presets={"rating": {"predict": "mean"}},
    ),
    "bias": ModelSpec(
        Bias,
        {},
        FLOOR_TRAINING,
        "floor: global mean + user + item biases by ridge least squares (ratings under rating; "
        "else the 0/1 matrix, ranking by item bias)",
        protocol_presets={"rating": {"fit_on": "observed"}},
    ),
    "mlp": ModelSpec(
        NCFMLP,
        {},
        {},
        "NCF-MLP per domain (embeddings 32, tower 64-32-16-8), single-domain baseline",
    ),
    "mlp-merged": ModelSpec(
        NCFMLP,
        {"share_users": True, "share_tower": True},
        {},
        "MLP++: one NCF-MLP (shared users and tower) trained on merged domains",
    ),
    "bpr-mf": ModelSpec(
        BPRMF,
        {},
        {"learning_rate": 5e-3, "batch_size": 1024},
        "BPR matrix factorization per domain (pairwise logistic loss)",
    ),
    "conet": ModelSpec(
        CoNet,
        {},
        {"batch_size": 128},
        "CoNet: two MLP towers (shared user embedding) joined by cross units on every layer, eq. 7",
        protocol_presets={RATING: {"loss_type": "mse"}},
    ),
    "conet-lasso": ModelSpec(
        CoNet,
        {"lasso_weight": 1e-3},
        {"batch_size": 128},
        "CoNet-lasso: CoNet with an L1 (lasso) penalty on the task relationship matrices, eq. 8",
        protocol_presets={RATING: {"loss_type": "mse"}},
    ),
    "cmf": ModelSpec(
        CMF,
        {},
        {"learning_rate": 5e-3, "batch_size": 1024},
        "CMF: user factors shared across domains, per-domain items (loss_type bce|mse|bpr, auxiliary_weight)",
        protocol_presets={RATING: {"loss_type": "mse"}},
    ),
    "emcdr": ModelSpec(
        EMCDR,
        {},
        {"learning_rate": 5e-3, "batch_size": 1024},
        "EMCDR: per-domain BPR-MF (MF under rating) plus an MLP map of source to target user factors "
        "for cold-start users",
        # Every domain of a cold-start split has cold users: map both ways.
        protocol_presets={RATING: {"loss_type": "mse"}, COLD_START: {"bidirectional": True}},
    ),
    "cdfm": ModelSpec(
        CDFM,
        {},
        {"learning_rate": 1e-2, "batch_size": 1024},
        "FM on merged domains: user, item and domain fields (+ optional side features); loss_type bce|mse",
        protocol_presets={RATING: {"loss_type": "mse"}},
    ),
    "adc": ModelSpec(
        ADC,
        {},
        {},
        "ADC: shared MLP over a user's per-domain factors, per-domain user vectors, GradNorm-balanced "
        "BPR losses (eqs. 1-5)",
        main_job=False,
    ),
    "adc-equal": ModelSpec(
        ADC,
        {"loss_weighting": "equal"},
        {},
        "ADC with equal domain weights w_k = 1 (no GradNorm)",
        main_job=False,
    ),
    "ddtcdr": ModelSpec(
        DDTCDR,
        {},
        {"batch_size": 512, "learning_rate": 2e-3},
        "DDTCDR: per-domain NCF rating networks, dual transfer through an orthogonal X (alpha 0.03); rating protocol",
        main_job=False,
    ),
    "ncf-rating": ModelSpec(
        DDTCDR,
        {"transfer_rate": 0.0},
        {"batch_size": 512, "learning_rate": 2e-3},
        "NCF rating baseline: DDTCDR's rating network per domain with alpha = 0",
        main_job=False,
    ),
    "ddtcdr-features": ModelSpec(
        DDTCDR,
        {},
        {"batch_size": 512, "learning_rate": 2e-3},
        "DDTCDR reading the dataset's user and item features through pretrained autoencoders, ids kept beside them",
        main_job=False,
        feature_args=("user_feature_dim", "item_feature_dims"),
    ),
    "cdfm-features": ModelSpec(
        CDFM,
        {},
        {"learning_rate": 1e-2, "batch_size": 1024},
        "CDFM with the dataset's user and item side features as extra fields (e.g. MovieLens demographics, genres)",
        protocol_presets={RATING: {"loss_type": "mse"}},
        main_job=False,
        feature_args=("user_feature_dim", "item_feature_dims"),
    ),
    "sharedvae": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae"],
        MOVIELENS_TRAINING,
        "SharedVAE: source and target VAEs linked at the latent layer (eq. 6), beta and MMD (n-256-128)",
        size_rule=sized_preset,
    ),
    "sharedvae-single0": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-single0"],
        MOVIELENS_TRAINING,
        "SharedVAE ablation Single0: target-only VAE, beta = 0",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-single": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-single"],
        MOVIELENS_TRAINING,
        "SharedVAE ablation Single: target-only VAE, beta > 0",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-merged0": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-merged0"],
        MOVIELENS_TRAINING,
        "SharedVAE ablation Merged0: one VAE on concatenated domains, beta = 0",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-merged": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-merged"],
        MOVIELENS_TRAINING,
        "SharedVAE ablation Merged: one VAE on concatenated domains, beta > 0",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-mmd0": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-mmd0"],
        MOVIELENS_TRAINING,
        "SharedVAE ablation MMD0: no MMD term",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-coldstart": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-coldstart"],
        MOVIELENS_TRAINING,
        "SharedVAE cold-start model (sec. 6): target decoder reads the mapped source latent",
        main_job=False,
        size_rule=sized_preset,
    ),
    "sharedvae-aux": ModelSpec(
        SharedVAECDR,
        PRESETS["sharedvae-aux"],
        MOVIELENS_TRAINING,
        "SharedVAE with a user-feature sub-encoder (sec. 7; width from the dataset's user features)",
        main_job=False,
        feature_args=("auxiliary_dim",),
        size_rule=sized_preset,
    ),
}


def main_job_models():
    """Names `tfcdr compare` runs when no --models are given."""
    return [name for name, spec in MODELS.items() if spec.main_job]


def preset_by_size(name, split):
    """(preset, training defaults, sentence) of zoo model `name` for `split`'s size.

    The entry's own preset and training defaults, with no sentence, for
    models without a size rule.
    """
    spec = get_spec(name)
    if spec.size_rule is None or split is None:
        return dict(spec.preset), {}, None
    return spec.size_rule(spec.preset, max(split.num_items.values()))


def hyperparameters(name):
    """Every key a config of zoo model `name` may hold: its constructor arguments and the training options.

    The sizes and names that come from the split (domains, users, items)
    are not hyperparameters.
    """
    import keras

    known = set(TRAINING_DEFAULTS)
    for cls in get_spec(name).cls.__mro__:
        if cls is keras.Model:
            break
        if "__init__" in vars(cls):
            known.update(inspect.signature(cls.__init__).parameters)
    return known - {"self", "kwargs", "domains", "num_users", "num_items", "name"}


def split_config(name, config, split=None):
    """Splits a flat hyperparameter dict into (model kwargs, training options).

    With `split`, training defaults chosen by the data's size (see
    `preset_by_size`) come before the config's.

    Raises:
        DataError: a key that is neither a constructor argument of the model
            nor a training option, or a training option of the wrong type
            or range.
    """
    from tfcdr.errors import DataError

    spec = get_spec(name)
    if config is not None and not isinstance(config, dict):
        raise DataError(f"the config of {name!r} must be a JSON object of hyperparameters", value=config)
    known = hyperparameters(name)
    model_kwargs = {}
    training = {}
    for key, value in (config or {}).items():
        if key not in known:
            raise DataError(f"{name!r} has no hyperparameter {key!r}; choose one of {sorted(known)}")
        if key in TRAINING_DEFAULTS:
            _check_training_option(key, value)
            training[key] = value
        else:
            model_kwargs[key] = value
    _, sized, _ = preset_by_size(name, split)
    return model_kwargs, spec.training_options(**{**sized, **training})


def _check_training_option(key, value):
    from tfcdr.errors import DataError

    if key == "optimizer":
        from tfcdr.training.sparse_adam import OPTIMIZERS

        if value not in OPTIMIZERS:
            raise DataError(f"training option 'optimizer' must be one of {sorted(OPTIMIZERS)}", value=value)
    elif key == "monitor":
        if not isinstance(value, str):
            raise DataError("training option 'monitor' must be 'mean', 'source', 'target' or a domain", value=value)
    elif key == "learning_rate":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
            raise DataError("training option 'learning_rate' must be a positive finite number", value=value)
    elif isinstance(value, bool) or not isinstance(value, int) or value < _TRAINING_MINIMUM[key]:
        raise DataError(f"training option {key!r} must be an integer >= {_TRAINING_MINIMUM[key]}", value=value)


def _feature_sizes(name, split, wanted):
    from tfcdr.data.features import encode_features
    from tfcdr.errors import DataError

    tables = encode_features(split)
    sizes = tables.sizes(split.domain_names)
    sizes["auxiliary_dim"] = sizes["user_feature_dim"]
    if not any(sizes[k] if k != "item_feature_dims" else any(sizes[k]) for k in wanted):
        raise DataError(f"model {name!r} reads features, but dataset {split.dataset!r} has none")
    return {k: sizes[k] for k in wanted}


def get_spec(name):
    from tfcdr.errors import DataError

    if name not in MODELS:
        raise DataError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    return MODELS[name]


def build_model(name, split, **model_kwargs):
    """Builds zoo model `name` sized for `split`'s users, items and domains."""
    spec = get_spec(name)
    # The protocol can decide a preset's loss (e.g. MSE under "rating");
    # explicit arguments still win.
    features = _feature_sizes(name, split, spec.feature_args) if spec.feature_args else {}
    preset, _, _ = preset_by_size(name, split)
    kwargs = {**preset, **spec.protocol_presets.get(split.protocol, {}), **features, **model_kwargs}
    from tfcdr.errors import DataError

    try:
        return spec.cls(
            domains=split.domain_names,
            num_users=split.num_users,
            num_items=split.num_items,
            name=name.replace("-", "_"),
            **kwargs,
        )
    except DataError:
        raise
    except (TypeError, ValueError) as error:
        # A config value of the wrong type or range reaches the constructor.
        raise DataError(f"model {name!r} cannot be built from its config: {error}") from error


__all__ = [
    "ADC",
    "BPRMF",
    "Bias",
    "CDFM",
    "CDRModel",
    "CMF",
    "CoNet",
    "DDTCDR",
    "EMCDR",
    "SharedVAECDR",
    "MODELS",
    "ModelSpec",
    "NCFMLP",
    "PointwiseModel",
    "Pop",
    "build_model",
    "hyperparameters",
    "main_job_models",
    "preset_by_size",
    "split_config",
]
