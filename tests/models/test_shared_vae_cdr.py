import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import run_model_saving_test, run_model_test, tiny_split
from tfcdr.data import keys, pipelines
from tfcdr.errors import DataError
from tfcdr.models.shared_vae_cdr import PRESETS, SharedVAECDR

TINY = {"hidden_units": [16], "latent_dim": 4}


def _model(split=None, preset="sharedvae", **kwargs):
    split = split or tiny_split()
    options = {**PRESETS[preset], **TINY, "seed": 0, **kwargs}
    if options.get("auxiliary_dim", 0) is None:
        options.update(auxiliary_dim=5, auxiliary_units=[6])
    model = SharedVAECDR(split.domain_names, split.num_users, split.num_items, **options)
    if model.user_features is not None:
        model.set_user_features(np.random.default_rng(0).random((split.num_users, 5)))
    model.prepare(split)
    return model


def _batch(split, batch_size=32):
    (x,) = next(iter(pipelines.user_vectors(split, batch_size=batch_size, shuffle=False)))
    return x


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_variant_trains_every_weight_and_round_trips(preset):
    model = _model(preset=preset)
    run_model_test(model, tiny_split())


def test_saving_restores_scores_history_and_auxiliary_features(tmp_path):
    # The auxiliary model holds every kind of state: both histories and the features.
    model = _model(preset="sharedvae-aux")
    reloaded = run_model_saving_test(model, tmp_path)
    np.testing.assert_array_equal(np.asarray(reloaded.user_features), np.asarray(model.user_features))
    users = tf.range(20)
    for d in model.domains:
        np.testing.assert_array_equal(np.asarray(reloaded.user_history[d]), np.asarray(model.user_history[d]))
        np.testing.assert_allclose(
            np.asarray(reloaded.score_all_items(d, users)),
            np.asarray(model.score_all_items(d, users)),
            rtol=1e-5,
        )


def test_history_is_the_training_split_and_scores_gather_from_all_items():
    split = tiny_split()
    model = _model(split)
    np.testing.assert_array_equal(
        np.asarray(model.user_history["target"]),
        pipelines.interaction_matrix(split, "target"),
    )
    users = tf.constant([3, 1, 3, 7], tf.int32)
    items = tf.constant([5, 0, 9, 2], tf.int32)
    full = np.asarray(model.score_all_items("target", users))
    np.testing.assert_allclose(
        np.asarray(model.score("target", users, items)),
        full[np.arange(4), items.numpy()],
        rtol=1e-6,
    )


def _set_row(weight, user, values):
    matrix = np.asarray(weight).copy()
    matrix[user] = values
    weight.assign(matrix)


def test_transfer_is_asymmetric_in_scores():
    model = _model()
    users = tf.constant([4], tf.int32)
    source, target = (np.asarray(model.score_all_items(d, users)) for d in ("source", "target"))
    # New target history: the source scores cannot move, the target ones do.
    _set_row(
        model.user_history["target"],
        4,
        1.0 - np.asarray(model.user_history["target"])[4],
    )
    np.testing.assert_array_equal(np.asarray(model.score_all_items("source", users)), source)
    moved_target = np.asarray(model.score_all_items("target", users))
    assert not np.allclose(moved_target, target)
    # New source history moves the target scores too (eq. 6).
    _set_row(
        model.user_history["source"],
        4,
        1.0 - np.asarray(model.user_history["source"])[4],
    )
    assert not np.allclose(np.asarray(model.score_all_items("target", users)), moved_target)


def _same_weights(a, b):
    b.set_weights(a.get_weights())
    return b


