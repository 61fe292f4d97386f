"""The data layer: datasets as `CrossDomainData`, their views, and seeded splits under a protocol.

    data = tfcdr.data.load_dataset("douban-book-music")   # a recipe, a path, or "dataset:domain"
    split = tfcdr.data.make_split(data, "loo-sampled", seed=0)

The tf.data pipelines (`tfcdr.data.pipelines`) import TensorFlow and are not
loaded here.
"""

from tfcdr.data.cross_domain_data import CrossDomainData, Domain
from tfcdr.data.datasets import DATASETS, default_data_dir, load_dataset
from tfcdr.data.protocols import PROTOCOLS, Protocol, get_protocol
from tfcdr.data.splits import Split, make_split
from tfcdr.data.synthetic import make_synthetic
from tfcdr.data.views import DomainRef, merged_domain, one_domain, select, to_frames

__all__ = [
    "DATASETS",
    "PROTOCOLS",
    "CrossDomainData",
    "Domain",
    "DomainRef",
    "Protocol",
    "Split",
    "default_data_dir",
    "get_protocol",
    "load_dataset",
    "make_split",
    "make_synthetic",
    "merged_domain",
    "one_domain",
    "select",
    "to_frames",
]
