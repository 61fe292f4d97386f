"""Train and evaluate any zoo model: the library's steps, written out to copy and adapt.

    load -> split -> build -> fit -> evaluate -> write

`tfcdr train` runs the same steps and also writes the run record that
`tfcdr leaderboard` reads; this script is the readable version to start your
own training code from. The models and the protocol each paper used are
listed in trainers/README.md.

Example:
    python trainers/train.py --model conet-lasso --dataset douban-book-music --epochs 20
"""

import argparse
import json
import pathlib

import keras

from tfcdr.data.datasets import load_dataset
from tfcdr.data.protocols import PROTOCOLS
from tfcdr.data.splits import make_split
from tfcdr.evaluation import evaluate
from tfcdr.models import MODELS, build_model, split_config
from tfcdr.training import fit_model


def train(model_name, dataset="synthetic", protocol="loo-sampled", seed=0, epochs=None, config=None, output=None):
    """Trains one zoo model on one seeded split; returns (model, test metrics per domain)."""
    # 1. Load: a recipe name, a path to your own files, or "synthetic".
    data = load_dataset(dataset)
    print(data.describe_text())
    # 2. Split: deterministic for the seed; every model compared on it sees the same candidates.
    split = make_split(data, protocol, seed=seed)
    # 3. Build: the zoo entry's preset, overridden by `config` (model arguments and training options).
    model_kwargs, training = split_config(model_name, config)
    if epochs is not None:
        training["epochs"] = epochs
    keras.utils.set_random_seed(seed)
    model = build_model(model_name, split, **model_kwargs)
    # 4. Fit: early stopping on the protocol's validation metric restores the best epoch.
    fit_model(model, split, seed=seed, verbose=2, **training)
    # 5. Evaluate on test, every domain.
    metrics = evaluate(model, split, "test")
    # 6. Write: the model (reloads without custom_objects) and its metrics.
    if output is not None:
        output = pathlib.Path(output)
        output.mkdir(parents=True, exist_ok=True)
        model.save(output / "model.keras")
        (output / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return model, metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--protocol", default="loo-sampled", choices=list(PROTOCOLS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--config", default=None, help="JSON object of hyperparameters")
    parser.add_argument("--output", default=None, help="folder for model.keras and metrics.json")
    args = parser.parse_args(argv)
    config = json.loads(args.config) if args.config else None
    _, metrics = train(args.model, args.dataset, args.protocol, args.seed, args.epochs, config, args.output)
    for domain, values in metrics.items():
        print(domain, {name: round(value, 4) for name, value in values.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
