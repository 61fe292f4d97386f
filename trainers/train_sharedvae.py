"""Train and evaluate SharedVAE or one of its variants; options as `tfcdr train`.

`--variant` picks the zoo entry (default `sharedvae`): `sharedvae-single0`,
`sharedvae-single`, `sharedvae-merged0`, `sharedvae-merged`, `sharedvae-mmd0`,
`sharedvae-coldstart` (defaults to the cold-start protocol) or `sharedvae-aux`,
which one-hot encodes the dataset's user table (MovieLens users.dat: gender,
age, occupation, zip prefix) as the auxiliary vector of sec. 7. For Amazon
sizes pass a config with `tfcdr.models.shared_vae_cdr.AMAZON_PRESET` and
`AMAZON_TRAINING`.

Example:
    python trainers/train_sharedvae.py --variant sharedvae --dataset ml1m-genre --output runs/sharedvae
"""

import argparse
import pathlib
import sys

from common import run


def _auxiliary(argv):
    """`tfcdr train` for sharedvae-aux with the user features put on the split."""
    from tfcdr import experiment, results
    from tfcdr.data.datasets import load_dataset
    from tfcdr.data.splits import make_split
    from tfcdr.errors import DataError
    from tfcdr.models.cdfm import encode_side_features

    parser = argparse.ArgumentParser(prog="train_sharedvae.py --variant sharedvae-aux")
    parser.add_argument("--dataset", default="ml1m-genre")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--protocol", default="loo-sampled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--config", default=None)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    try:
        data = load_dataset(args.dataset, data_dir=args.data_dir)
        features, _ = encode_side_features(data)
        if features is None:
            raise DataError(
                f"dataset {args.dataset!r} has no user features for sharedvae-aux"
            )
        split = make_split(data, args.protocol, seed=args.seed)
        split.user_features = features  # read by SharedVAECDR.prepare
        config = experiment.load_config(args.config) if args.config else {}
        config["auxiliary_dim"] = int(features.shape[1])
        output = pathlib.Path(
            args.output
            or f"runs/sharedvae-aux-{args.dataset}-{args.protocol}-seed{args.seed}"
        )
        result, _ = experiment.run_experiment(
            "sharedvae-aux",
            seed=args.seed,
            epochs=args.epochs,
            config=config,
            split=split,
            output=output,
            verbose=2,
        )
    except DataError as error:
        print(f"train_sharedvae: error: {error}", file=sys.stderr)
        return 2
    print(results.headline_line(result))
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--variant", default="sharedvae")
    known, rest = parser.parse_known_args(argv)
    if known.variant == "sharedvae-aux":
        return _auxiliary(rest)
    protocol = "cold-start" if known.variant == "sharedvae-coldstart" else "loo-sampled"
    return run(known.variant, default_protocol=protocol, argv=rest)


if __name__ == "__main__":
    sys.exit(main())
