"""`training_dataset`: the tf.data pipeline a model asks for by its `input_kind`."""

import inspect

from tfcdr.data.paired import paired_pointwise, paired_ratings
from tfcdr.data.pipelines import pairwise, pointwise, ratings, user_vectors
from tfcdr.errors import DataError

# A model's `input_kind` -> the pipeline that feeds it.
BUILDERS = {
    "pointwise": pointwise,
    "pairwise": pairwise,
    "user_vectors": user_vectors,
    "rating": ratings,
    "paired_pointwise": paired_pointwise,
    "paired_rating": paired_ratings,
}
INPUT_KINDS = tuple(BUILDERS)


def training_dataset(split, kind, **options):
    """The pipeline a model asks for by its `input_kind`.

    Options a pipeline does not take (e.g. `negative_ratio` for pairwise
    input) are left out, so one set of training options serves every model.
    """
    if kind not in BUILDERS:
        raise DataError(f"unknown input kind {kind!r}; choose one of {list(BUILDERS)}")
    builder = BUILDERS[kind]
    accepted = inspect.signature(builder).parameters
    return builder(split, **{k: v for k, v in options.items() if k in accepted})