def test_nonzero_weight_scales_the_loss_of_nonzero_entries_by_one_plus_beta():
    split = tiny_split()
    plain = _model(split, nonzero_weight=0.0, kl_weight=0.0, mmd_weight=0.0, l2=0.0)
    weighted = _same_weights(plain, _model(split, nonzero_weight=4.0, kl_weight=0.0, mmd_weight=0.0, l2=0.0))
    x = _batch(split)
    y_pred = plain(x, training=False)
    expected_gap = 0.0
    for d in plain.domains:
        vectors = x[d].numpy()
        p = tf.sigmoid(y_pred["logits"][d]).numpy()
        present = vectors.any(axis=1)
        nonzero_part = (-(vectors * np.log(p))).sum(axis=1)[present].mean()
        expected_gap += 4.0 * nonzero_part
        # Eq. 8 per user: zero entries unchanged, non-zero entries times (1 + beta).
        zero_part = (-(1 - vectors) * np.log(1 - p)).sum(axis=1)
        np.testing.assert_allclose(
            weighted.reconstruction_loss(x[d], y_pred["logits"][d]).numpy(),
            zero_part + 5.0 * (-(vectors * np.log(p))).sum(axis=1),
            rtol=1e-4,
        )
    gap = float(weighted.compute_loss(x=x, y_pred=y_pred)) - float(plain.compute_loss(x=x, y_pred=y_pred))
    assert gap == pytest.approx(expected_gap, rel=1e-4)


def test_mmd0_has_no_mmd_term():
    split = tiny_split()
    full = _model(split)
    ablated = _same_weights(full, _model(split, preset="sharedvae-mmd0"))
    x = _batch(split)
    y_pred = full(x, training=True)
    latents = y_pred["latents"]
    present = [tf.cast(tf.reduce_any(x[d] > 0, axis=1), tf.float32) for d in ("source", "target")]
    mmd = float(full.mmd((latents["source_z"], latents["target_z"]), sample_weights=present))
    assert mmd > 0 and ablated.mmd_weight == 0.0
    gap = float(full.compute_loss(x=x, y_pred=y_pred)) - float(ablated.compute_loss(x=x, y_pred=y_pred))
    assert gap == pytest.approx(full.mmd_weight * mmd, rel=1e-3, abs=1e-5)
    assert "mmd_loss" not in [m.name for m in ablated.metrics]


def test_users_absent_from_a_domain_are_not_reconstructed_there():
    split = tiny_split()
    model = _model(split, kl_weight=0.0, mmd_weight=0.0, l2=0.0)
    x = dict(_batch(split))
    x["target"] = tf.tensor_scatter_nd_update(x["target"], [[0]], tf.zeros((1, split.num_items["target"])))
    y_pred = model(x, training=False)
    before = float(model.compute_loss(x=x, y_pred=y_pred))
    moved = tf.tensor_scatter_nd_add(y_pred["logits"]["target"], [[0]], tf.fill((1, split.num_items["target"]), 3.0))
    y_pred["logits"]["target"] = moved
    assert float(model.compute_loss(x=x, y_pred=y_pred)) == pytest.approx(before, rel=1e-6)


def test_cold_start_model_scores_target_from_source_data_only():
    split = tiny_split("cold-start")
    model = _model(split, preset="sharedvae-coldstart")
    cold = int(split.domains["target"].test.users[0])
    history = np.asarray(model.user_history["target"])
    assert not history[cold].any(), "a cold-start user has no target training rows"
    users = tf.constant([cold], tf.int32)
    scores = np.asarray(model.score_all_items("target", users))
    assert np.all(np.isfinite(scores))
    # Target data never enters the prediction ...
    _set_row(model.user_history["target"], cold, 1.0)
    np.testing.assert_array_equal(np.asarray(model.score_all_items("target", users)), scores)
    # ... source data does.
    _set_row(
        model.user_history["source"],
        cold,
        1.0 - np.asarray(model.user_history["source"])[cold],
    )
    assert not np.allclose(np.asarray(model.score_all_items("target", users)), scores)


def test_cold_start_loss_has_the_mapping_term():
    split = tiny_split()
    model = _model(split, preset="sharedvae-coldstart", mapping_weight=0.0)
    mapped = _same_weights(model, _model(split, preset="sharedvae-coldstart", mapping_weight=2.0))
    x = _batch(split)
    y_pred = model(x, training=False)
    latents = y_pred["latents"]
    present = tf.cast(tf.reduce_any(x["target"] > 0, axis=1), tf.float32)
    distance = tf.reduce_sum(tf.square(latents["mapped_z"] - latents["target_z"]), axis=1)
    expected = 2.0 * float(tf.reduce_sum(distance * present) / tf.reduce_sum(present))
    gap = float(mapped.compute_loss(x=x, y_pred=y_pred)) - float(model.compute_loss(x=x, y_pred=y_pred))
    assert gap == pytest.approx(expected, rel=1e-4)


