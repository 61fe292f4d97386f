"""Scale: does a training step cost the same with 10 k and with 1 M users?

Measures, in one process, the CPU time of one training step of zoo models
at batch 4,096 with 10 k and with 1 M users (items grow as the square root:
2 k and 20 k per domain, two domains), for the default row-sparse optimizer
(`tfcdr.training.SparseAdam`) and for Keras' dense Adam. Each model is built
directly from sizes (no dataset of 1 M users is generated) and fed random
batches of the input it trains on (`model.input_kind`), compiled as
`tfcdr.training.fit_model` compiles it (the zoo's `steps_per_execution`).
Rounds alternate between the sizes and optimizers so that machine load
falls on all of them alike; the figure per cell is the median over rounds
of CPU seconds (`time.process_time`, all threads) per step, summed over
the fit's executions only (not its setup), after one untimed execution
that traces the step. `--quick` runs 4 steps per execution, 2 rounds of
8 steps (dense Adam at 1 M users takes seconds per step). No timing is
asserted.

The last line printed is `step cost ratio 1M/10k users: <x>`, the ratio of
the first model's (NCF-MLP by default) per-step CPU time at the largest
size to the one at the smallest, with the sparse optimizer.

TODO (issue 15, item 4): the full scale table is not measured here yet:
the synthetic generator at 10 k, 100 k, 1 M and 10 M users through load,
split, one epoch and evaluation of mlp, bpr-mf, cmf, conet, sharedvae,
emcdr and adc (wall and CPU seconds per 1 M training examples, evaluation
seconds per 1 k users, peak RSS, time budget per size), written to
docs/results/scale.md.

Example:

    python benchmarks/scale.py --quick
    python benchmarks/scale.py --quick --models mlp,bpr-mf,cmf
"""

import argparse
import gc
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import Stopwatch, machine_facts  # noqa: E402

from tfcdr.data import keys  # noqa: E402
from tfcdr.models import get_spec  # noqa: E402
from tfcdr.training import make_optimizer  # noqa: E402

