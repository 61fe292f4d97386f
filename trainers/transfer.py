"""Layer transfer (Nguyen et al., 2020), written out: pre-train a source NCF-MLP, transfer its layers.

    source: load -> split -> build -> fit
    target: load -> split -> build with the source's layers (frozen) -> fit -> evaluate

`tfcdr transfer` runs whole studies (many sources, targets, configurations
and seeds) with reports; this script shows one source and one target.

Example:
    python trainers/transfer.py --source ml1m-multi:action \
        --target amazon-musical-instruments --configuration config-1
"""

import argparse

import keras

from tfcdr.data.datasets import load_dataset
from tfcdr.data.splits import make_split
from tfcdr.evaluation import evaluate
from tfcdr.models import build_model
from tfcdr.training import fit_model
from tfcdr.transfer import CONFIGURATIONS, build_target_model


def transfer(source, target, configuration="config-1", seed=0, epochs=20):
    """Trains a source model, then a target with `configuration`'s layers copied.

    Returns:
        (source model, target model, the target's test metrics).
    """
    # Source: one domain ("dataset:domain", or a dataset's domains merged).
    source_split = make_split(load_dataset(source), "loo-sampled", seed=seed)
    keras.utils.set_random_seed(seed)
    source_model = build_model("mlp", source_split)
    fit_model(source_model, source_split, epochs=epochs, seed=seed, verbose=0)
    # Target: the same architecture; the configuration's tower layers come from the source, frozen.
    target_split = make_split(load_dataset(target), "loo-sampled", seed=seed)
    keras.utils.set_random_seed(seed)
    target_model = build_target_model(source_model, target_split, configuration)
    fit_model(target_model, target_split, epochs=epochs, seed=seed, verbose=2)
    return source_model, target_model, evaluate(target_model, target_split, "test")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help='"dataset:domain", or a dataset for all its domains merged')
    parser.add_argument("--target", required=True)
    parser.add_argument("--configuration", default="config-1", choices=sorted(CONFIGURATIONS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    _, _, metrics = transfer(args.source, args.target, args.configuration, args.seed, args.epochs)
    for domain, values in metrics.items():
        print(domain, {name: round(value, 4) for name, value in values.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