def test_auxiliary_features_change_scores_and_must_be_set():
    split = tiny_split()
    model = _model(split, preset="sharedvae-aux")
    users = tf.constant([2, 3], tf.int32)
    before = np.asarray(model.score_all_items("target", users))
    model.set_user_features(np.asarray(model.user_features) + 1.0)
    assert not np.allclose(np.asarray(model.score_all_items("target", users)), before)
    fresh = SharedVAECDR(split.domain_names, split.num_users, split.num_items, auxiliary_dim=5, **TINY)
    with pytest.raises(DataError, match="set_user_features"):
        fresh.prepare(split)
    with pytest.raises(DataError, match="expects"):
        fresh.set_user_features(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="auxiliary_dim is required"):
        SharedVAECDR(
            split.domain_names,
            split.num_users,
            split.num_items,
            **PRESETS["sharedvae-aux"],
        )


def test_clear_errors():
    split = tiny_split()
    args = (split.domain_names, split.num_users, split.num_items)
    with pytest.raises(ValueError, match="architecture must be one of"):
        SharedVAECDR(*args, architecture="dual")
    with pytest.raises(ValueError, match="one latent space"):
        SharedVAECDR(*args, architecture="merged", mmd_weight=1.0)
    with pytest.raises(ValueError, match="exactly two domains"):
        SharedVAECDR(["a", "b", "c"], 5, [3, 3, 3])
    model = SharedVAECDR(*args, **TINY)
    with pytest.raises(ValueError, match="unknown domain 'books'"):
        model.score_all_items("books", tf.constant([0]))


def test_user_vectors_pipeline_feeds_the_model():
    split = tiny_split()
    model = _model(split)
    x = _batch(split, batch_size=8)
    out = model(x)
    assert out["logits"]["target"].shape == (8, split.num_items["target"])
    assert set(x) == {keys.USER_ID, "source", "target"}


def test_preset_follows_the_data_size_between_the_papers_two():
    from tfcdr.models import preset_by_size
    from tfcdr.models.shared_vae_cdr import AMAZON_PRESET, PRESETS, SIZE_SWITCH, sized_preset

    small, training, note = sized_preset(PRESETS["sharedvae"], 2262)
    assert small == PRESETS["sharedvae"] and training["batch_size"] == 32 and "MovieLens preset" in note
    large, training, note = sized_preset(PRESETS["sharedvae"], SIZE_SWITCH)
    assert large["hidden_units"] == AMAZON_PRESET["hidden_units"] and large["nonzero_weight"] == 90.0
    assert training["batch_size"] == 128 and "Amazon preset (encoder n-512-256-128" in note
    merged0, _, _ = sized_preset(PRESETS["sharedvae-merged0"], 60000)
    assert merged0["hidden_units"] == [1024, 512] and merged0["latent_dim"] == 256 and merged0["nonzero_weight"] == 0
    assert SIZE_SWITCH == 11638
    # Models without a size rule keep their preset and state none.
    assert preset_by_size("mlp", tiny_split())[2] is None


def test_training_defaults_follow_the_size_and_the_summary_states_the_preset(tmp_path):
    import dataclasses

    from tfcdr.models import preset_by_size, split_config
    from tfcdr.results import write_run

    small = tiny_split()
    large = dataclasses.replace(small, num_items={d: 20000 for d in small.domain_names})
    assert split_config("sharedvae", {}, small)[1]["batch_size"] == 32
    assert split_config("sharedvae", {}, large)[1]["batch_size"] == 128
    assert split_config("sharedvae", {"batch_size": 64}, large)[1]["batch_size"] == 64
    note = preset_by_size("sharedvae", large)[2]
    result = {
        "model": "sharedvae",
        "dataset": "big",
        "protocol": "loo-sampled",
        "seed": 0,
        "split_fingerprint": "x",
        "preset": note,
        "metrics": {"target": {"hr@10": 0.5}},
        "history": {"loss": [1.0]},
        "train_seconds": 1.0,
    }
    write_run(tmp_path, result)
    assert (
        "Preset: SharedVAE Amazon preset (encoder n-512-256-128, beta 90, batch 128)"
        in (tmp_path / "summary.md").read_text()
    )
