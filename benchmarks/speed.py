"""Speed of the tfcdr path: NCF-MLP training throughput and evaluation time.

Measures, in one process:

1. Training throughput (examples/s) of `NCFMLP.fit` fed by
   `tfcdr.data.pipelines.pointwise` (per-epoch negative sampling), compiled
   as `tfcdr.training.fit_model` compiles it, against a bare Keras reference:
   a functional model of the same size fitted on in-memory numpy arrays
   holding the examples of one tfcdr epoch (negatives sampled once), and
   against `NCFMLP.fit` on those same arrays ("model-only"), which splits
   any gap into the pipeline's share and the model's. One domain (the
   target) only; the first epoch of every fit (tracing) is not timed. Wall
   time and the process's CPU time are both reported: on a shared machine
   the CPU time is the steadier measure of the work done. The pipeline
   alone is timed too.
2. `tfcdr.evaluation.evaluate` time on the test set of a full-ranking split
   over all users, and of a loo-sampled split of the same data.

No timing is asserted: the figures are printed (and written as Markdown
with `--markdown`), together with the machine facts they depend on.

Example:

    python benchmarks/speed.py --markdown docs/results/speed.md
    python benchmarks/speed.py --dataset ml1m-genre --epochs 3
"""

import argparse
import contextlib
import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from timing import EpochTimer, Stopwatch, machine_facts  # noqa: E402

from tfcdr.data import keys, pipelines  # noqa: E402
from tfcdr.data.negatives import sample_negatives  # noqa: E402
from tfcdr.data.splits import make_split  # noqa: E402
from tfcdr.data.synthetic import make_synthetic  # noqa: E402
from tfcdr.evaluation import evaluate  # noqa: E402
from tfcdr.models.ncf_mlp import NCFMLP  # noqa: E402

# Synthetic stand-in shaped like ml1m-genre in the SharedVAE paper (Table 2):
# 1,348 users in both domains; action 300 items / 52k positives, target
# 2,262 items / 151k positives.
SYNTHETIC_SHAPE = {
    "num_domains": 2,
    "num_users": 1350,
    "num_items": (300, 2260),
    "interactions_per_user": (39, 111),
    "overlap": 1.0,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset",
        default="synthetic",
        choices=("synthetic", "ml1m-genre"),
        help="synthetic (shaped like ml1m-genre) or ml1m-genre via tfcdr.data.datasets "
        "(falls back to synthetic when that cannot load)",
    )
    parser.add_argument("--data-dir", default=None, help="data folder for --dataset ml1m-genre")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per fit, after its untimed first one")
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="fits per variant and batch size, order rotated; the median epoch is reported",
    )
    parser.add_argument("--steps-per-execution", type=int, default=16)
    parser.add_argument("--negative-ratio", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--split-timeout",
        type=float,
        default=60.0,
        help="seconds allowed for making the loo-sampled split before that part is skipped",
    )
    parser.add_argument("--skip-training", action="store_true", help="only time evaluation")
    parser.add_argument("--skip-evaluation", action="store_true", help="only time training")
    parser.add_argument("--markdown", default=None, help="append the results as a Markdown section to PATH")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be >= 1")
    return args


class Report:
    """Collects printed lines and Markdown lines side by side."""

    def __init__(self):
        self.markdown = []

    def say(self, text=""):
        print(text, flush=True)

    def md(self, text=""):
        self.markdown.append(text)


@contextlib.contextmanager
def time_limit(seconds):
    """Raises TimeoutError in the main thread after `seconds` (Unix only)."""
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"did not finish within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def load_data(args, report):
    """The CrossDomainData to measure on, and a line saying what it is."""
    if args.dataset == "ml1m-genre":
        try:
            from tfcdr.data.datasets import load_dataset
        except ImportError as error:
            report.say(f"NOTE: tfcdr.data.datasets is not importable ({error}); using synthetic data")
        else:
            try:
                data = load_dataset("ml1m-genre", data_dir=args.data_dir)
            except Exception as error:  # noqa: BLE001 - any load failure means: fall back
                report.say(f"NOTE: ml1m-genre could not be loaded ({error}); using synthetic data")
            else:
                return data, "ml1m-genre (tfcdr.data.datasets.load_dataset)"
    options = ", ".join(f"{k}={v}" for k, v in SYNTHETIC_SHAPE.items())
    data = make_synthetic(seed=args.seed, **SYNTHETIC_SHAPE)
    return data, f"synthetic, shaped like ml1m-genre (make_synthetic({options}, seed={args.seed}))"


