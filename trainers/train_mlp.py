"""Train and evaluate `mlp` (see `tfcdr models`); options as `tfcdr train`.

Example:
    python trainers/train_mlp.py --dataset ml1m-genre --seed 0 --output runs/mlp
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("mlp"))
