"""Train and evaluate `mlp-merged` (see `tfcdr models`); options as `tfcdr train`.

Example:
    python trainers/train_mlp_merged.py --dataset ml1m-genre --seed 0 --output runs/mlp-merged
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("mlp-merged"))