def bare_reference(num_users, num_items, embedding_dim=32, hidden=(64, 32, 16, 8)):
    """A plain functional NCF-MLP with the sizes and initializers of `NCFMLP`."""
    init = keras.initializers.RandomNormal(stddev=0.01)
    user = keras.Input(shape=(), dtype="int32", name="user")
    item = keras.Input(shape=(), dtype="int32", name="item")
    x = keras.layers.Concatenate()(
        [
            keras.layers.Embedding(num_users, embedding_dim, embeddings_initializer=init)(user),
            keras.layers.Embedding(num_items, embedding_dim, embeddings_initializer=init)(item),
        ]
    )
    for units in hidden:
        x = keras.layers.Dense(units, activation="relu")(x)
    return keras.Model([user, item], keras.layers.Dense(1)(x), name="bare_ncf_mlp")


def pointwise_dataset(split, domain, args, batch_size):
    return pipelines.pointwise(
        split, domains=[domain], batch_size=batch_size, negative_ratio=args.negative_ratio, seed=args.seed
    )


def one_epoch_arrays(split, domain, args, batch_size):
    """Examples of the tfcdr pipeline's first epoch as arrays, and (wall, cpu) of 3 passes."""
    dataset = pointwise_dataset(split, domain, args, batch_size)
    users, items, labels = [], [], []
    watch = Stopwatch().start()
    for x, y in dataset:
        users.append(x[domain][keys.USER_ID].numpy())
        items.append(x[domain][keys.ITEM_ID].numpy())
        labels.append(y[domain].numpy())
    passes = [watch.stop()]
    for _ in range(2):
        watch.start()
        for _ in dataset:
            pass
        passes.append(watch.stop())
    arrays = (np.concatenate(users), np.concatenate(items), np.concatenate(labels))
    return arrays, len(labels), passes


def compiled(model, args, **options):
    # As tfcdr.training.fit_model compiles it.
    model.compile(
        optimizer=keras.optimizers.Adam(args.learning_rate), steps_per_execution=args.steps_per_execution, **options
    )
    return model


def fit_variant(name, split, domain, args, batch_size, arrays):
    """(wall, cpu) seconds of each epoch of one fit of a variant."""
    keras.utils.set_random_seed(args.seed)
    users, items, labels = arrays
    timer = EpochTimer()
    common = {"epochs": 1 + args.epochs, "verbose": 0, "callbacks": [timer]}
    if name == "bare":
        model = compiled(
            bare_reference(split.num_users, split.num_items[domain]),
            args,
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
        )
        model.fit(x=[users, items], y=labels[:, None], batch_size=batch_size, shuffle=True, **common)
        return timer.seconds
    model = compiled(NCFMLP([domain], split.num_users, {domain: split.num_items[domain]}), args)
    if name == "tfcdr":
        model.fit(pointwise_dataset(split, domain, args, batch_size), shuffle=False, **common)
    else:  # the tfcdr model fed like the bare one: isolates the pipeline's share
        x = {domain: {keys.USER_ID: users, keys.ITEM_ID: items}}
        model.fit(x=x, y={domain: labels}, batch_size=batch_size, shuffle=True, **common)
    return timer.seconds


def numpy_sampling_seconds(split, domain, args):
    """CPU time of the negative sampling a pointwise epoch does (numpy only)."""
    part = split.domains[domain]
    users = part.train["user"].to_numpy(np.int64)
    rng = np.random.default_rng([args.seed, 99])
    start = time.process_time()
    sample_negatives(rng, users, part.known, args.negative_ratio)
    return time.process_time() - start


VARIANTS = {
    "tfcdr": "NCFMLP.fit(pipelines.pointwise(...))",
    "bare": "functional Keras model, fit(numpy, shuffle=True)",
    "model-only": "NCFMLP.fit(numpy dicts, shuffle=True)",
}


