"""TF Serving requests: PredictRequest builders and the warmup-request file.

TF Serving replays `assets.extra/tf_serving_warmup_requests` (a TFRecord of
`PredictionLog`s) when it loads a version, so the first real request does
not pay for graph initialization and lazy table loading.
"""

import pathlib

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

WARMUP_FILE = "tf_serving_warmup_requests"


def predict_request(model_name, signature_name, inputs, version=None):
    """A `PredictRequest` for a tfcdr SavedModel served by TF Serving.

    Args:
        model_name: the name TF Serving serves the model under (its folder
            name in saved_models/).
        signature_name: "serving_default" or "recommend".
        inputs: dict input name -> list of strings, e.g. `{"user": ["u1"],
            "item": ["i9"], "domain": ["books"]}`.
        version: optional version number to pin.

    Returns:
        A `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Example:
        >>> request = predict_request(
        ...     "mlp", "recommend", {"user": ["42"], "domain": ["target"]})
        >>> response = stub.Predict(request, 5.0)  # a PredictionServiceStub
        >>> tf.make_ndarray(response.outputs["item_ids"])
    """
    request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature_name))
    if version is not None:
        request.model_spec.version.value = int(version)
    for key, values in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(np.asarray(values, dtype=object).astype(bytes)))
    return request


def warmup_requests(model_name, user_vocab, item_vocabs, batch_sizes=(1, 16)):
    """One request per signature, domain and batch size, plus unknown ids.

    Real ids exercise the model; one unknown user and item per request
    exercise the fallback branches, so every path of the graph is warm.
    """
    requests = []
    users = np.asarray(user_vocab).astype(str)
    for domain, items in item_vocabs.items():
        items = np.asarray(items).astype(str)
        for size in batch_sizes:
            rows = np.arange(size)
            user = [*users[rows[:-1] % len(users)], "__tfcdr_warmup_unknown__"] if size > 1 else [users[0]]
            item = [*items[rows[:-1] % len(items)], "__tfcdr_warmup_unknown__"] if size > 1 else [items[0]]
            domains = [domain] * size
            requests.append(
                predict_request(model_name, "serving_default", {"user": user, "item": item, "domain": domains})
            )
            requests.append(predict_request(model_name, "recommend", {"user": user, "domain": domains}))
    return requests


def write_warmup_requests(path, requests):
    """Writes `requests` as a TFRecord of `PredictionLog`s to `path`."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for request in requests:
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(path):
    """The `PredictRequest`s of a warmup file (to inspect or replay them)."""
    requests = []
    for record in tf.data.TFRecordDataset(str(path)):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        requests.append(log.predict_log.request)
    return requests
