"""Network-based layer transfer between one-domain NCF-MLP models (Nguyen et al.).

The target model is an ordinary `tfcdr.models.NCFMLP` with the source's
architecture; the tower layers a configuration names get the source's
weights and, unless fine-tuned, `trainable = False`. Its user and item
embeddings are always its own (the paper's domain-specific parameters v_T,
eq. 6): source and target need share no users or items.
"""

import numpy as np

from tfcdr.errors import DataError
from tfcdr.models.ncf_mlp import NCFMLP
from tfcdr.transfer.configurations import PREDICTION, transferred_layers

# Architecture arguments a target inherits from its source so the copied
# kernels fit; the rest of NCFMLP's arguments are free per target.
ARCHITECTURE = ("embedding_dim", "hidden_units")


def tower_layer(tower, name):
    """The Dense sublayer `fc_k` or `prediction` of an `MLPTower`."""
    if name == PREDICTION:
        return tower.prediction
    for layer in tower.hidden:
        if layer.name == name:
            return layer
    raise DataError(f"tower {tower.name!r} has no layer {name!r}; it has {[x.name for x in tower.hidden]}")


def transfer_layers(
    source_model,
    target_model,
    configuration,
    source_domain=None,
    target_domain=None,
    fine_tune=False,
    transfer_prediction=False,
):
    """Copies the tower layers named by `configuration` from source to target.

    Only tower weights move (kernels and biases of `fc_k`, and of
    `prediction` when asked); embeddings never do. Copied layers get
    `trainable = not fine_tune`, which Keras honours in `compile`/`fit`: a
    frozen layer is left out of `trainable_weights`, so the optimizer never
    touches it. Set it before `fit_model` (which compiles); changing it
    after compiling needs a recompile.

    Args:
        source_model: a trained `NCFMLP`.
        target_model: an `NCFMLP` with the same `embedding_dim` and
            `hidden_units`.
        configuration: a key of `tfcdr.transfer.CONFIGURATIONS`.
        source_domain, target_domain: whose tower to read and write (default:
            the model's only, or last, domain).
        fine_tune: copy but keep trainable (initialization-only transfer).
        transfer_prediction: also copy the one-unit `prediction` layer when
            FC-4 is copied.

    Returns:
        Tuple of the copied layer names.

    Raises:
        DataError: unknown configuration or domain, or layers whose shapes
            differ between the models.
    """
    names = transferred_layers(configuration, transfer_prediction)
    source_tower = _tower(source_model, source_domain)
    target_tower = _tower(target_model, target_domain)
    for name in names:
        source, target = tower_layer(source_tower, name), tower_layer(target_tower, name)
        source_shapes = [tuple(w.shape) for w in source.weights]
        target_shapes = [tuple(w.shape) for w in target.weights]
        if source_shapes != target_shapes:
            raise DataError(
                f"layer {name!r} has shapes {source_shapes} in the source and {target_shapes} in the "
                "target; build the target with the source's embedding_dim and hidden_units"
            )
        # Copies, not shared variables: later training of either model must
        # not move the other.
        target.set_weights([np.array(w) for w in source.get_weights()])
        target.trainable = bool(fine_tune)
    return names


def build_target_model(
    source_model,
    split,
    configuration,
    source_domain=None,
    fine_tune=False,
    transfer_prediction=False,
    **model_kwargs,
):
    """A new one-domain `NCFMLP` for `split` with layers copied from `source_model`.

    The target takes the source's `embedding_dim` and `hidden_units` (so the
    copied kernels fit) plus its `dropout`, `l2` and `embedding_stddev`
    unless `model_kwargs` override them. Seed with
    `keras.utils.set_random_seed` before calling, so runs of several
    configurations on one target start from the same untransferred weights.

    Args:
        source_model: a trained `NCFMLP`.
        split: the target's one-domain `Split`.
        configuration: a key of `CONFIGURATIONS`; "none" builds the
            from-scratch baseline with the same architecture.
        source_domain: the source model's domain to copy from.
        fine_tune, transfer_prediction: see `transfer_layers`.
        **model_kwargs: other `NCFMLP` arguments.

    Returns:
        The target `NCFMLP` (uncompiled).
    """
    if len(split.domain_names) != 1:
        raise DataError(
            f"layer transfer trains a one-domain target; the split has domains {split.domain_names} "
            "(load one with tfcdr.data.load_dataset('<dataset>:<domain>'))"
        )
    inherited = source_model.get_config()
    kwargs = {k: inherited[k] for k in (*ARCHITECTURE, "dropout", "l2", "embedding_stddev")}
    clash = {k for k in ARCHITECTURE if k in model_kwargs and _norm(model_kwargs[k]) != _norm(kwargs[k])}
    if clash:
        raise DataError(f"the target must keep the source's {sorted(clash)} for the layers to fit")
    kwargs.update(model_kwargs)
    target = NCFMLP(
        domains=split.domain_names,
        num_users=split.num_users,
        num_items=split.num_items,
        name=f"transfer_{configuration.replace('-', '_')}",
        **kwargs,
    )
    transfer_layers(
        source_model,
        target,
        configuration,
        source_domain=source_domain,
        fine_tune=fine_tune,
        transfer_prediction=transfer_prediction,
    )
    return target


def frozen_layer_names(model, domain=None):
    """Names of the tower layers of `model` that training leaves unchanged."""
    tower = _tower(model, domain)
    layers = [*tower.hidden, tower.prediction]
    return tuple(layer.name for layer in layers if not layer.trainable)


def _tower(model, domain):
    if not isinstance(model, NCFMLP):
        raise DataError(f"layer transfer works on NCFMLP models, got {type(model).__name__}")
    domain = model.domains[-1] if domain is None else domain
    model.check_domain(domain)
    return model.towers[domain]


def _norm(value):
    return tuple(value) if isinstance(value, list | tuple) else value
