"""RowEmbedding: a Keras Embedding whose look-up reads only the rows asked for."""

import keras
import tensorflow as tf
from keras import ops

from tfcdr.serialization import register


@register
class RowEmbedding(keras.layers.Embedding):
    """`keras.layers.Embedding` that gathers rows from the table variable itself.

    Same weights, arguments, config and outputs as `keras.layers.Embedding`;
    only the read differs. Keras' look-up (`ops.take`) first reads the whole
    table as a tensor. Once a row-sparse optimizer (`SparseAdam`) has
    scattered into the table, TensorFlow keeps that variable in copy-on-read
    mode, and every such whole-table read copies it: a step then costs
    O(vocabulary) again (~115 ms at 1 M x 32 on this machine's CPU). A
    gather on the variable (`ResourceGather`) reads the batch's rows only,
    and its gradient stays a `tf.IndexedSlices`.

    Args:
        input_dim, output_dim, **kwargs: as in `keras.layers.Embedding`.

    Call arguments:
        inputs: integer ids, any shape.

    Returns:
        The rows of `inputs`, shape `inputs.shape + (output_dim,)`.

    Example:
        >>> layer = RowEmbedding(1_000_000, 32)
        >>> layer(np.array([3, 7])).shape
        TensorShape([2, 32])
    """

    def call(self, inputs):
        return ops.cast(self.rows(inputs), dtype=self.compute_dtype)

    def rows(self, ids):
        """The table's rows at `ids`, without the layer's activity regularizer (not a layer call)."""
        if ids.dtype != "int32" and ids.dtype != "int64":
            ids = ops.cast(ids, "int32")
        table = self.embeddings
        if isinstance(table, keras.Variable) and keras.backend.backend() == "tensorflow":
            return tf.gather(table.value, ids)
        # LoRA or quantized tables are computed tensors: Keras' look-up.
        return ops.take(table, ids, axis=0)
