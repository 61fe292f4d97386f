"""Shared command line of the trainers: the same options as `tfcdr train`."""

import sys

from tfcdr.cli import main


def run(model, default_protocol="loo-sampled", argv=None):
    """Runs `tfcdr train --model <model>` with the script's arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--protocol" not in argv:
        argv += ["--protocol", default_protocol]
    return main(["train", "--model", model, *argv])