def measure_training(split, domain, args, report):
    positives = len(split.domains[domain].train)
    report.say(f"\n== 1. NCF-MLP training throughput, domain {domain!r} only ==")
    report.say(
        f"{positives:,} training positives x (1 + {args.negative_ratio}) examples per epoch; "
        f"steps_per_execution={args.steps_per_execution}; Adam(lr={args.learning_rate:g}); "
        f"{args.repeats} fits per variant (order rotated), each 1 untimed + {args.epochs} timed epochs"
    )
    for name, what in VARIANTS.items():
        report.say(f"  {name:10s}: {what}")
    report.say(
        "  ex/s = examples / median epoch wall time; ex/cpu-s = examples / median epoch CPU time of "
        "this process (all threads), which other processes' load disturbs far less"
    )
    sampling = numpy_sampling_seconds(split, domain, args)
    report.say(f"negative sampling of one epoch alone (tfcdr.data.negatives.sample_negatives): {sampling:.3f} cpu-s")
    report.md("### Training throughput (NCF-MLP, one domain)")
    report.md()
    report.md(
        f"{positives:,} positives of domain `{domain}` x (1 + {args.negative_ratio}) examples per epoch, "
        f"steps_per_execution={args.steps_per_execution}; {args.repeats} fits per variant, each 1 untimed + "
        f"{args.epochs} timed epochs; median epoch. tfcdr = `NCFMLP.fit(pipelines.pointwise(...))`; "
        "bare = functional Keras model of the same size, `fit(numpy, shuffle=True)` on one tfcdr epoch's "
        "examples; model-only = `NCFMLP.fit` on those numpy arrays. cpu-s = CPU time of the process. "
        f"Negative sampling of one epoch alone: {sampling:.3f} cpu-s."
    )
    report.md()
    report.md(
        "| batch | tfcdr ex/s | bare ex/s | model-only ex/s | tfcdr/bare (wall) | "
        "tfcdr/bare (cpu) | pipeline alone: wall s, cpu s per epoch |"
    )
    report.md("|---:|---:|---:|---:|---:|---:|---:|")
    names = list(VARIANTS)
    for batch_size in args.batch_sizes:
        arrays, steps, passes = one_epoch_arrays(split, domain, args, batch_size)
        examples = len(arrays[0])
        report.say(f"\n-- batch {batch_size}: {examples:,} examples, {steps} steps per epoch --")
        report.say(
            "pipeline alone (iterate the tf.data dataset, no model), 3 passes: "
            + ", ".join(f"{wall:.2f} s wall / {cpu:.2f} cpu-s" for wall, cpu in passes)
        )
        runs = {name: [] for name in names}
        for repeat in range(args.repeats):
            # Rotate the order so drifting load hits every variant alike.
            for name in names[repeat % 3 :] + names[: repeat % 3]:
                runs[name].append(fit_variant(name, split, domain, args, batch_size, arrays))
        wall_rate, cpu_rate = {}, {}
        for name, fits in runs.items():
            timed = [epoch for seconds in fits for epoch in seconds[1:]]
            walls, cpus = [w for w, _ in timed], [c for _, c in timed]
            wall_rate[name] = examples / float(np.median(walls))
            cpu_rate[name] = examples / float(np.median(cpus))
            report.say(
                f"{name:10s}: warm-up {', '.join(f'{f[0][0]:.2f}' for f in fits)} s; timed wall "
                f"{', '.join(f'{w:.2f}' for w in walls)} s, cpu {', '.join(f'{c:.2f}' for c in cpus)} s "
                f"-> {wall_rate[name]:,.0f} ex/s, {cpu_rate[name]:,.0f} ex/cpu-s"
            )
        wall_ratio = wall_rate["tfcdr"] / wall_rate["bare"]
        cpu_ratio = cpu_rate["tfcdr"] / cpu_rate["bare"]
        report.say(f"ratio tfcdr/bare at batch {batch_size}: {wall_ratio:.2f} (wall), {cpu_ratio:.2f} (cpu)")
        pipeline_wall = float(np.median([w for w, _ in passes[1:]]))
        pipeline_cpu = float(np.median([c for _, c in passes[1:]]))
        report.md(
            f"| {batch_size} | {wall_rate['tfcdr']:,.0f} | {wall_rate['bare']:,.0f} | "
            f"{wall_rate['model-only']:,.0f} | {wall_ratio:.2f} | {cpu_ratio:.2f} | "
            f"{pipeline_wall:.2f}, {pipeline_cpu:.2f} |"
        )
    report.md()


def timed_evaluate(model, split, domains):
    start = time.perf_counter()
    results = evaluate(model, split, "test", domains=domains)
    return time.perf_counter() - start, results


