"""tfcdr: cross-domain recommendation models for TensorFlow/Keras 3."""

import os

# TensorFlow's C++ start-up chatter hides the messages users need to read.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
