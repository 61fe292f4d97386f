"""models.config lists every exported model for TF Serving."""

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from tfcdr.export import write_model_server_config


def test_config_lists_models_with_a_version_and_skips_the_rest(tmp_path):
    for folder in ("mlp/1", "mlp/2", "conet/3", "empty", "busy/.tmp-abc"):
        (tmp_path / folder).mkdir(parents=True)
    for version in ("mlp/1", "mlp/2", "conet/3", "busy/.tmp-abc"):
        (tmp_path / version / "saved_model.pb").write_bytes(b"")
    path, _ = write_model_server_config(tmp_path, serving_root="/models")
    assert path == tmp_path / "models.config"
    config = text_format.Parse(path.read_text(), model_server_config_pb2.ModelServerConfig())
    entries = [(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config]
    assert entries == [("conet", "/models/conet", "tensorflow"), ("mlp", "/models/mlp", "tensorflow")]
    _, default = write_model_server_config(tmp_path)
    assert default.model_config_list.config[0].base_path == str(tmp_path.resolve() / "conet")
