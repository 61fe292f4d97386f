"""Train and evaluate `ddtcdr` (see `tfcdr models`); options as `tfcdr train`.

DDTCDR predicts ratings, so this script defaults to the rating protocol
(RMSE, MAE, P@5, R@5 in every domain). Its single-domain baseline is
`ncf-rating` (the same rating networks with transfer rate 0):
`tfcdr train --model ncf-rating --protocol rating`.

Example:
    python trainers/train_ddtcdr.py --dataset douban-book-music --seed 0 --output runs/ddtcdr
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("ddtcdr", default_protocol="rating"))
