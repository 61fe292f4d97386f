"""ResumableBackup: `BackupAndRestore` that also carries EarlyStopping's state and the epoch logs."""

import json
import os
import pathlib

import keras
import numpy as np

_STATE = "resume_state.json"
_FIELDS = ("wait", "stopped_epoch", "best", "best_epoch")


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """Backs up training after each epoch so that a killed `fit` resumes where it stopped.

    `keras.callbacks.BackupAndRestore` restores the weights, the optimizer's
    state and the epoch to start from. An `EarlyStopping` callback, however,
    starts over (best value, best epoch, best weights and patience count
    reset), and the `History` of the resumed `fit` only holds the epochs
    run after the resume. This callback writes both into `backup_dir` as
    well, before the weights, tagged with the epoch they belong to, and
    keeps the previous epoch's too: a kill between the two writes leaves a
    state that matches the weights. `restored_logs` holds the logs of the
    epochs before the resume, for the caller to complete its history.

    The checkpoint is kept after training (`delete_checkpoint=False`): a
    run that is killed after training but before its results are written
    resumes with nothing left to train. The caller removes `backup_dir`.

    Place it after the `EarlyStopping` callback it restores (whose own
    `on_train_begin` resets it).

    Args:
        backup_dir: folder of the checkpoint.
        early_stopping: the `keras.callbacks.EarlyStopping` of the same
            `fit`, or None.
    """

    def __init__(self, backup_dir, early_stopping=None):
        super().__init__(str(backup_dir), delete_checkpoint=False)
        self.early_stopping = early_stopping
        self.restored_logs = []
        self._logs = []
        self._states = {}

    @property
    def _state_path(self):
        return pathlib.Path(self.backup_dir) / _STATE

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        start = self.model._initial_epoch or 0
        self._states = json.loads(self._state_path.read_text()) if self._state_path.exists() else {}
        state = self._states.get(str(start))
        self._logs = list(state["logs"]) if state else []
        self.restored_logs = list(self._logs)
        if state is None or self.early_stopping is None:
            return
        stopping = self.early_stopping
        for field in _FIELDS:
            setattr(stopping, field, state["early_stopping"][field])
        if state["best_weights"]:
            with np.load(pathlib.Path(self.backup_dir) / state["best_weights"]) as arrays:
                stopping.best_weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        if stopping.stopped_epoch > 0:
            # Early stopping had already ended this fit: train no further epoch.
            self.model._initial_epoch = self.params["epochs"]

    def on_epoch_end(self, epoch, logs=None):
        self._logs.append({key: float(value) for key, value in (logs or {}).items()})
        self._write_state(epoch)
        super().on_epoch_end(epoch, logs)

    def _write_state(self, epoch):
        folder = pathlib.Path(self.backup_dir)
        folder.mkdir(parents=True, exist_ok=True)
        state = {"logs": self._logs, "early_stopping": None, "best_weights": None}
        stopping = self.early_stopping
        if stopping is not None:
            state["early_stopping"] = {field: _plain(getattr(stopping, field)) for field in _FIELDS}
            if stopping.best_weights is not None:
                name = f"best-{stopping.best_epoch}.npz"
                if not (folder / name).exists():
                    _replace(folder / name, lambda path: _save_arrays(path, stopping.best_weights))
                state["best_weights"] = name
        self._states = {key: value for key, value in self._states.items() if int(key) == epoch}
        self._states[str(epoch + 1)] = state
        _replace(self._state_path, lambda path: path.write_text(json.dumps(self._states)))
        kept = {s["best_weights"] for s in self._states.values()}
        for old in folder.glob("best-*.npz"):
            if old.name not in kept:
                old.unlink()


def _plain(value):
    return None if value is None else (int(value) if isinstance(value, (int, np.integer)) else float(value))


def _save_arrays(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, *arrays)


def _replace(path, write):
    """Writes through a temporary file renamed over `path`, so a kill never leaves half a file."""
    partial = path.with_name(path.name + ".tmp")
    write(partial)
    os.replace(partial, path)