def measure_evaluation(data, full, args, report):
    report.say("\n== 2. Evaluation time (tfcdr.evaluation.evaluate, test set) ==")
    keras.utils.set_random_seed(args.seed)
    # Untrained weights: scoring cost does not depend on their values.
    model = NCFMLP(full.domain_names, full.num_users, full.num_items)
    report.say("model: NCFMLP over every domain (untrained: the cost does not depend on the weights)")
    report.md("### Evaluation time (`tfcdr.evaluation.evaluate`, test set, NCF-MLP)")
    report.md()
    report.md("| protocol | domain | users | items ranked | seconds | users/s |")
    report.md("|---|---|---:|---:|---:|---:|")

    def run(split, protocol, width):
        total_users, total_seconds = 0, 0.0
        for name in split.domain_names:
            seconds, results = timed_evaluate(model, split, [name])
            users = results[name].get("users", 0)
            total_users += users
            total_seconds += seconds
            items = width(name)
            report.say(
                f"{protocol:12s} {name:8s}: {users:,} users x {items:,} items in {seconds:.2f} s "
                f"({users / seconds:,.0f} users/s)"
            )
            report.md(f"| {protocol} | {name} | {users:,} | {items:,} | {seconds:.2f} | {users / seconds:,.0f} |")
        seconds, _ = timed_evaluate(model, split, None)
        report.say(
            f"{protocol:12s} all domains in one call: {seconds:.2f} s "
            f"({total_users / seconds:,.0f} users/s; per-domain calls summed {total_seconds:.2f} s)"
        )
        report.md(f"| {protocol} | all, one call | {total_users:,} | | {seconds:.2f} | {total_users / seconds:,.0f} |")

    run(full, "full-ranking", lambda name: full.num_items[name])
    start = time.perf_counter()
    try:
        with time_limit(args.split_timeout):
            loo = make_split(data, "loo-sampled", seed=args.seed)
    except TimeoutError as error:
        message = (
            f"loo-sampled: make_split {error}; evaluation not timed (see sample_negatives(distinct=True) "
            "for users who know a large share of a domain's items)"
        )
        report.say(message)
        report.md(f"| loo-sampled | - | | | not timed | |\n\n{message}")
    else:
        report.say(f"(loo-sampled split made in {time.perf_counter() - start:.1f} s)")
        run(loo, "loo-sampled", lambda name: 1 + loo.domains[name].test.negatives.shape[1])
    report.md()


def main(argv=None):
    args = parse_args(argv)
    report = Report()
    started = time.perf_counter()
    facts = machine_facts()
    report.say("tfcdr speed benchmark")
    for key, value in facts.items():
        report.say(f"  {key}: {value}")
    report.say("  NOTE: other processes may be running on this machine; the load average above shows it.")
    report.say(f"  command: python {' '.join(sys.argv)}")
    keras.utils.set_random_seed(args.seed)
    data, description = load_data(args, report)
    report.say(f"data: {description}")
    for name, domain in data.domains.items():
        report.say(
            f"  {name}: {domain.interactions['user'].nunique():,} users, {domain.num_items:,} items, "
            f"{len(domain.interactions):,} interactions"
        )
    full = make_split(data, "full-ranking", seed=args.seed)
    domain = full.domain_names[-1]

    report.md(f"## NCF-MLP speed, {facts['date']}")
    report.md()
    report.md(f"Command: `python {' '.join(sys.argv)}`")
    report.md()
    for key, value in facts.items():
        report.md(f"- {key}: {value}")
    report.md("- other processes may have been running (see load average)")
    report.md(
        f"- data: {description}; training and full ranking on `make_split(data, 'full-ranking', seed={args.seed})`"
    )
    report.md()

    if not args.skip_training:
        measure_training(full, domain, args, report)
    if not args.skip_evaluation:
        measure_evaluation(data, full, args, report)

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    total = time.perf_counter() - started
    ending = f"total run time {total:.0f} s" + (
        "" if load is None else f"; load average at end {' / '.join(f'{v:.2f}' for v in load)}"
    )
    report.say(f"\n{ending}")
    report.md(f"_{ending}._")
    report.md()
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:
            handle.write("\n".join(report.markdown) + "\n")
        report.say(f"Markdown section appended to {args.markdown}")


if __name__ == "__main__":
    main()
