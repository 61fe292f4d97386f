"""SavedModel export: the one export path of every zoo model."""

import keras
import tensorflow as tf


def export_scoring(model, path):
    """Writes a SavedModel with one `score_<domain>` endpoint per domain.

    Each endpoint takes int32 `user_ids` [n] and `item_ids` [n] (indices)
    and returns the model's `score` for those pairs. The TF Serving layer
    (named signatures on external ids, top-k, warmup) builds on this.

    Args:
        model: a `tfcdr.models.CDRModel`.
        path: output directory.

    Returns:
        The endpoint names written.
    """
    archive = keras.export.ExportArchive()
    archive.track(model)
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


def _scorer(model, domain):
    def score(user_ids, item_ids):
        return model.score(domain, user_ids, item_ids)

    return score
