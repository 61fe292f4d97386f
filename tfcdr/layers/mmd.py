"""MMD: maximum mean discrepancy between two samples, Gaussian kernel."""

import keras
from keras import ops

from tfcdr.serialization import register


@register
class MMD(keras.layers.Layer):
    """Squared maximum mean discrepancy of two samples (SharedVAE eq. 10).

    With the Gaussian kernel `k(a, b) = exp(-||a - b||^2 / (2 sigma^2))`
    and sample weights `p` over x and `q` over y (uniform by default):

        MMD^2 = sum_ij p_i p_j k(x_i, x_j) + sum_ij q_i q_j k(y_i, y_j)
                - 2 sum_ij p_i q_j k(x_i, y_j).

    This is the biased (V-statistic) estimate: never negative, close to 0
    for two samples of one distribution (of order 1 / batch size) and
    growing as the distributions move apart. SharedVAE adds it to the loss
    to pull the marginal distributions of the domains' latent vectors
    together.

    `bandwidth` is sigma. None sets `2 sigma^2` to the mean squared
    distance between the pooled points of the batch, held constant for the
    gradient: a fixed sigma that suits a 2-d latent makes every kernel
    value ~0 in 128 dimensions (distances grow with the dimension), which
    leaves the term constant and without gradient.

    Args:
        bandwidth: kernel width sigma (> 0), or None for the heuristic.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: `(x, y)`, float [n, d] and [m, d].
        sample_weights: optional `(p, q)`, float [n] and [m], >= 0 (e.g.
            1 for users who have interactions in the domain, 0 otherwise);
            normalized inside.

    Returns:
        Scalar float MMD^2.

    Example:
        >>> MMD(bandwidth=1.0)((np.zeros((8, 2)), np.ones((8, 2))))

    Reference:
        Gretton et al., A Kernel Two-Sample Test, JMLR 2012; SharedVAE
        eq. 10 (following Long et al., DAN, ICML 2015).
    """

    def __init__(self, bandwidth=None, **kwargs):
        super().__init__(**kwargs)
        if bandwidth is not None and not float(bandwidth) > 0:
            raise ValueError(f"bandwidth must be positive or None, got {bandwidth}")
        self.bandwidth = None if bandwidth is None else float(bandwidth)

    def call(self, inputs, sample_weights=None):
        x, y = inputs
        x = ops.convert_to_tensor(x)
        y = ops.cast(y, x.dtype)
        if sample_weights is None:
            p = ops.ones(ops.shape(x)[:1], x.dtype)
            q = ops.ones(ops.shape(y)[:1], x.dtype)
        else:
            p, q = (ops.cast(w, x.dtype) for w in sample_weights)
        # An empty side (e.g. no user of the batch in a domain) gives 0
        # instead of 0 / 0.
        p = p / ops.maximum(ops.sum(p), 1e-12)
        q = q / ops.maximum(ops.sum(q), 1e-12)
        xx, yy, xy = (
            _squared_distances(x, x),
            _squared_distances(y, y),
            _squared_distances(x, y),
        )
        if self.bandwidth is None:
            pooled = ops.concatenate(
                [
                    ops.reshape(xx, (-1,)),
                    ops.reshape(yy, (-1,)),
                    ops.reshape(xy, (-1,)),
                ],
                0,
            )
            two_sigma_sq = ops.stop_gradient(ops.maximum(ops.mean(pooled), 1e-6))
        else:
            two_sigma_sq = 2.0 * self.bandwidth**2

        def mean_kernel(d, a, b):
            return ops.sum(ops.exp(-d / two_sigma_sq) * a[:, None] * b[None, :])

        return mean_kernel(xx, p, p) + mean_kernel(yy, q, q) - 2.0 * mean_kernel(xy, p, q)

    def compute_output_shape(self, input_shape):
        return ()

    def get_config(self):
        config = super().get_config()
        config["bandwidth"] = self.bandwidth
        return config


def _squared_distances(a, b):
    """[n, m] squared Euclidean distances, clipped at 0 against round-off."""
    a_sq = ops.sum(ops.square(a), axis=-1)[:, None]
    b_sq = ops.sum(ops.square(b), axis=-1)[None, :]
    return ops.maximum(a_sq + b_sq - 2.0 * ops.matmul(a, ops.transpose(b)), 0.0)
