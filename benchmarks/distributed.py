"""Examples/s of `mlp` with 1 and 2 local worker processes (MultiWorkerMirroredStrategy on 127.0.0.1).

    python benchmarks/distributed.py [--batch-size 8192] [--workers 1,2]

Each run is `tfcdr.training.launch.launch_workers` starting the workers of
one cluster; each worker trains `mlp` on the synthetic dataset for 2 epochs
at the given global batch, and the chief prints the examples/s of the
second epoch (the first includes tracing). Every worker builds the whole
global batch and keeps its share (see `tfcdr.training.distribute`), and on
a host with few cores the workers share them: the ratio to 1 worker here
measures the all-reduce and input overhead, not the speed-up of workers on
separate hosts.
"""

import argparse
import io
import os
import re
import sys
import time

import keras

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.started


def worker(batch_size):
    from tfcdr.data import pipelines
    from tfcdr.data.datasets import load_dataset
    from tfcdr.data.splits import make_split
    from tfcdr.models import build_model
    from tfcdr.training import fit_model
    from tfcdr.training.distribute import is_chief, resolve_strategy

    strategy = resolve_strategy("multi-worker")
    split = make_split(load_dataset("synthetic"), "loo-sampled", seed=0)
    with strategy.scope():
        model = build_model("mlp", split)
    timer = _EpochTimer()
    fit_model(model, split, epochs=2, batch_size=batch_size, verbose=0, strategy=strategy, callbacks=[timer])
    steps = int(pipelines.training_dataset(split, model.input_kind, batch_size=batch_size).cardinality())
    examples = sum(len(split.domains[d].train) for d in split.domain_names) * 5  # positives + 4 negatives each
    if is_chief(strategy):
        print(f"EXAMPLES_PER_SECOND {examples / timer.seconds:.0f} steps {steps}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8192)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.batch_size)
    from tfcdr.training.launch import launch_workers

    rates = {}
    for count in [int(w) for w in args.workers.split(",")]:
        out = io.StringIO()
        command = [sys.executable, os.path.abspath(__file__), "--worker", "--batch-size", str(args.batch_size)]
        code = launch_workers(command, count, out=out)
        found = re.search(r"EXAMPLES_PER_SECOND (\d+)", out.getvalue())
        if code != 0 or not found:
            print(out.getvalue()[-3000:])
            return 1
        rates[count] = int(found.group(1))
        print(f"mlp, global batch {args.batch_size}, {count} worker(s): {rates[count]} examples/s", flush=True)
    base = rates[min(rates)]
    for count, rate in rates.items():
        print(f"{count} worker(s): {rate / base:.2f} x the {min(rates)}-worker rate ({os.cpu_count()} cores here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
