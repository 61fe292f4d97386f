"""export_model: TF Serving layout, documented signatures, versions, inputs."""

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import K
from tests.export.splits import BASIC
from tests.test_case import tiny_split
from tfcdr.errors import DataError
from tfcdr.export import SIGNATURES, ServingGraph, export_model, versions
from tfcdr.export.warmup import WARMUP_FILE
from tfcdr.models import MODELS, build_model

NAMES = sorted(MODELS)
OUTPUTS = {
    "serving_default": {"scores": (tf.float32, [None]), "unknown": (tf.int32, [None])},
    "recommend": {
        "item_ids": (tf.string, [None, K]),
        "scores": (tf.float32, [None, K]),
        "unknown": (tf.int32, [None]),
    },
}


@pytest.mark.parametrize("name", NAMES)
def test_layout_and_signatures_are_the_documented_ones(exported, name):
    e = exported(name)
    assert e.path.name == "1" and (e.path / "saved_model.pb").exists()
    assert (e.path / "variables").is_dir() and (e.path / "assets.extra" / WARMUP_FILE).exists()
    assert set(e.served.signatures) == set(SIGNATURES)
    for signature, inputs in SIGNATURES.items():
        fn = e.served.signatures[signature]
        specs = fn.structured_input_signature[1]
        assert set(specs) == set(inputs)
        assert all(s.dtype == tf.string and s.shape.as_list() == [None] for s in specs.values())
        outputs = {k: (v.dtype, v.shape.as_list()) for k, v in fn.structured_outputs.items()}
        assert outputs == OUTPUTS[signature]


def test_saved_model_cli_lists_signatures_with_input_names_and_dtypes(exported):
    cli = exported(BASIC).cli
    shown, _ = cli.communicate(timeout=120)
    assert cli.returncode == 0
    for signature, inputs in SIGNATURES.items():
        block = shown.split(f"signature_def['{signature}']:")[1].split("signature_def[")[0]
        for name in inputs:
            assert f"inputs['{name}'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1)" in block
        assert "Method name is: tensorflow/serving/predict" in block
    assert f"outputs['item_ids'] tensor_info:\n        dtype: DT_STRING\n        shape: (-1, {K})" in shown


def test_next_version_leaves_the_previous_intact_and_a_plain_vocabulary_works(exported, tmp_path):
    e = exported(BASIC)
    base = e.path.parent
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in e.path.rglob("*") if p.is_file()}
    # Version 2 from a plain vocabulary dict: no known items, so `recommend`
    # ranks every item; k beyond the catalogue pads with "" / -inf.
    vocab = {"user_vocab": e.split.user_vocab, "item_vocabs": e.split.item_vocabs}
    count = e.model.num_items["target"]
    second = export_model(e.model, vocab, base, k=count + 3, warmup=False)
    assert second == base / "2" and versions(base) == [1, 2]
    assert sorted(p.name for p in base.iterdir()) == ["1", "2"]  # no temporary folder left
    after = {p: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in e.path.rglob("*") if p.is_file()}
    assert after == before
    out = tf.saved_model.load(str(second)).signatures["recommend"](
        user=tf.constant(e.split.user_vocab[:1]), domain=tf.constant(["target"])
    )
    full = np.asarray(e.model.score_all_items("target", tf.constant([0], tf.int32)))[0]
    scores, ids = out["scores"].numpy()[0], out["item_ids"].numpy()[0]
    np.testing.assert_allclose(scores[:count], np.sort(full)[::-1], rtol=1e-5, atol=1e-6)
    assert np.isneginf(scores[count:]).all() and (ids[count:] == b"").all() and (ids[:count] != b"").all()


def test_mismatched_vocabularies_are_refused_before_writing(tmp_path):
    split = tiny_split()
    model = build_model(BASIC, split)
    with pytest.raises(DataError, match="user vocabulary has 3 ids"):
        export_model(model, {"user_vocab": ["a", "b", "c"], "item_vocabs": split.item_vocabs}, tmp_path / "x")
    with pytest.raises(DataError, match="lacks the model's domains"):
        export_model(model, {"user_vocab": split.user_vocab, "item_vocabs": {}}, tmp_path / "x")
    with pytest.raises(DataError, match="needs a Split"):
        export_model(model, [1, 2], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_an_export_that_does_not_reproduce_the_model_is_never_published(exported, tmp_path, monkeypatch):
    e = exported(BASIC)
    score = ServingGraph.score

    def off_by_one(self, user, item, domain):
        out = score(self, user, item, domain)
        return {**out, "scores": out["scores"] + 1.0}

    monkeypatch.setattr(ServingGraph, "score", off_by_one)
    with pytest.raises(RuntimeError, match="does not reproduce the model's scores"):
        export_model(e.model, e.split, tmp_path / "m", k=K, warmup=False)
    assert list((tmp_path / "m").iterdir()) == []  # no version, no temporary folder
