"""OrthogonalMapping: DDTCDR's latent orthogonal map X between two domains."""

import keras
from keras import ops

from tfcdr.serialization import register

METHODS = ("polar", "penalty")


class _NearestOrthogonal(keras.constraints.Constraint):
    """Projects a square matrix onto the orthogonal group (polar factor).

    With `X = U S V^T`, `U V^T` is the orthogonal matrix nearest to X in the
    Frobenius norm, so the projection moves X as little as possible.
    """

    def __call__(self, w):
        u, _, vh = ops.svd(w, full_matrices=False)
        return ops.matmul(u, vh)


class _OrthogonalityPenalty(keras.regularizers.Regularizer):
    """`weight * ||X^T X - I||_F^2`: the soft constraint of the released code."""

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, w):
        gram = ops.matmul(ops.transpose(w), w)
        eye = ops.eye(ops.shape(w)[0], dtype=w.dtype)
        return self.weight * ops.sum(ops.square(gram - eye))


@register
class OrthogonalMapping(keras.layers.Layer):
    """A square orthogonal matrix X applied as `X w`, and `X^T w` as its inverse.

    DDTCDR (sec. 3.2) maps a user's embedding of domain A into domain B's
    latent space with X and back with X^T: because X is orthogonal, inner
    products (user similarities) are preserved and `X^T (X w) = w`, so the
    inverse map needs no parameters of its own.

    How X stays orthogonal. With `method="polar"` (default) X is a plain
    trainable matrix with a Keras constraint that replaces it by its polar
    factor `U V^T` (from the SVD `X = U S V^T`, the nearest orthogonal
    matrix) after every optimizer update; Keras applies `constraint` right
    after each `apply_gradients`, so this works with any optimizer and is
    exactly Algorithm 1's "backpropagate ...; orthogonalize X" (a projected
    gradient step). We prefer it to a parametrization orthogonal by
    construction: the Cayley transform cannot reach matrices with
    eigenvalue -1, and the exponential of a skew-symmetric matrix covers
    only rotations (det = +1) and has no `keras.ops` kernel; the projection
    covers the whole orthogonal group and costs one d x d SVD per step.
    X starts orthogonal (orthogonal initializer), so it is orthogonal to
    float precision (~1e-6) at every point of training.
    With `method="penalty"` X is unconstrained and the layer adds
    `penalty_weight * ||X^T X - I||_F^2` to its losses instead: the soft
    version of DDTCDR's released code, kept for comparison only; X is then
    only approximately orthogonal and `inverse` only approximately inverts.

    Args:
        method: "polar" (re-orthogonalize after each step) or "penalty".
        penalty_weight: weight of the orthogonality penalty ("penalty" only).
        kernel_initializer: initializer of X (default orthogonal).
        **kwargs: base layer arguments.

    Call arguments:
        inputs: float [batch, d] row vectors w.
        inverse: if True apply X^T instead of X.

    Returns:
        float [batch, d]: `X w` (or `X^T w`) for each row.

    Example:
        >>> mapping = OrthogonalMapping()
        >>> w = np.random.normal(size=(4, 8)).astype("float32")
        >>> np.allclose(mapping.inverse(mapping(w)), w, atol=1e-5)
        True

    Reference:
        Li & Tuzhilin, DDTCDR: Deep Dual Transfer Cross Domain
        Recommendation, WSDM 2020 (sec. 3.2, eq. 2-3, Algorithm 1 line 10).
    """

    def __init__(self, method="polar", penalty_weight=1e-3, kernel_initializer="orthogonal", **kwargs):
        super().__init__(**kwargs)
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if float(penalty_weight) < 0:
            raise ValueError(f"penalty_weight must be >= 0, got {penalty_weight}")
        self.method = method
        self.penalty_weight = float(penalty_weight)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError("OrthogonalMapping needs a known last dimension")
        polar = self.method == "polar"
        self.kernel = self.add_weight(
            shape=(dim, dim),
            initializer=self.kernel_initializer,
            constraint=_NearestOrthogonal() if polar else None,
            regularizer=None if polar else _OrthogonalityPenalty(self.penalty_weight),
            name="kernel",
        )

    def call(self, inputs, inverse=False):
        # Rows are vectors: (X w)^T = w^T X^T, and (X^T w)^T = w^T X.
        if inverse:
            return ops.matmul(inputs, self.kernel)
        return ops.matmul(inputs, ops.transpose(self.kernel))

    def inverse(self, inputs):
        """`X^T w` for each row w: the inverse map of an orthogonal X."""
        return self(inputs, inverse=True)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "method": self.method,
                "penalty_weight": self.penalty_weight,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config
