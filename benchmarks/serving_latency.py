"""Latency of an exported tfcdr SavedModel's signatures, loaded in-process.

Exports a zoo model with `tfcdr.export.export_model` to a temporary folder,
loads it back with `tf.saved_model.load` (what TF Serving runs, minus the
RPC) and times single calls of:

- `serving_default` (score (user, item) pairs on external ids) at batch 1
  and batch 256;
- `recommend` (top-k items of a domain, known items excluded) at k=10 for
  batch 1 and batch 256;
- as a reference, the Keras model's own `score` on integer indices inside
  a `tf.function` at batch 256: the difference is the cost of the string
  lookups, domain partitioning and fallback logic of the serving graph.

Each figure is over `--repeats` calls after 10 untimed ones, with ids drawn
from the vocabularies (fixed seed). p50 and p99 are printed in
milliseconds; nothing is asserted. Weights are the model's initial ones
unless `--epochs` trains it first: latency does not depend on them.

Example:

    python benchmarks/serving_latency.py
    python benchmarks/serving_latency.py --model conet --dataset ml1m-genre --repeats 500
"""

import argparse
import os
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfcdr.data.datasets import load_dataset  # noqa: E402
from tfcdr.data.splits import make_split  # noqa: E402
from tfcdr.export import export_model  # noqa: E402
from tfcdr.models import build_model  # noqa: E402
from tfcdr.training import fit_model  # noqa: E402


def timed(fn, batches, repeats):
    """(p50, p99) milliseconds of `fn(**batch)` over `repeats` calls."""
    for batch in batches[:10]:
        fn(**batch)
    times = []
    for i in range(repeats):
        batch = batches[i % len(batches)]
        start = time.perf_counter()
        out = fn(**batch)
        # Reading an output waits for the computation to finish.
        for tensor in tf.nest.flatten(out):
            tensor.numpy()
        times.append(1000 * (time.perf_counter() - start))
    return np.percentile(times, 50), np.percentile(times, 99)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--protocol", default="loo-sampled")
    parser.add_argument("--epochs", type=int, default=0, help="train first (default 0: initial weights)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)

    split = make_split(load_dataset(args.dataset, data_dir=args.data_dir), args.protocol, seed=0)
    keras.utils.set_random_seed(0)
    model = build_model(args.model, split)
    model.prepare(split)
    if args.epochs:
        fit_model(model, split, epochs=args.epochs, verbose=0)
    domain = split.domain_names[-1]
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        path = export_model(model, split, os.path.join(folder, args.model), k=args.k)
        export_seconds = time.perf_counter() - started
        served = tf.saved_model.load(str(path))

        rng = np.random.default_rng(0)
        users = split.user_vocab.astype(str)
        items = split.item_vocabs[domain].astype(str)

        def pairs(size):
            return [
                {
                    "user": tf.constant(rng.choice(users, size)),
                    "item": tf.constant(rng.choice(items, size)),
                    "domain": tf.constant([domain] * size),
                }
                for _ in range(50)
            ]

        def rows(size):
            return [
                {"user": tf.constant(rng.choice(users, size)), "domain": tf.constant([domain] * size)}
                for _ in range(50)
            ]

        def indices(size):
            return [
                {
                    "u": tf.constant(rng.integers(0, split.num_users, size), tf.int32),
                    "i": tf.constant(rng.integers(0, split.num_items[domain], size), tf.int32),
                }
                for _ in range(50)
            ]

        keras_score = tf.function(lambda u, i: model.score(domain, u, i))
        figures = [
            ("serving_default", 1, timed(served.signatures["serving_default"], pairs(1), args.repeats)),
            ("serving_default", 256, timed(served.signatures["serving_default"], pairs(256), args.repeats)),
            (f"recommend k={args.k}", 1, timed(served.signatures["recommend"], rows(1), args.repeats)),
            (f"recommend k={args.k}", 256, timed(served.signatures["recommend"], rows(256), args.repeats)),
            ("keras score (indices)", 256, timed(keras_score, indices(256), args.repeats)),
        ]

    print(
        f"{args.model} on {split.dataset} ({split.num_users} users, {split.num_items[domain]} "
        f"{domain} items), domain {domain!r}; export took {export_seconds:.1f} s"
    )
    print(
        f"TF {tf.__version__}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; {args.repeats} calls each"
    )
    print(f"{'call':<24} {'batch':>5} {'p50 ms':>8} {'p99 ms':>8} {'rows/s at p50':>14}")
    for name, batch, (p50, p99) in figures:
        print(f"{name:<24} {batch:>5} {p50:>8.2f} {p99:>8.2f} {batch / p50 * 1000:>14,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
