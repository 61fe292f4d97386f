"""Quiet TensorFlow start-up for the `tfcdr` command.

TensorFlow's native libraries write to the process's standard error before
any Python-side setting applies: absl's "All log messages before
absl::InitializeLog()" banner and the CUDA stub's "Could not find cuda
drivers" when the shared libraries load, and "failed call to cuInit" when
the devices are first listed on a machine without a GPU.
`TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's own C++ logging but not these,
so a user's first line would read like a failure. The command therefore
loads TensorFlow and lists its devices once with file descriptor 2 pointed
at a temporary file, and shows what was written there only when loading
failed.
"""

import os
import sys
import tempfile


def import_tensorflow(verbose=False):
    """Imports TensorFlow and initializes its devices, hiding native start-up lines unless `verbose`.

    `TF_CPP_MIN_LOG_LEVEL` is 2 (TensorFlow's C++ information and warnings
    hidden; `import tfcdr` sets it unless the environment already does).
    Nothing is hidden when `verbose` is true (the level is then 0) or the
    environment sets the level to "0", so a user who asks for TensorFlow's
    log gets all of it.

    Returns:
        The `tensorflow` module.
    """
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if verbose or os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0" or "tensorflow" in sys.modules:
        import tensorflow as tf

        return tf
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return tf
