"""Train and evaluate `cdfm` (see `tfcdr models`); options as `tfcdr train`.

The loss follows `loss_type` ("bce" by default); under the rating protocol
pass `--config` with `{"loss_type": "mse"}`.

Example:
    python trainers/train_cdfm.py --dataset ml1m-genre --seed 0 --output runs/cdfm
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("cdfm"))