DOMAINS = ("source", "target")
# Distinct random batches cycled through by each fit (the rows a step touches change).
DISTINCT_BATCHES = 8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds and steps: under 3 minutes on 2 cores")
    parser.add_argument("--models", default="mlp", help="comma-separated zoo names (default mlp)")
    parser.add_argument("--users", default="10000,1000000", help="comma-separated user counts (default 10k,1M)")
    parser.add_argument("--optimizers", default="sparse_adam,adam", help="training option values to compare")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 3, quick 2)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per round (default 64, quick 8)")
    parser.add_argument(
        "--steps-per-execution", type=int, default=None, help="default: the zoo's training option (quick: 4)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.steps = args.steps or (8 if args.quick else 64)
    args.steps_per_execution = args.steps_per_execution or (4 if args.quick else None)
    args.models = [m for m in args.models.split(",") if m]
    args.users = sorted(int(n) for n in args.users.split(","))
    args.optimizers = [o for o in args.optimizers.split(",") if o]
    for name in args.models:
        get_spec(name)
    return args


def num_items(num_users):
    """Items per domain at `num_users` users: 2 k at 10 k users, growing as the square root."""
    return max(1, round(2000 * (num_users / 10_000) ** 0.5))


def random_batches(model, batch_size, count, seed):
    """`count` random batches of the input `model` trains on, stacked on a leading axis.

    The batch is shared by the domains (`batch_size` summed over them, as
    `tfcdr.data.pipelines` does). Users and items are uniform, so a batch
    touches ~`batch_size` distinct rows of a large table.
    """
    rng = np.random.default_rng(seed)
    per_domain = batch_size // len(model.domains)

    def ids(high):
        return rng.integers(0, high, (count, per_domain)).astype(np.int32)

    x, y = {}, {}
    for domain in model.domains:
        users, items = ids(model.num_users), model.num_items[domain]
        if model.input_kind == "pointwise":
            x[domain] = {keys.USER_ID: users, keys.ITEM_ID: ids(items)}
            y[domain] = rng.integers(0, 2, (count, per_domain)).astype(np.float32)
        elif model.input_kind == "rating":
            x[domain] = {keys.USER_ID: users, keys.ITEM_ID: ids(items)}
            y[domain] = rng.integers(1, 6, (count, per_domain)).astype(np.float32)
        elif model.input_kind == "pairwise":
            x[domain] = {keys.USER_ID: users, keys.POSITIVE_ITEM_ID: ids(items), keys.NEGATIVE_ITEM_ID: ids(items)}
        else:
            raise ValueError(f"{model.name}: input kind {model.input_kind!r} has no random batches here")
    return tf.data.Dataset.from_tensor_slices((x, y) if y else (x,)).repeat()


def build(name, num_users, optimizer, args):
    """Zoo model `name` at `num_users` users, compiled as `fit_model` compiles it, and its data."""
    spec = get_spec(name)
    training = spec.training_options()
    keras.utils.set_random_seed(args.seed)
    model = spec.cls(
        domains=DOMAINS,
        num_users=num_users,
        num_items=[num_items(num_users)] * len(DOMAINS),
        name=name.replace("-", "_"),
        **spec.preset,
    )
    model.compile(
        optimizer=make_optimizer(optimizer, training["learning_rate"]),
        steps_per_execution=args.steps_per_execution or training["steps_per_execution"],
    )
    data = random_batches(model, args.batch_size, DISTINCT_BATCHES, args.seed)
    return model, data


class StepTimer(keras.callbacks.Callback):
    """CPU and wall seconds inside the executions of one fit (its setup and tear-down left out)."""

    def __init__(self):
        super().__init__()
        self.watch = Stopwatch()
        self.cpu = self.wall = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self.watch.start()

    def on_train_batch_end(self, batch, logs=None):
        wall, cpu = self.watch.stop()
        self.wall += wall
        self.cpu += cpu


def seconds_per_step(model, data, steps):
    """(CPU, wall) seconds per step over `steps` training steps."""
    timer = StepTimer()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    return timer.cpu / steps, timer.wall / steps


def measure(name, args):
    """{(num_users, optimizer): [(cpu, wall) per step of each round]} for zoo model `name`."""
    cells = {}
    for num_users in args.users:
        for optimizer in args.optimizers:
            model, data = build(name, num_users, optimizer, args)
            seconds_per_step(model, data, model.steps_per_execution)  # traces the step
            cells[num_users, optimizer] = (model, data, [])
    for _ in range(args.rounds):
        for model, data, rounds in cells.values():
            rounds.append(seconds_per_step(model, data, args.steps))
    return {key: rounds for key, (_, _, rounds) in cells.items()}


def count_label(n):
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def main(argv=None):
    args = parse_args(argv)
    print("machine:", "; ".join(f"{k}: {v}" for k, v in machine_facts().items()))
    print(
        f"batch {args.batch_size}, {len(DOMAINS)} domains, steps_per_execution "
        f"{args.steps_per_execution or 'of the zoo'}, {args.rounds} alternating rounds x {args.steps} timed steps "
        "after one traced execution; cpu = process CPU time (all threads) per step inside the executions, "
        "median over rounds"
    )
    header = (
        f"{'model':8s} {'optimizer':12s} {'users':>9s} {'items/dom':>9s} {'cpu ms/step':>12s} {'wall ms/step':>12s}"
    )
    ratios = []
    for name in args.models:
        results = measure(name, args)
        gc.collect()
        print(header)
        for (num_users, optimizer), rounds in results.items():
            cpu = statistics.median(r[0] for r in rounds) * 1e3
            wall = statistics.median(r[1] for r in rounds) * 1e3
            print(f"{name:8s} {optimizer:12s} {num_users:>9,d} {num_items(num_users):>9,d} {cpu:>12.1f} {wall:>12.1f}")
        small, large = args.users[0], args.users[-1]
        for optimizer in args.optimizers:
            ratio = statistics.median(r[0] for r in results[large, optimizer]) / statistics.median(
                r[0] for r in results[small, optimizer]
            )
            ratios.append((name, optimizer, ratio))
    label = f"{count_label(args.users[-1])}/{count_label(args.users[0])} users"
    for name, optimizer, ratio in ratios:
        print(f"  {name} {optimizer}: cpu per step {label} = {ratio:.2f}")
    default = "sparse_adam" if "sparse_adam" in args.optimizers else args.optimizers[0]
    first = next(r for n, o, r in ratios if n == args.models[0] and o == default)
    print(f"step cost ratio {label}: {first:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
