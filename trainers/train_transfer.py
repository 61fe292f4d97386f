"""Layer transfer (Nguyen et al.): pre-train sources, transfer FC layers to targets.

Options as `tfcdr transfer` (see `tfcdr.transfer.command`).

Example:
    python trainers/train_transfer.py --sources 'ml1m-multi:*' \
        --targets amazon-musical-instruments:musical_instruments --configs none,config-1,config-6 \
        --seeds 0 --output runs/transfer
"""

import sys

from tfcdr.cli import main

if __name__ == "__main__":
    sys.exit(main(["transfer", *sys.argv[1:]]))
