"""Keras layers of the tfcdr zoo, one public class per file."""

from tfcdr.layers.cross_unit import CrossUnit
from tfcdr.layers.mlp_tower import MLPTower

__all__ = ["CrossUnit", "MLPTower"]
