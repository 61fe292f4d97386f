"""The exported signatures reproduce the Keras model and handle unknown ids."""

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import K
from tests.export.splits import BASIC
from tfcdr.export import UNKNOWN_DOMAIN, UNKNOWN_ITEM, UNKNOWN_USER
from tfcdr.export.serving_graph import ServingGraph
from tfcdr.models import MODELS

NAMES = sorted(MODELS)


def _strings(values):
    return tf.constant(np.asarray(values).astype(str))


def _known_rows(split, domain):
    train = split.domains[domain].train
    return train.groupby("user")["item"].apply(set).to_dict()


def _cold_start(model, split, domain):
    users = np.unique(split.domains[domain].train["user"].to_numpy())
    return np.asarray(model.score_all_items(domain, tf.constant(users, tf.int32))).mean(axis=0)


@pytest.mark.parametrize("name", NAMES)
def test_serving_default_matches_model_scores_in_a_mixed_domain_batch(exported, name):
    e = exported(name)
    rng = np.random.default_rng(1)
    users, items, domains = [], [], []
    for domain in e.model.domains:
        users.append(rng.integers(0, e.model.num_users, 16))
        items.append(rng.integers(0, e.model.num_items[domain], 16))
        domains += [domain] * 16
    order = rng.permutation(len(domains))  # interleave domains in one request
    user_ext = np.concatenate([e.split.user_vocab[u] for u in users])[order]
    item_ext = np.concatenate([e.split.item_vocabs[d][i] for d, i in zip(e.model.domains, items, strict=True)])[order]
    out = e.served.signatures["serving_default"](
        user=_strings(user_ext), item=_strings(item_ext), domain=_strings(np.asarray(domains)[order])
    )
    expected = np.concatenate(
        [
            np.asarray(e.model.score(d, tf.constant(u, tf.int32), tf.constant(i, tf.int32)))
            for d, u, i in zip(e.model.domains, users, items, strict=True)
        ]
    )[order]
    np.testing.assert_allclose(out["scores"].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not out["unknown"].numpy().any()


@pytest.mark.parametrize("name", NAMES)
def test_recommend_is_top_k_of_score_all_items_without_known_items(exported, name):
    e = exported(name)
    for domain in e.model.domains:
        known = _known_rows(e.split, domain)
        all_users = np.arange(e.model.num_users)
        full = np.asarray(e.model.score_all_items(domain, tf.constant(all_users, tf.int32)))
        masked = full.copy()
        for user, items in known.items():
            masked[user, list(items)] = -np.inf
        # Users whose unmasked top-k holds a training item, so the
        # exclusion is really exercised, plus users without training items.
        unmasked_top = np.argsort(-full, axis=1)[:, :K]
        clash = [u for u in all_users if known.get(u, set()) & set(unmasked_top[u])]
        assert clash, "test data too easy: no top-k contains a known item"
        users = np.array(clash[:6] + [u for u in all_users if u not in known][:2])
        out = e.served.signatures["recommend"](
            user=_strings(e.split.user_vocab[users]), domain=_strings([domain] * len(users))
        )
        scores, ids = out["scores"].numpy(), out["item_ids"].numpy().astype(str)
        assert scores.shape == ids.shape == (len(users), K)
        index = {item: i for i, item in enumerate(e.split.item_vocabs[domain].astype(str))}
        for row, user in enumerate(users):
            np.testing.assert_allclose(scores[row], np.sort(masked[user])[::-1][:K], rtol=1e-5, atol=1e-6)
            items = [index[i] for i in ids[row]]
            np.testing.assert_allclose(masked[user, items], scores[row], rtol=1e-5, atol=1e-6)
            assert not set(items) & known.get(user, set())


@pytest.mark.parametrize("name", NAMES)
def test_unknown_ids_get_the_documented_fallback(exported, name):
    e = exported(name)
    domain = e.model.domains[-1]
    cold = _cold_start(e.model, e.split, domain)
    user0, item3 = e.split.user_vocab[0], e.split.item_vocabs[domain][3]
    out = e.served.signatures["serving_default"](
        user=_strings(["no-such-user", user0, "no-such-user", user0]),
        item=_strings([item3, "no-such-item", "no-such-item", item3]),
        domain=_strings([domain, domain, domain, "no-such-domain"]),
    )
    scores, unknown = out["scores"].numpy(), out["unknown"].numpy()
    np.testing.assert_allclose(scores, [cold[3], cold.mean(), cold.mean(), -np.inf], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(unknown, [UNKNOWN_USER, UNKNOWN_ITEM, UNKNOWN_USER | UNKNOWN_ITEM, UNKNOWN_DOMAIN])

    out = e.served.signatures["recommend"](
        user=_strings(["no-such-user", user0]), domain=_strings([domain, "no-such-domain"])
    )
    ids, scores = out["item_ids"].numpy().astype(str), out["scores"].numpy()
    np.testing.assert_allclose(scores[0], np.sort(cold)[::-1][:K], rtol=1e-4, atol=1e-6)
    index = {item: i for i, item in enumerate(e.split.item_vocabs[domain].astype(str))}
    np.testing.assert_allclose(cold[[index[i] for i in ids[0]]], scores[0], rtol=1e-4, atol=1e-6)
    assert (ids[1] == "").all() and np.isneginf(scores[1]).all()
    np.testing.assert_array_equal(out["unknown"].numpy(), [UNKNOWN_USER, UNKNOWN_DOMAIN])


def test_empty_request_returns_empty_outputs(exported):
    e = exported(BASIC)
    out = e.served.signatures["recommend"](user=_strings([]), domain=_strings([]))
    assert out["item_ids"].shape == (0, K)
    out = e.served.signatures["serving_default"](user=_strings([]), item=_strings([]), domain=_strings([]))
    assert out["scores"].shape == (0,)


def test_recommend_in_chunks_of_rows_gives_the_same_top_k(exported):
    e = exported(BASIC)
    domain = e.model.domains[0]
    items = e.model.num_items[domain]
    vocab = {d: e.split.item_vocabs[d] for d in e.model.domains}
    users = _strings(np.concatenate([e.split.user_vocab[:7], ["no-such-user"]]))
    domains = _strings([domain] * 8)
    whole = tf.function(ServingGraph(e.model, e.split.user_vocab, vocab, k=K).recommend)(users, domains)
    # Three rows per chunk: 8 rows in 3 chunks, the last one short.
    chunked = ServingGraph(e.model, e.split.user_vocab, vocab, k=K, chunk_scores=3 * items)
    chunked = tf.function(chunked.recommend)(users, domains)
    for key in ("item_ids", "scores", "unknown"):
        np.testing.assert_array_equal(chunked[key].numpy(), whole[key].numpy())


def test_odd_ids_are_unknown_and_a_large_request_is_answered_whole(exported):
    e = exported(BASIC)
    domain = e.model.domains[-1]
    user0, item0 = e.split.user_vocab[0], e.split.item_vocabs[domain][0]
    odd = [b"", b"\xff\xfe not utf-8", b"x" * 100_000]
    out = e.served.signatures["serving_default"](
        user=tf.constant(odd + [str(user0).encode()] * 3),
        item=tf.constant([str(item0).encode()] * 3 + odd),
        domain=tf.constant([domain.encode()] * 6),
    )
    np.testing.assert_array_equal(out["unknown"].numpy(), [UNKNOWN_USER] * 3 + [UNKNOWN_ITEM] * 3)
    assert np.isfinite(out["scores"].numpy()).all()
    out = e.served.signatures["recommend"](user=tf.constant(odd), domain=tf.constant([b"", domain.encode(), b"\xff"]))
    np.testing.assert_array_equal(
        out["unknown"].numpy(), [UNKNOWN_USER | UNKNOWN_DOMAIN, UNKNOWN_USER, UNKNOWN_USER | UNKNOWN_DOMAIN]
    )
    rows = 100_000
    out = e.served.signatures["recommend"](user=_strings([user0] * rows), domain=_strings([domain] * rows))
    assert out["item_ids"].shape == (rows, K)
    assert (out["item_ids"].numpy() == out["item_ids"].numpy()[:1]).all()


def test_inputs_of_different_lengths_are_an_invalid_argument_naming_them(exported):
    e = exported(BASIC)
    domain = e.model.domains[0]
    with pytest.raises(tf.errors.InvalidArgumentError, match="inputs user, item and domain must have the same length"):
        e.served.signatures["serving_default"](
            user=_strings(["a", "b"]), item=_strings(["c"]), domain=_strings([domain] * 2)
        )
    with pytest.raises(tf.errors.InvalidArgumentError, match="inputs user and domain must have the same length"):
        e.served.signatures["recommend"](user=_strings(["a", "b"]), domain=_strings([domain]))
