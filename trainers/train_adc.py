"""Train and evaluate `adc` (see `tfcdr models`); options as `tfcdr train`.

ADC is evaluated under its own protocol by default ("adc": 50% of each
domain's ratings for training, all items ranked). `--model adc-equal` in
`tfcdr train` gives the equal-weights ablation (w_k = 1, no GradNorm).

Example:
    python trainers/train_adc.py --dataset ml1m-multi --seed 0 --output runs/adc
"""

import sys

from common import run

if __name__ == "__main__":
    sys.exit(run("adc", default_protocol="adc"))
