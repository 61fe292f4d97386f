"""Network-based layer transfer for recommendation (Nguyen et al., 2020).

Pre-train a one-domain NCF-MLP on a source domain, copy the tower layers a
configuration names (Table 1) into an NCF-MLP for an unrelated target
domain, freeze them (or fine-tune them) and train the rest, i.e. the
target's own embeddings. Also: relatedness by KL-divergence of activity
histograms (eq. 8), Pearson correlations (Fig. 3, Table 6), layer importance
by representation erasure (Fig. 2) and the `auto` configuration chosen on
validation.

Example:

    from tfcdr.transfer import TransferStudy, gains
    study = TransferStudy(training={"epochs": 20})
    runs = study.run(["ml1m-multi:*"], ["amazon-musical-instruments"], seeds=[0])
    print(gains(runs))

The names below load their module on first use (PEP 562), so importing
`tfcdr.transfer.command` to build the `tfcdr` command line does not import
TensorFlow; `tfcdr --help` stays instant.
"""

import importlib

# Public name -> the module defining it (an explicit table, read on first use).
_EXPORTS = {
    "auto_choice": "analysis",
    "auto_summary": "analysis",
    "correlations": "analysis",
    "gains": "analysis",
    "mean_scores": "analysis",
    "AUTO": "configurations",
    "CONFIGURATIONS": "configurations",
    "MODES": "configurations",
    "NONE": "configurations",
    "transferred_layers": "configurations",
    "variant_label": "configurations",
    "variants": "configurations",
    "erased": "erasure",
    "layer_importance": "erasure",
    "build_target_model": "layer_transfer",
    "frozen_layer_names": "layer_transfer",
    "transfer_layers": "layer_transfer",
    "activity_bins": "kl_relatedness",
    "activity_histogram": "kl_relatedness",
    "domain_statistics": "kl_relatedness",
    "interactions_per_user": "kl_relatedness",
    "kl_divergence": "kl_relatedness",
    "pearson": "kl_relatedness",
    "relatedness": "kl_relatedness",
    "TransferStudy": "study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tfcdr.transfer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tfcdr.transfer.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
