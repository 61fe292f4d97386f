"""Train and evaluate `bpr-mf` (see `tfcdr models`); options as `tfcdr train`.

Example:
    python trainers/train_bpr_mf.py --dataset ml1m-genre --seed 0 --output runs/bpr-mf
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("bpr-mf"))
