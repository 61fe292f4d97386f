import keras
import numpy as np
import tensorflow as tf

from tests.test_case import run_layer_test
from tfcdr.layers import RowEmbedding

IDS = np.array([[0, 3], [3, 9]], np.int32)


def test_layer_contract():
    run_layer_test(
        RowEmbedding,
        {"input_dim": 10, "output_dim": 4, "activity_regularizer": "l2"},
        IDS,
        (2, 2, 4),
        expected_num_trainable_weights=1,
    )


def test_same_rows_and_gradient_as_keras_embedding_and_gradient_stays_sparse():
    layer = RowEmbedding(10, 4, activity_regularizer=keras.regularizers.L2(0.1))
    reference = keras.layers.Embedding(10, 4, activity_regularizer=keras.regularizers.L2(0.1))
    layer.build()
    reference.build()
    reference.set_weights(layer.get_weights())
    gradients = []
    for embedding in (layer, reference):
        with tf.GradientTape() as tape:
            out = embedding(IDS)
            loss = tf.reduce_sum(out * tf.range(4, dtype=tf.float32)) + tf.add_n(embedding.losses)
        gradients.append(tape.gradient(loss, embedding.trainable_weights[0]))
        np.testing.assert_array_equal(out.numpy(), reference.embeddings.numpy()[IDS])
    assert isinstance(gradients[0], tf.IndexedSlices)
    np.testing.assert_allclose(tf.convert_to_tensor(gradients[0]), tf.convert_to_tensor(gradients[1]), rtol=1e-6)
    # `rows` reads the same rows without adding the activity loss.
    np.testing.assert_array_equal(layer.rows(tf.constant(IDS)).numpy(), reference.embeddings.numpy()[IDS])


def test_saved_model_reloads_as_row_embedding(tmp_path):
    inputs = keras.Input((2,), dtype="int32")
    model = keras.Model(inputs, RowEmbedding(10, 4, name="rows")(inputs))
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(reloaded.get_layer("rows")) is RowEmbedding
    np.testing.assert_array_equal(reloaded(IDS), model(IDS))
