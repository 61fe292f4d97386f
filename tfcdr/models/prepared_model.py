"""PreparedModel: a model whose weights are computed from the split, not trained."""

from keras import ops

from tfcdr.data import keys
from tfcdr.models.cdr_model import CDRModel


class PreparedModel(CDRModel):
    """Base of the floors (Pop, Bias): every weight is set by `prepare(split)`.

    Subclasses keep their state in non-trainable weights, so a `.keras` file
    or an export carries it, and fill them in `prepare`, which `fit_model`
    calls before training. `fit` then runs through the shared trainer like
    any model (so evaluation, early stopping and logs are the usual ones)
    but changes nothing: the loss is 0 and there is nothing to train.
    """

    input_kind = "pointwise"

    def call(self, inputs, training=None):
        return {d: self.score(d, features[keys.USER_ID], features[keys.ITEM_ID]) for d, features in inputs.items()}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return ops.convert_to_tensor(0.0)
