"""Tune any zoo model with KerasTuner; options as `tfcdr tune`.

The HyperModel (`tfcdr.tuning.CDRHyperModel`), the search spaces
(`tfcdr.tuning.SEARCH_SPACES`) and the reports (`tfcdr.tuning.run_search`)
live in the library; this script only forwards its arguments.

Example:
    python tuning/tune.py --model mlp --dataset ml1m-genre --tuner bayesian \\
        --max-trials 20 --output tuning_runs/mlp
"""

import sys

from tfcdr.cli import main

if __name__ == "__main__":
    sys.exit(main(["tune", *sys.argv[1:]]))
