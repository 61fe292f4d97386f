import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import tiny_split
from tfcdr.data import keys
from tfcdr.models import NCFMLP, TRAINING_DEFAULTS, get_spec
from tfcdr.training import SparseAdam, fit_model, make_optimizer

ROWS, DIM = 6, 3


def _train(optimizer, batches, duplicate_sums=False):
    """Steps of `optimizer` on a table (looked up, so IndexedSlices gradients) and a dense vector.

    Returns (table, vector, momentum of the table, velocity of the table) as arrays.
    """
    rng = np.random.default_rng(0)
    table = keras.Variable(rng.normal(size=(ROWS, DIM)).astype("float32"), name="table")
    vector = keras.Variable(rng.normal(size=(DIM,)).astype("float32"), name="vector")
    optimizer.build([table, vector])

    @tf.function
    def step(rows):
        with tf.GradientTape() as tape:
            looked_up = tf.gather(table.value, rows)
            loss = tf.reduce_sum(tf.square(tf.linalg.matvec(looked_up, vector.value) - 1.0))
        table_grad, vector_grad = tape.gradient(loss, [table.value, vector.value])
        assert isinstance(table_grad, tf.IndexedSlices)
        if duplicate_sums:
            # The same gradient with each row once: TensorFlow's densified sum, at the batch's rows.
            once, _ = tf.unique(rows)
            table_grad = tf.IndexedSlices(tf.gather(tf.convert_to_tensor(table_grad), once), once)
        optimizer.apply_gradients([(table_grad, table), (vector_grad, vector)])

    for rows in batches:
        step(tf.constant(rows))
    return table.numpy(), vector.numpy(), optimizer._momentums[0].numpy(), optimizer._velocities[0].numpy()


EVERY_ROW = [[0, 1, 2, 3, 4, 5], [5, 3, 1, 0, 2, 4], [2, 4, 0, 5, 1, 3]]


@pytest.mark.parametrize("options", [{}, {"amsgrad": True}, {"global_clipnorm": 0.5}, {"clipvalue": 0.05}])
def test_equals_dense_adam_when_every_row_is_in_every_batch(options):
    sparse = _train(SparseAdam(0.1, **options), EVERY_ROW)
    dense = _train(keras.optimizers.Adam(0.1, **options), EVERY_ROW)
    for got, expected in zip(sparse, dense, strict=True):
        np.testing.assert_array_equal(got, expected)
    # And the steps did move the weights.
    assert not np.allclose(sparse[0], _train(SparseAdam(0.1), [])[0])


def test_untouched_rows_and_their_moments_are_unchanged():
    before = _train(SparseAdam(0.1), [[0, 1, 2, 3]])
    after = _train(SparseAdam(0.1), [[0, 1, 2, 3], [0, 1]])
    for got, expected in zip(after, before, strict=True):
        if got.ndim == 2:
            # Rows 2, 3 (seen at step 1 only) and 4, 5 (never seen) keep every bit.
            np.testing.assert_array_equal(got[2:], expected[2:])
    # Rows 2 and 3 have non-zero moments, which dense Adam would have decayed.
    assert np.all(after[2][2:4] != 0)
    dense = _train(keras.optimizers.Adam(0.1), [[0, 1, 2, 3], [0, 1]])
    assert not np.array_equal(dense[2][2:4], after[2][2:4])
    # Touched rows moved at both steps.
    assert not np.array_equal(after[0][:2], before[0][:2])


def test_duplicate_rows_equal_their_summed_gradient():
    batches = [[0, 0, 3, 1, 3, 0], [2, 2, 2, 5]]
    repeated = _train(SparseAdam(0.1), batches)
    summed = _train(SparseAdam(0.1), batches, duplicate_sums=True)
    for got, expected in zip(repeated, summed, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # Rows 1 and 3, seen once, took exactly the values of the summed run.
    np.testing.assert_array_equal(repeated[2][[1, 3]], summed[2][[1, 3]])


def test_dense_variables_get_keras_adams_update():
    vector = keras.Variable(np.ones(DIM, "float32"))
    reference = keras.Variable(np.ones(DIM, "float32"))
    sparse_adam, adam = SparseAdam(0.1), keras.optimizers.Adam(0.1)
    for gradient in ([0.5, -1.0, 2.0], [0.1, 0.2, -0.3]):
        sparse_adam.apply_gradients([(tf.constant(gradient), vector)])
        adam.apply_gradients([(tf.constant(gradient), reference)])
    np.testing.assert_array_equal(vector.numpy(), reference.numpy())
    np.testing.assert_array_equal(sparse_adam._velocities[0].numpy(), adam._velocities[0].numpy())


@pytest.mark.parametrize(
    "option", [{"weight_decay": 0.01}, {"gradient_accumulation_steps": 2}, {"loss_scale_factor": 128.0}]
)
def test_options_that_touch_whole_tables_are_refused(option):
    with pytest.raises(ValueError, match=next(iter(option))):
        SparseAdam(0.1, **option)


def test_training_option_chooses_the_optimizer():
    assert TRAINING_DEFAULTS["optimizer"] == "sparse_adam"
    assert get_spec("mlp").training_options()["optimizer"] == "sparse_adam"
    assert type(make_optimizer("sparse_adam", 0.01)) is SparseAdam
    assert type(make_optimizer("adam", 0.01)) is keras.optimizers.Adam
    assert float(make_optimizer("adam", 0.01).learning_rate) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="sgd"):
        make_optimizer("sgd")


