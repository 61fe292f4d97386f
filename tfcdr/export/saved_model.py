"""SavedModel export: the one export path of every zoo model.

`export_model` writes a TF Serving version folder `<base_dir>/<N>/` with two
named signatures on external string ids (see `ServingGraph` for the
out-of-vocabulary behaviour):

- `serving_default`: inputs `user`, `item`, `domain` (tf.string [n]);
  outputs `scores` (float32 [n]) and `unknown` (int32 [n] bitmask).
- `recommend`: inputs `user`, `domain` (tf.string [n]); outputs `item_ids`
  (tf.string [n, k]), `scores` (float32 [n, k]) and `unknown` (int32 [n]).

plus `assets.extra/tf_serving_warmup_requests`. `export_scoring` is the
index-level special case used by the model tests.
"""

import logging
import os
import pathlib
import shutil
import uuid
from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from tfcdr.data.cross_domain_data import CrossDomainData
from tfcdr.data.splits import Split
from tfcdr.errors import DataError
from tfcdr.export.serving_graph import ServingGraph
from tfcdr.export.warmup import WARMUP_FILE, warmup_requests, write_warmup_requests

logger = logging.getLogger("tfcdr")

SIGNATURES = {
    "serving_default": ("user", "item", "domain"),
    "recommend": ("user", "domain"),
}


def export_model(
    model, split_or_vocab, base_dir, k=10, exclude_known=True, fallback_users=1000, warmup=True, verify=True
):
    """Exports `model` as the next version under `base_dir` for TF Serving.

    The version is one more than the largest integer folder in `base_dir`
    (1 for the first); existing versions are never touched. The SavedModel
    is written to a dot-folder beside the version, loaded back and checked
    (its `serving_default` scores equal the model's own; every warmup
    request runs), then renamed into place, so a server polling `base_dir`
    never sees a half-written or broken version.

    Args:
        model: a trained `tfcdr.models.CDRModel`.
        split_or_vocab: the `Split` the model was trained on (vocabularies,
            known training items, users for the cold-start score), a
            `CrossDomainData` (known items = all its interactions), or a dict
            with `user_vocab`, `item_vocabs` and optionally `known`
            ({domain: (user indices, item indices)}).
        base_dir: the model's folder, e.g. "saved_models/mlp"; TF Serving
            serves it under the folder's name.
        k: items per row returned by `recommend`.
        exclude_known: `recommend` skips the user's known (training) items.
        fallback_users: users averaged over for the cold-start item score.
        warmup: write `assets.extra/tf_serving_warmup_requests`.
        verify: load the SavedModel back and check it before publishing.

    Returns:
        pathlib.Path of the version folder written.

    Example:
        >>> path = export_model(model, split, "saved_models/mlp", k=10)
        >>> served = tf.saved_model.load(str(path))
        >>> served.signatures["recommend"](
        ...     user=tf.constant(["42"]), domain=tf.constant(["target"]))
    """
    base_dir = pathlib.Path(base_dir)
    user_vocab, item_vocabs, known, pools = _vocabulary(split_or_vocab, model)
    graph = ServingGraph(
        model,
        user_vocab,
        item_vocabs,
        known=known if exclude_known else None,
        fallback_user_pool=pools,
        k=k,
        fallback_users=fallback_users,
    )
    archive = _archive(model)
    for resource in graph.resources:
        archive.track(resource)
    strings = {name: tf.TensorSpec([None], tf.string, name=name) for name in ("user", "item", "domain")}
    archive.add_endpoint(
        "serving_default", graph.score, input_signature=[strings[n] for n in SIGNATURES["serving_default"]]
    )
    archive.add_endpoint("recommend", graph.recommend, input_signature=[strings[n] for n in SIGNATURES["recommend"]])

    base_dir.mkdir(parents=True, exist_ok=True)
    temporary = base_dir / f".tmp-{uuid.uuid4().hex}"
    try:
        archive.write_out(str(temporary), verbose=False)
        requests = warmup_requests(base_dir.name, user_vocab, item_vocabs)
        if warmup:
            write_warmup_requests(temporary / "assets.extra" / WARMUP_FILE, requests)
        if verify:
            _verify(temporary, model, user_vocab, item_vocabs, requests)
        path = _publish(temporary, base_dir)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    logger.info("exported %s (signatures serving_default, recommend k=%d)", path, k)
    return path


