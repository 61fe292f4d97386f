"""Train and evaluate `emcdr` (see `tfcdr models`); options as `tfcdr train`.

EMCDR exists for cold-start users, so this script defaults to the
cold-start protocol; pass `--protocol loo-sampled` for the warm comparison.

Example:
    python trainers/train_emcdr.py --dataset ml1m-genre --seed 0 --output runs/emcdr
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("emcdr", default_protocol="cold-start"))