def _batches(users_per_step, seed):
    """Pointwise NCF-MLP batches whose users are `users_per_step[k]` at step k."""
    rng = np.random.default_rng(seed)
    for users in users_per_step:
        users = np.asarray(users, np.int32)
        x, y = {}, {}
        for domain in ("source", "target"):
            x[domain] = {keys.USER_ID: users, keys.ITEM_ID: rng.integers(0, 10, len(users)).astype(np.int32)}
            y[domain] = rng.integers(0, 2, len(users)).astype(np.float32)
        yield x, y


def _pointwise_dataset(users_per_step, seed=0):
    spec = tf.TensorSpec([None], tf.int32)
    signature = (
        {d: {keys.USER_ID: spec, keys.ITEM_ID: spec} for d in ("source", "target")},
        {d: tf.TensorSpec([None], tf.float32) for d in ("source", "target")},
    )
    dataset = tf.data.Dataset.from_generator(lambda: _batches(users_per_step, seed), output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(users_per_step)))


def _state(model):
    """Every weight and optimizer variable (slots and iteration count), by path."""
    return {v.path: v.numpy() for v in [*model.weights, *model.optimizer.variables]}


def test_zoo_model_trains_sparsely_saves_and_resumes(tmp_path):
    keras.utils.set_random_seed(0)
    model = NCFMLP(["source", "target"], 30, [10, 10], name="mlp")
    model.compile(optimizer=SparseAdam(1e-2), steps_per_execution=4)
    model.fit(_pointwise_dataset([range(0, 10)]), verbose=0, shuffle=False)
    table = model.user_embeddings["source"].embeddings
    slots = [s for s in model.optimizer.variables if s.path.endswith("user_embedding_source_embeddings_momentum")]
    first = table.numpy(), slots[0].numpy()
    assert np.all(first[1][:10] != 0)
    # Four steps in one execution, none with users 0-9: their rows and moments keep every bit.
    model.fit(
        _pointwise_dataset([range(10, 20), range(15, 25), range(20, 30), range(10, 30)]), verbose=0, shuffle=False
    )
    np.testing.assert_array_equal(table.numpy()[:10], first[0][:10])
    np.testing.assert_array_equal(slots[0].numpy()[:10], first[1][:10])
    assert not np.array_equal(table.numpy()[10:], first[0][10:])
    assert int(model.optimizer.iterations) == 5

    model.save(tmp_path / "model.keras")
    reloaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(reloaded.optimizer) is SparseAdam
    before = _state(model)
    restored = _state(reloaded)
    assert restored.keys() == before.keys()
    for path, value in before.items():
        np.testing.assert_array_equal(restored[path], value, err_msg=path)
    for m in (model, reloaded):
        m.fit(_pointwise_dataset([range(5, 25)], seed=1), verbose=0, shuffle=False)
    continued, resumed = _state(model), _state(reloaded)
    for path, value in continued.items():
        np.testing.assert_array_equal(resumed[path], value, err_msg=path)
    assert not np.array_equal(continued[table.path], before[table.path])


def test_fit_model_compiles_the_training_options_optimizer():
    split = tiny_split()
    model = NCFMLP(split.domain_names, split.num_users, split.num_items)
    # As `tfcdr train` passes them: the zoo's defaults, optimizer included.
    options = get_spec("mlp").training_options(epochs=1, batch_size=1024, steps_per_execution=4)
    fit_model(model, split, verbose=0, **options)
    assert type(model.optimizer) is SparseAdam
    assert int(model.optimizer.iterations) > 0
