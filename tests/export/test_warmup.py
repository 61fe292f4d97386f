"""PredictRequest builder (the README's example) and the warmup file."""

import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from tests.export.splits import BASIC
from tfcdr.export import predict_request, read_warmup_requests
from tfcdr.export.warmup import WARMUP_FILE


def _run(served, request):
    inputs = {k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()}
    return served.signatures[request.model_spec.signature_name or "serving_default"](**inputs)


def test_readme_predict_request_builds_parses_and_is_answered(exported):
    e = exported(BASIC)
    user = "42"
    assert user in e.split.user_vocab.astype(str)
    # The README's example, verbatim:
    request = predict_request("mlp", "recommend", {"user": ["42"], "domain": ["target"]})
    parsed = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    assert parsed.model_spec.name == "mlp" and parsed.model_spec.signature_name == "recommend"
    assert tf.make_ndarray(parsed.inputs["user"]).tolist() == [user.encode()]
    out = _run(e.served, parsed)
    direct = e.served.signatures["recommend"](user=tf.constant([user]), domain=tf.constant(["target"]))
    np.testing.assert_array_equal(out["item_ids"].numpy(), direct["item_ids"].numpy())
    assert out["unknown"].numpy().tolist() == [0]


def test_warmup_file_covers_every_signature_and_domain_and_replays(exported):
    e = exported(BASIC)
    requests = read_warmup_requests(e.path / "assets.extra" / WARMUP_FILE)
    seen = {(r.model_spec.signature_name, tf.make_ndarray(r.inputs["domain"])[0].decode()) for r in requests}
    assert seen == {(s, d) for s in ("serving_default", "recommend") for d in e.model.domains}
    assert {r.model_spec.name for r in requests} == {e.path.parent.name}
    for request in requests:
        out = _run(e.served, request)
        unknown = out["unknown"].numpy()
        assert len(unknown) == len(tf.make_ndarray(request.inputs["user"]))
        if len(unknown) > 1:  # the last row of a batch has unknown ids on purpose
            assert unknown[-1] != 0 and not unknown[:-1].any()
