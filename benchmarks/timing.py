"""Timing helpers shared by the benchmark scripts (run them as `python benchmarks/<name>.py`)."""

import datetime
import os
import platform
import time

import keras
import numpy as np
import tensorflow as tf


class Stopwatch:
    """Wall time and CPU time of this process (all its threads) since `start`."""

    def start(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def stop(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


class EpochTimer(keras.callbacks.Callback):
    """(wall, cpu) seconds of every epoch of one `fit`."""

    def __init__(self):
        super().__init__()
        self.seconds = []
        self.watch = Stopwatch()

    def on_epoch_begin(self, epoch, logs=None):
        self.watch.start()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(self.watch.stop())


def machine_facts():
    """What the figures depend on: versions, cores and the load when measuring began."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu count": f"{os.cpu_count()} (usable by this process: {affinity})",
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "numpy": np.__version__,
        "load average at start (1/5/15 min)": ("n/a" if load is None else " / ".join(f"{v:.2f}" for v in load)),
    }
