"""`pretrain_feature_autoencoders`: DDTCDR's first stage, before the recommender."""

import keras
import numpy as np


class _Reconstruction(keras.Model):
    """Fits one `FeatureAutoencoder` on its feature matrix with Keras `fit`.

    The autoencoder's weights are shared with the recommender that owns it,
    so training here updates the recommender in place.
    """

    def __init__(self, autoencoder, **kwargs):
        super().__init__(**kwargs)
        self.autoencoder = autoencoder

    def call(self, inputs, training=None):
        # training=False: the weighted loss the layer adds when training is
        # for joint fine-tuning; pretraining uses the plain loss below.
        return self.autoencoder(inputs, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.autoencoder.reconstruction_loss(x, training=training)


def pretrain_feature_autoencoders(model, epochs=20, batch_size=256, learning_rate=1e-3, verbose=0):
    """Trains every feature autoencoder of `model` on its reconstruction loss.

    This is DDTCDR's first stage (sec. 3.1, Algorithm 1 input "autoencoder
    AE_A and AE_B"): each domain's user and item autoencoders are fit
    separately, on the rows of their own feature matrix, "to avoid the
    information leak between domains". The recommender then reads the
    encoders' codes (frozen, or fine-tuned jointly when the model says so).

    The model declares what to train with `feature_autoencoders()`, a list
    of `(name, FeatureAutoencoder, feature matrix [rows, dim])`, and owns a
    non-trainable scalar `features_pretrained` set to 1 here, so its
    `prepare` does not pretrain again (e.g. when a reloaded model is fit
    further).

    Args:
        model: e.g. a `tfcdr.models.DDTCDR` whose feature tables are set.
        epochs: passes over each feature matrix.
        batch_size: rows per step.
        learning_rate: Adam learning rate.
        verbose: Keras verbosity of each `fit`.

    Returns:
        dict name -> list of per-epoch reconstruction losses.
    """
    history = {}
    for name, autoencoder, matrix in model.feature_autoencoders():
        matrix = np.asarray(matrix, np.float32)
        was_trainable = autoencoder.trainable
        autoencoder.trainable = True
        try:
            trainer = _Reconstruction(autoencoder, name=f"pretrain_{name}")
            trainer.compile(optimizer=keras.optimizers.Adam(learning_rate))
            fitted = trainer.fit(matrix, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
            history[name] = [float(v) for v in fitted.history["loss"]]
        finally:
            autoencoder.trainable = was_trainable
    model.features_pretrained.assign(1.0)
    return history
