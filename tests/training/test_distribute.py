"""Multi-worker training: 2 worker processes on loopback equal one process on the global batch."""

import io
import json
import pathlib
import sys

import keras
import keras_rs
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from tests.training import multi_worker_fit
from tfcdr.models.cdr_model import bpr_loss, pointwise_loss
from tfcdr.training import distribute
from tfcdr.training.global_batch_l2 import GlobalBatchL2
from tfcdr.training.launch import free_ports, launch_workers, tf_config

WORKER = pathlib.Path(multi_worker_fit.__file__)


@pytest.mark.slow
@pytest.mark.parametrize("names", ["mlp,cmf", "conet,adc"])
def test_two_workers_end_with_the_weights_and_loss_of_one_process(names, tmp_path):
    out = io.StringIO()
    code = launch_workers([sys.executable, str(WORKER), str(tmp_path), names], workers=2, out=out)
    assert code == 0, out.getvalue()[-4000:]
    for name in names.split(","):
        workers = [np.load(tmp_path / f"{name}-{k}.npz") for k in range(2)]
        logs = [(tmp_path / f"{name}-{k}.json").read_text() for k in range(2)]
        weights, single_logs = multi_worker_fit.train(name)
        for key in workers[0].files:
            assert np.array_equal(workers[0][key], workers[1][key]), (name, key)
        for key, expected in zip(workers[0].files, weights, strict=True):
            np.testing.assert_allclose(workers[0][key], expected, atol=1e-5, err_msg=f"{name} {key}")
        assert logs[0] == logs[1]
        worker_logs = json.loads(logs[0])
        for key in ("loss", *[k for k in single_logs if k.endswith("_loss")]):
            np.testing.assert_allclose(worker_logs[key], single_logs[key], rtol=1e-4, err_msg=f"{name} {key}")


def test_launcher_prefixes_output_and_stops_all_workers_when_one_fails():
    script = (
        "import json, os, sys, time\n"
        "task = json.loads(os.environ['TF_CONFIG'])['task']\n"
        "print('up', task['index'], flush=True)\n"
        "sys.exit(3) if task['index'] == 1 else time.sleep(120)\n"
    )
    out = io.StringIO()
    code = launch_workers([sys.executable, "-c", script], workers=2, out=out)
    lines = out.getvalue().splitlines()
    assert code == 3
    assert "[worker 0] up 0" in lines and "[worker 1] up 1" in lines
    assert lines[-1] == "[launch] worker 1 exited with 3; stopping all"


def test_tf_config_names_every_worker_on_loopback_and_the_task():
    config = json.loads(tf_config([1234, 5678], 1))
    assert config == {
        "cluster": {"worker": ["127.0.0.1:1234", "127.0.0.1:5678"]},
        "task": {"type": "worker", "index": 1},
    }
    ports = free_ports(3)
    assert len(set(ports)) == 3 and all(0 < p < 65536 for p in ports)


def test_without_replicas_the_losses_are_the_single_process_expressions_bit_for_bit():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(9, 2)).astype("float32")
    labels = rng.integers(0, 2, 9).astype("float32")
    logits = rng.normal(size=9).astype("float32")
    bce = keras.losses.binary_crossentropy(labels[:, None], logits[:, None], from_logits=True)
    assert np.array_equal(pointwise_loss(labels, logits), ops.mean(bce))
    pairs = np.broadcast_to(np.array([[1.0, 0.0]], "float32"), scores.shape)
    assert np.array_equal(bpr_loss(scores), keras_rs.losses.PairwiseLogisticLoss()(pairs, scores))
    weights = (rng.random(9) > 0.3).astype("float32")
    assert np.array_equal(
        distribute.replica_mean(logits, weights), ops.sum(weights * logits) / ops.maximum(ops.sum(weights), 1.0)
    )
    assert np.array_equal(GlobalBatchL2(0.01)(scores), keras.regularizers.L2(0.01)(scores))


def test_named_strategies_and_bad_names():
    assert distribute.resolve_strategy(None) is None
    assert distribute.resolve_strategy("default") is tf.distribute.get_strategy()
    assert distribute.is_chief(None) and not distribute.is_multi_worker(None)
    with pytest.raises(ValueError, match="multi-worker"):
        distribute.resolve_strategy("parameter-server")


def test_steps_per_execution_is_kept_without_replicas():
    assert distribute.steps_per_execution_for(None, 16) == 16
    assert distribute.steps_per_execution_for(tf.distribute.get_strategy(), 16) == 16


def test_launch_command_takes_the_worker_command_after_the_separator():
    from tfcdr.cli import build_parser

    args = build_parser().parse_args(["launch", "--workers", "2", "--", "tfcdr", "train", "--model", "mlp"])
    assert args.workers == 2 and args.worker_command == ["--", "tfcdr", "train", "--model", "mlp"]
    train = build_parser().parse_args(["train", "--model", "mlp", "--strategy", "multi-worker"])
    assert train.strategy == "multi-worker"
