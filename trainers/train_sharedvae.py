"""Train and evaluate SharedVAE or one of its variants; options as `tfcdr train`.

`--variant` picks the zoo entry (default `sharedvae`): `sharedvae-single0`,
`sharedvae-single`, `sharedvae-merged0`, `sharedvae-merged`, `sharedvae-mmd0`,
`sharedvae-coldstart` (defaults to the cold-start protocol) or `sharedvae-aux`,
which reads the dataset's user table (MovieLens users.dat: gender, age,
occupation, zip prefix) encoded by `tfcdr.data.features` as the auxiliary
vector of sec. 7. For Amazon
sizes pass a config with `tfcdr.models.shared_vae_cdr.AMAZON_PRESET` and
`AMAZON_TRAINING`.

Example:
    python trainers/train_sharedvae.py --variant sharedvae --dataset ml1m-genre --output runs/sharedvae
"""

import argparse
import sys

from common import run


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--variant", default="sharedvae")
    known, rest = parser.parse_known_args(argv)
    protocol = "cold-start" if known.variant == "sharedvae-coldstart" else "loo-sampled"
    return run(known.variant, default_protocol=protocol, argv=rest)


if __name__ == "__main__":
    sys.exit(main())
