"""Training throughput of CoNet against two separate NCF-MLPs of the same size.

Both are the zoo's models with their default sizes (shared or per-domain
user embedding 32, towers 64-32-16-8): `mlp` is two independent NCF-MLPs,
one per domain, fed by `pipelines.pointwise`; `conet` is the two towers
joined by cross units on every layer, fed by the user-paired pipeline. Per
epoch both see exactly the same number of labelled examples: every training
positive of each domain plus `--negatives` sampled negatives each. So
examples/second compares the cost of one pass over the same data. A batch
means what each pipeline means by it: examples per step summed over the
domains for the MLPs, user rows per step for CoNet, where a row holds one
example of each domain when the user's examples could be paired (so CoNet
takes fewer, fuller steps; the examples/step column shows it).

Each fit is compiled as `tfcdr.training.fit_model` compiles it (Adam,
`steps_per_execution`) without the evaluation callback; its first epoch
(tracing) is not timed. Rounds alternate the models so that a change of
machine load hits both. Wall and process CPU time are printed, with the
ratio CoNet / MLPs; nothing is asserted.

Example:

    python benchmarks/conet_speed.py --dataset ml1m-genre --batch-sizes 128,1024
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from timing import EpochTimer, machine_facts  # noqa: E402

from tfcdr.data import inputs  # noqa: E402
from tfcdr.data.datasets import default_data_dir, load_dataset  # noqa: E402
from tfcdr.data.splits import make_split  # noqa: E402
from tfcdr.models import build_model  # noqa: E402

MODELS = ("mlp", "conet")


def examples_per_epoch(split, negatives):
    return sum(len(split.domains[d].train) for d in split.domain_names) * (1 + negatives)


def time_fit(name, split, args, batch_size):
    """(wall, cpu) seconds of each timed epoch of one fit of zoo model `name`, and its steps per epoch."""
    keras.utils.set_random_seed(args.seed)
    model = build_model(name, split)
    model.prepare(split)
    dataset = inputs.training_dataset(
        split, model.input_kind, batch_size=batch_size, negative_ratio=args.negatives, seed=args.seed
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=args.steps_per_execution)
    timer = EpochTimer()
    model.fit(dataset, epochs=1 + args.epochs, verbose=0, shuffle=False, callbacks=[timer])
    return timer.seconds[1:], int(dataset.cardinality())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml1m-genre")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--batch-sizes", default="128,1024", help="comma-separated rows per step")
    parser.add_argument("--negatives", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per fit (after one untimed)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps-per-execution", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.rounds < 1:
        parser.error("--epochs and --rounds must be >= 1")

    for key, value in machine_facts().items():
        print(f"- {key}: {value}")
    data = load_dataset(args.dataset, args.data_dir or default_data_dir())
    split = make_split(data, "loo-sampled", seed=args.seed)
    count = examples_per_epoch(split, args.negatives)
    print(
        f"- data: {args.dataset}, loo-sampled split seed {args.seed}; {count:,} labelled examples per epoch "
        f"(positives of {' + '.join(split.domain_names)} x (1 + {args.negatives}))"
    )
    print(f"- {args.epochs} timed epochs x {args.rounds} rounds per model; median epoch\n")
    print("| batch | model | examples/step | examples/s (wall) | examples/s (CPU) | epoch wall s |")
    print("|---:|---|---:|---:|---:|---:|")
    ratios = {}
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        epochs = {name: [] for name in MODELS}
        steps = {}
        for _ in range(args.rounds):
            for name in MODELS:
                seconds, steps[name] = time_fit(name, split, args, batch_size)
                epochs[name].extend(seconds)
        medians = {name: np.median(np.array(rows), axis=0) for name, rows in epochs.items()}
        for name in MODELS:
            wall, cpu = medians[name]
            label = "two NCF-MLPs (`mlp`)" if name == "mlp" else "CoNet (`conet`)"
            print(
                f"| {batch_size} | {label} | {count / steps[name]:,.0f} | {count / wall:,.0f} | "
                f"{count / cpu:,.0f} | {wall:.1f} |"
            )
        ratios[batch_size] = medians["mlp"] / medians["conet"]
    print()
    for batch_size, (wall, cpu) in ratios.items():
        print(f"batch {batch_size}: CoNet throughput = {wall:.2f}x (wall), {cpu:.2f}x (CPU) that of two NCF-MLPs")


if __name__ == "__main__":
    main()
