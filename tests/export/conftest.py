import dataclasses
import subprocess
import sys
from pathlib import Path

import keras
import pytest
import tensorflow as tf

from tests.export.splits import BASIC, split_for
from tfcdr.export import export_model
from tfcdr.models import build_model

K = 10


@dataclasses.dataclass
class Exported:
    model: object
    split: object
    path: object
    served: object
    cli: subprocess.Popen | None


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """name -> `Exported`: each registered model exported once per session.

    Models are untrained (seeded initial weights, `prepare` run): export must
    reproduce whatever the Keras model scores, trained or not. The export of
    `BASIC` also starts `saved_model_cli show --all` in
    the background: the command spends seconds importing TensorFlow, which
    then overlaps other tests.
    """
    cache = {}

    def get(name):
        if name not in cache:
            split = split_for(name)
            keras.utils.set_random_seed(0)
            model = build_model(name, split)
            model.prepare(split)
            # verify=False: the tests below check far more than export's own
            # load-back check, which has its own test.
            path = export_model(model, split, tmp_path_factory.mktemp("saved_models") / name, k=K, verify=False)
            cli = None
            if name == BASIC:
                cli = subprocess.Popen(
                    [str(Path(sys.executable).parent / "saved_model_cli"), "show", "--all", "--dir", str(path)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            cache[name] = Exported(model, split, path, tf.saved_model.load(str(path)), cli)
        return cache[name]

    yield get
    for entry in cache.values():
        if entry.cli is not None and entry.cli.poll() is None:
            entry.cli.kill()
            entry.cli.wait()
