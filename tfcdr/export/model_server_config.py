"""`models.config`: one TF Serving ModelServerConfig for every exported model."""

import pathlib

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

CONFIG_FILE = "models.config"


def exported_models(root):
    """Names of folders under `root` holding at least one version (N/saved_model.pb)."""
    root = pathlib.Path(root)
    if not root.is_dir():
        return []
    return sorted(
        child.name
        for child in root.iterdir()
        if child.is_dir() and any(v.name.isdigit() and (v / "saved_model.pb").exists() for v in child.iterdir())
    )


def write_model_server_config(root="saved_models", serving_root=None, path=None):
    """Writes `<root>/models.config` listing every exported model under `root`.

    TF Serving reads it with `--model_config_file=<root>/models.config` and
    serves each `<root>/<model>/` under its folder name, latest version
    (the integer-named subfolders; temporary folders of an export in
    progress start with a dot and are never picked up).

    Args:
        root: the base folder (saved_models/).
        serving_root: the folder as the server sees it, e.g. "/models" when
            `root` is mounted there in the tensorflow/serving container;
            default the absolute path of `root`.
        path: where to write (default `<root>/models.config`).

    Returns:
        (path written, `ModelServerConfig` proto).
    """
    root = pathlib.Path(root)
    base = str(serving_root).rstrip("/") if serving_root else str(root.resolve())
    config = model_server_config_pb2.ModelServerConfig()
    for name in exported_models(root):
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{base}/{name}"
        entry.model_platform = "tensorflow"
    path = pathlib.Path(path) if path else root / CONFIG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_format.MessageToString(config))
    return path, config
