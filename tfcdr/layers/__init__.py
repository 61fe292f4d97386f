"""Keras layers of the tfcdr zoo, one public class per file."""

from tfcdr.layers.cross_unit import CrossUnit
from tfcdr.layers.feature_autoencoder import FeatureAutoencoder
from tfcdr.layers.mlp_tower import MLPTower
from tfcdr.layers.mmd import MMD
from tfcdr.layers.orthogonal_mapping import OrthogonalMapping
from tfcdr.layers.row_embedding import RowEmbedding
from tfcdr.layers.sampling import Sampling
from tfcdr.layers.shared_vae import SharedVAE
from tfcdr.layers.vae_decoder import VAEDecoder
from tfcdr.layers.vae_encoder import VAEEncoder

__all__ = [
    "CrossUnit",
    "FeatureAutoencoder",
    "MLPTower",
    "MMD",
    "OrthogonalMapping",
    "RowEmbedding",
    "Sampling",
    "SharedVAE",
    "VAEDecoder",
    "VAEEncoder",
]
