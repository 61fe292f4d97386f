"""The `tfcdr transfer` command (also `trainers/train_transfer.py`).

Its options are defined here once so that the console entry point, the
trainer script and the benchmark driver parse the same command line.
"""

import argparse
import json
import logging
import pathlib
import shlex
import sys

from tfcdr.command_options import comma_names
from tfcdr.data.protocols import LOO_SAMPLED, PROTOCOLS
from tfcdr.errors import DataError
from tfcdr.transfer.configurations import CONFIGURATIONS, MODES

logger = logging.getLogger("tfcdr")


def add_arguments(parser):
    """Adds the transfer study's options to an argparse parser."""
    parser.add_argument(
        "--sources",
        required=True,
        help="comma-separated source domains <dataset>:<domain> (<dataset>:* merges all its domains)",
    )
    parser.add_argument("--targets", required=True, help="comma-separated target domains, as --sources")
    parser.add_argument(
        "--configs",
        default="all",
        help=f"comma-separated configurations among {','.join(CONFIGURATIONS)} (default: all)",
    )
    parser.add_argument(
        "--prediction",
        default="both",
        choices=["with", "without", "both"],
        help="whether the one-unit prediction layer is copied with FC-4 (default: both, reported side by side)",
    )
    parser.add_argument("--modes", default="frozen", help=f"comma-separated among {','.join(MODES)} (default: frozen)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default: 0)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per model (default: the mlp zoo entry's)")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--patience", type=int, default=None)
    parser.add_argument("--embedding-dim", type=int, default=None, help="default 32")
    parser.add_argument("--hidden-units", default=None, help="comma-separated tower widths (default 64,32,16,8)")
    parser.add_argument(
        "--protocol",
        default=LOO_SAMPLED,
        # The study ranks items on one target domain at a time.
        choices=[name for name, p in PROTOCOLS.items() if p.single_domain and p.kind != "rating"],
    )
    parser.add_argument("--data-dir", default=None, help="folder of the shared datasets")
    parser.add_argument(
        "--dataset-options",
        default=None,
        help='JSON object {"<dataset>": {recipe options}}, or a path to one (e.g. synthetic sizes)',
    )
    parser.add_argument("--importance", action="store_true", help="also measure layer importance by erasure (Fig. 2)")
    parser.add_argument("--output", default="runs/transfer", help="folder for runs.jsonl and cached source models")
    parser.add_argument("--report", default=None, help="Markdown report path (default: <output>/transfer.md)")
    parser.add_argument(
        "--notes",
        default=None,
        help="Markdown file placed after the command in the report (findings read off its tables)",
    )
    return parser


def build_parser(prog="tfcdr transfer"):
    """A stand-alone parser with the transfer options."""
    return add_arguments(
        argparse.ArgumentParser(prog=prog, description="Layer transfer study of Nguyen et al. (Tables 1-6, Figs. 2-3).")
    )


def run(args, command=None, quiet=False):
    """Runs the study the parsed `args` describe and writes its report.

    Args:
        args: parsed options (`add_arguments`).
        command: the command line to quote in the report (default: this
            process's).
        quiet: do not print the gain tables.

    Returns:
        0 on success (the CLI's exit code).
    """
    from tfcdr.transfer.report import gain_markdown, write_report
    from tfcdr.transfer.study import TransferStudy

    configs = list(CONFIGURATIONS) if args.configs == "all" else comma_names(args.configs)
    unknown = [c for c in configs if c not in CONFIGURATIONS]
    if unknown:
        raise DataError(f"unknown configurations {unknown}; choose from {list(CONFIGURATIONS)}")
    modes = comma_names(args.modes)
    if set(modes) - set(MODES):
        raise DataError(f"--modes takes {list(MODES)}", value=args.modes)
    sources, targets = comma_names(args.sources), comma_names(args.targets)
    training = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
    }
    model_kwargs = {}
    if args.embedding_dim is not None:
        model_kwargs["embedding_dim"] = args.embedding_dim
    if args.hidden_units is not None:
        model_kwargs["hidden_units"] = [int(u) for u in comma_names(args.hidden_units)]
    output = pathlib.Path(args.output)
    study = TransferStudy(
        data_dir=args.data_dir,
        dataset_options=_options(args.dataset_options),
        protocol=args.protocol,
        model_kwargs=model_kwargs,
        training={k: v for k, v in training.items() if v is not None},
        runs_path=output / "runs.jsonl",
        cache_dir=output / "sources",
        verbose=0,
    )
    seeds = [int(s) for s in comma_names(args.seeds)]
    runs = study.run(sources, targets, configs, seeds=seeds, prediction=args.prediction, modes=modes)
    importance = None
    if args.importance:
        import pandas as pd

        importance = pd.concat([study.importance(s, seed) for s in sources for seed in seeds], ignore_index=True)
    # The process's own command line: `tfcdr transfer ...` or `train_transfer.py ...`.
    command = command or shlex.join([pathlib.Path(sys.argv[0]).name, *sys.argv[1:]])
    notes = None
    if args.notes:
        if not pathlib.Path(args.notes).is_file():
            raise DataError("--notes: no such file", path=args.notes)
        notes = pathlib.Path(args.notes).read_text()
    path = write_report(
        study, runs, args.report or output, sources, targets, command=command, importance=importance, notes=notes
    )
    if not quiet:
        for source in sources:
            for mode in modes:
                print(f"\nsource {source} ({mode}): gain % over none (test HR@10)")
                print(gain_markdown(runs, str(source), mode))
    print(f"\nwrote {path} (+ PNGs and runs CSV beside it); runs in {output / 'runs.jsonl'}")
    return 0


def _options(value):
    if not value:
        return {}
    path = pathlib.Path(value)
    text = path.read_text() if path.exists() else value
    try:
        options = json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"--dataset-options is not valid JSON: {error.msg}", value=value) from None
    if not isinstance(options, dict):
        raise DataError("--dataset-options must be a JSON object {dataset: {options}}", value=value)
    return options