def export_scoring(model, path):
    """Writes a SavedModel with one `score_<domain>` endpoint per domain.

    Each endpoint takes int32 `user_ids` [n] and `item_ids` [n] (indices)
    and returns the model's `score` for those pairs: the index-level view
    used by tests and by code that already holds indices. Deployments use
    `export_model`.

    Args:
        model: a `tfcdr.models.CDRModel`.
        path: output directory.

    Returns:
        The endpoint names written.
    """
    archive = _archive(model)
    names = []
    for domain in model.domains:
        name = f"score_{domain}"
        archive.add_endpoint(
            name,
            _scorer(model, domain),
            input_signature=[
                tf.TensorSpec([None], tf.int32, name="user_ids"),
                tf.TensorSpec([None], tf.int32, name="item_ids"),
            ],
        )
        names.append(name)
    archive.write_out(str(path), verbose=False)
    return names


def versions(base_dir):
    """Sorted integer versions present in `base_dir`."""
    base_dir = pathlib.Path(base_dir)
    if not base_dir.is_dir():
        return []
    return sorted(int(p.name) for p in base_dir.iterdir() if p.is_dir() and p.name.isdigit())


def _archive(model):
    archive = keras.export.ExportArchive()
    archive.track(model)
    return archive


def _scorer(model, domain):
    def score(user_ids, item_ids):
        return model.score(domain, user_ids, item_ids)

    return score


def _verify(path, model, user_vocab, item_vocabs, requests, rows=8):
    """Loads the SavedModel at `path`; raises RuntimeError unless it behaves."""
    served = tf.saved_model.load(str(path))
    for request in requests:
        inputs = {key: tf.constant(tf.make_ndarray(value)) for key, value in request.inputs.items()}
        served.signatures[request.model_spec.signature_name](**inputs)
    users = np.arange(min(rows, len(user_vocab)))
    for domain in model.domains:
        items = np.arange(len(users)) % len(item_vocabs[domain])
        out = served.signatures["serving_default"](
            user=tf.constant(np.asarray(user_vocab)[users].astype(str)),
            item=tf.constant(np.asarray(item_vocabs[domain])[items].astype(str)),
            domain=tf.constant([domain] * len(users)),
        )
        expected = np.asarray(model.score(domain, tf.constant(users, tf.int32), tf.constant(items, tf.int32)))
        if not np.allclose(out["scores"].numpy(), np.reshape(expected, [-1]), rtol=1e-4, atol=1e-5):
            raise RuntimeError(f"the SavedModel written to {path} does not reproduce the model's scores in {domain!r}")


def _publish(temporary, base_dir):
    # os.rename is atomic on one filesystem and fails when the target
    # exists and is not empty, so two concurrent exports never share a
    # version: the loser retries with the next number.
    for _ in range(100):
        path = base_dir / str((versions(base_dir) or [0])[-1] + 1)
        try:
            os.rename(temporary, path)
            return path
        except OSError:
            if not path.exists():
                raise
    raise OSError(f"could not find a free version folder in {base_dir}")


def _vocabulary(source, model):
    """(user_vocab, item_vocabs, known, cold-start user pools) of `source`."""
    if isinstance(source, Split):
        item_vocabs = dict(source.item_vocabs)
        known = {
            d: (part.train["user"].to_numpy(), part.train["item"].to_numpy()) for d, part in source.domains.items()
        }
        user_vocab = source.user_vocab
    elif isinstance(source, CrossDomainData):
        item_vocabs = {d: dom.item_vocab for d, dom in source.domains.items()}
        known = {
            d: (dom.interactions["user"].to_numpy(), dom.interactions["item"].to_numpy())
            for d, dom in source.domains.items()
        }
        user_vocab = source.user_vocab
    elif isinstance(source, Mapping):
        user_vocab, item_vocabs = source["user_vocab"], dict(source["item_vocabs"])
        known = source.get("known")
    else:
        raise DataError(f"export needs a Split, a CrossDomainData or a vocabulary dict, got {type(source).__name__}")
    missing = [d for d in model.domains if d not in item_vocabs]
    if missing:
        raise DataError(f"the vocabulary lacks the model's domains {missing}")
    if len(user_vocab) != model.num_users:
        raise DataError(f"user vocabulary has {len(user_vocab)} ids but the model {model.num_users} users")
    for d in model.domains:
        if len(item_vocabs[d]) != model.num_items[d]:
            raise DataError(
                f"{d}: item vocabulary has {len(item_vocabs[d])} ids but the model {model.num_items[d]} items"
            )
    pools = None if known is None else {d: np.unique(known[d][0]) for d in model.domains if d in known}
    if known is not None:
        known = {d: known.get(d, (np.zeros(0, np.int64), np.zeros(0, np.int64))) for d in model.domains}
    return user_vocab, {d: item_vocabs[d] for d in model.domains}, known, pools
