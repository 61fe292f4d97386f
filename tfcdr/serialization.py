"""The one place tfcdr classes register with Keras serialization."""

import keras


def register(cls):
    """Class decorator: serializable as "tfcdr>ClassName", no custom_objects needed."""
    return keras.saving.register_keras_serializable(package="tfcdr")(cls)
