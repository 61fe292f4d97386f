"""GlobalBatchL2: Keras' L2 activity regularizer with global-batch semantics under several replicas."""

import keras
from keras import ops

from tfcdr.serialization import register
from tfcdr.training import distribute


@register
class GlobalBatchL2(keras.regularizers.L2):
    """`keras.regularizers.L2` for activities, exact on any number of replicas.

    Keras divides an activity regularizer by the rows of the batch the
    layer saw, which under R replicas is the replica's share n_r of the
    global batch N. This regularizer multiplies its value by `R n_r / N`
    there (N from an all-reduce), so that the replicas' values average to
    `l2 * sum over the global batch / N`, the single-process value, even
    when the shares are unequal; `CDRModel.regularization_loss` then takes
    the 1/R share of the sum as for any other loss term. Without replicas
    it is `keras.regularizers.L2`, bit for bit.

    Args:
        l2: the L2 factor.
    """

    def __call__(self, x):
        value = super().__call__(x)
        if not distribute.replicated():
            return value
        return value * distribute.share_factor(ops.cast(ops.shape(x)[0], value.dtype))
