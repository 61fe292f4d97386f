"""A worker of the multi-worker tests: trains zoo models on a tiny split and saves their weights.

Run as `python multi_worker_fit.py OUT_DIR MODEL[,MODEL...]` under `TF_CONFIG`
(one of `tfcdr.training.launch.launch_workers`' processes), or imported by
the test for the single-process reference (`train(name, strategy=None)`).
"""

import contextlib
import json
import os
import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from tests.test_case import tiny_split  # noqa: E402
from tfcdr.models import build_model  # noqa: E402
from tfcdr.training import fit_model  # noqa: E402
from tfcdr.training.distribute import resolve_strategy  # noqa: E402

# Global batch: large, so that an epoch is a few dozen steps.
BATCH_SIZE = 1024


def _split(name):
    return tiny_split(num_domains=3) if name == "adc" else tiny_split()


def train(name, strategy=None):
    """(weights, last epoch's logs) of `name` after one epoch at a global batch of BATCH_SIZE.

    ADC trains on three domains, as in its paper (GradNorm balances more than two losses).
    """
    split = _split(name)
    keras.utils.set_random_seed(0)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(name, split)
    history = fit_model(model, split, epochs=1, batch_size=BATCH_SIZE, verbose=0, strategy=strategy)
    return model.get_weights(), {k: float(v[-1]) for k, v in history.history.items()}


def main(out_dir, names):
    strategy = resolve_strategy("multi-worker")
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    for name in names.split(","):
        weights, logs = train(name, strategy)
        np.savez(pathlib.Path(out_dir) / f"{name}-{index}.npz", *weights)
        (pathlib.Path(out_dir) / f"{name}-{index}.json").write_text(json.dumps(logs))


if __name__ == "__main__":
    main(*sys.argv[1:])
