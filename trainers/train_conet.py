"""Train and evaluate `conet` (see `tfcdr models`); options as `tfcdr train`.

CoNet-lasso is the same script with `--model conet-lasso` through `tfcdr
train`, or `python trainers/train_conet.py --lasso`.

Example:
    python trainers/train_conet.py --dataset ml1m-genre --seed 0 --output runs/conet
"""

import sys

from common import run

if __name__ == "__main__":
    argv = sys.argv[1:]
    model = "conet-lasso" if "--lasso" in argv else "conet"
    sys.exit(run(model, argv=[a for a in argv if a != "--lasso"]))
