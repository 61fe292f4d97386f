"""The layer-transfer study of Nguyen et al. on our data: writes docs/results/transfer.md.

Sources x targets x the eight configurations (Table 1 plus "none") x seeds,
with and without the prediction layer travelling with FC-4. The report has
the gain tables (Tables 3-5) with best and `auto` columns, a heatmap of
gains per source, gain vs KL relatedness with fit and PCC (Fig. 3), the
correlations with target size and sparsity (Table 6), and layer importance
by representation erasure (Fig. 2). Runs are appended to
<output>/runs.jsonl as they finish and skipped when the command is run
again with the same settings, so a long study can be interrupted.

Defaults (paper-like: large sources, smaller targets; no linkage is used):
    sources  ml1m-multi:* (all of MovieLens-1M, its genre domains merged),
             amazon-disencdr-sport-cloth:cloth, douban-book-music:book
    targets  ml100k-multi:* (all of MovieLens-100K), douban-book-music:music,
             amazon-books-movies-dense:books, amazon-books-movies-dense:movies,
             amazon-musical-instruments:musical_instruments,
             amazon-disencdr-sport-cloth:sport, amazon-disencdr-sport-phone:phone,
             amazon-disencdr-phone-electronic:electronic

Examples:
    python benchmarks/transfer_study.py --seeds 0,1,2 --importance
    python benchmarks/transfer_study.py --tiny --output /tmp/transfer-tiny   # seconds, synthetic
"""

import os
import shlex
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import logging  # noqa: E402

from tfcdr.errors import DataError  # noqa: E402
from tfcdr.transfer.command import build_parser, run  # noqa: E402

SOURCES = ("ml1m-multi:*", "amazon-disencdr-sport-cloth:cloth", "douban-book-music:book")
TARGETS = (
    "ml100k-multi:*",
    "douban-book-music:music",
    "amazon-books-movies-dense:books",
    "amazon-books-movies-dense:movies",
    "amazon-musical-instruments:musical_instruments",
    "amazon-disencdr-sport-cloth:sport",
    "amazon-disencdr-sport-phone:phone",
    "amazon-disencdr-phone-electronic:electronic",
)

# --tiny: five synthetic domains from dense (domain_0) to sparse (domain_4);
# two sources and three targets so every table, plot and PCC is exercised.
TINY_OPTIONS = (
    '{"synthetic": {"num_domains": 5, "num_users": 300, "num_items": 150, "interactions_per_user": [30, 6], "seed": 0}}'
)
TINY = [
    "--sources",
    "synthetic:domain_0,synthetic:domain_4",
    "--targets",
    "synthetic:domain_1,synthetic:domain_2,synthetic:domain_3",
    "--dataset-options",
    TINY_OPTIONS,
    "--epochs",
    "2",
    "--seeds",
    "0",
    "--importance",
]


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    tiny = "--tiny" in argv
    if tiny:
        argv = [a for a in argv if a != "--tiny"]
        argv = TINY + (argv if "--output" in argv else [*argv, "--output", "runs/transfer-tiny"])
    if "--sources" not in argv:
        argv += ["--sources", ",".join(SOURCES)]
    if "--targets" not in argv:
        argv += ["--targets", ",".join(TARGETS)]
    if "--output" not in argv:
        argv += ["--output", "runs/transfer", "--report", "docs/results/transfer.md"]
    logging.basicConfig(format="%(message)s", level=logging.INFO)
    logging.getLogger("tfcdr").setLevel(logging.INFO)
    parser = build_parser(prog="benchmarks/transfer_study.py")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/transfer_study.py", *sys.argv[1:]])
    try:
        return run(args, command=command)
    except DataError as error:
        print(f"transfer_study: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
