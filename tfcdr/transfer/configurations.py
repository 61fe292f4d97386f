"""The layer-transfer configurations of Nguyen et al., Table 1.

A configuration names which fully connected layers of the NCF-MLP tower
(`fc_1` .. `fc_4`, see `tfcdr.layers.MLPTower`) are copied from a source
model into a target model. User and item embeddings are never in a
configuration: source and target share no users or items.
"""

from tfcdr.errors import DataError

NONE = "none"
AUTO = "auto"
PREDICTION = "prediction"

# Table 1 of the paper: 1-4 transfer from the input side, 5-7 from the output
# side, both ending at the layer the name says.
CONFIGURATIONS = {
    NONE: (),
    "config-1": ("fc_1", "fc_2", "fc_3", "fc_4"),
    "config-2": ("fc_1", "fc_2", "fc_3"),
    "config-3": ("fc_1", "fc_2"),
    "config-4": ("fc_1",),
    "config-5": ("fc_2", "fc_3", "fc_4"),
    "config-6": ("fc_3", "fc_4"),
    "config-7": ("fc_4",),
}

# How copied layers are trained in the target: kept as copied, or fine-tuned.
MODES = ("frozen", "fine-tune")

# The last hidden layer: the single-unit `prediction` layer may travel with it.
OUTPUT_LAYER = "fc_4"
PREDICTION_SUFFIX = "+pred"


def transferred_layers(configuration, transfer_prediction=False):
    """Names of the tower layers a configuration copies.

    Args:
        configuration: a key of `CONFIGURATIONS`.
        transfer_prediction: when the configuration includes FC-4, also copy
            the one-unit `prediction` layer on top of it. The paper calls
            FC-4 the output layer and is silent on the logit layer NCF puts
            above it, so both readings are offered.

    Returns:
        Tuple of layer names, e.g. ("fc_3", "fc_4", "prediction").

    Raises:
        DataError: unknown configuration name.
    """
    if configuration not in CONFIGURATIONS:
        raise DataError(f"unknown transfer configuration {configuration!r}; choose one of {list(CONFIGURATIONS)}")
    layers = CONFIGURATIONS[configuration]
    if transfer_prediction and OUTPUT_LAYER in layers:
        layers = (*layers, PREDICTION)
    return layers


def variant_label(configuration, transfer_prediction=False):
    """Column label of a run: "config-6" or "config-6+pred".

    Configurations without FC-4 are unaffected by `transfer_prediction`, so
    they keep their plain name either way.
    """
    layers = transferred_layers(configuration, transfer_prediction)
    return configuration + (PREDICTION_SUFFIX if PREDICTION in layers else "")


def variants(configurations=None, prediction="both"):
    """(configuration, transfer_prediction) pairs to run, without duplicates.

    Args:
        configurations: names (default every one, "none" included).
        prediction: "with", "without" or "both": whether the `prediction`
            layer travels with FC-4.

    Returns:
        List of (configuration, transfer_prediction, label) triples.
    """
    choices = {"with": (True,), "without": (False,), "both": (False, True)}
    if prediction not in choices:
        raise DataError("prediction must be 'with', 'without' or 'both'", value=prediction)
    out, seen = [], set()
    for name in configurations or list(CONFIGURATIONS):
        for flag in choices[prediction]:
            label = variant_label(name, flag)
            if label not in seen:
                seen.add(label)
                out.append((name, flag, label))
    return out
