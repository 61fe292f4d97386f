"""The `tfcdr` command: train, evaluate, compare, sweep, leaderboard, tune, export and describe data."""

import argparse
import json
import logging
import math
import pathlib
import sys

from tfcdr.command_options import comma_names
from tfcdr.data.protocols import LOO_SAMPLED, PROTOCOLS
from tfcdr.errors import DataError
from tfcdr.startup import import_tensorflow

ALPHA_HELP = (
    "level of the significance marks: a model not significantly worse than the best at this level "
    "gets a dagger (paired Wilcoxon over users, Holm-corrected; default 0.05)"
)
METRICS_HELP = (
    "comma-separated leaderboard columns, e.g. hr@5,hr@10,ndcg@10 "
    "(default: the protocol's logged metrics; leaderboard.csv has them all)"
)


def _at_least(minimum):
    """An argparse type: an integer >= `minimum` (argparse prints `error: argument --x: ...` and exits 2)."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {value}")
        return value

    return parse


def _unique_names(text):
    """An argparse type: a comma-separated list of distinct, non-empty names."""
    names = comma_names(text)
    if not names:
        raise argparse.ArgumentTypeError(f"needs at least one name, got {text!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise argparse.ArgumentTypeError(f"names {repeated} are given more than once in {text!r}")
    return names


def _seed_list(text):
    """An argparse type: comma-separated distinct seeds >= 0, e.g. 0,1,2."""
    return [_at_least(0)(seed) for seed in _unique_names(text)]


def _add_data_options(parser):
    parser.add_argument(
        "--dataset", default="synthetic", help="recipe name or path to a file/folder (default: synthetic)"
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder of the shared datasets (default: ../shared/data when it exists)"
    )
    _add_format_options(parser)
    parser.add_argument(
        "--protocol",
        default=LOO_SAMPLED,
        choices=list(PROTOCOLS),
        help="evaluation protocol (default: loo-sampled)",
    )
    _add_rating_options(parser)


def _add_rating_options(parser):
    """How explicit ratings are read: which are positives, and their scale."""
    parser.add_argument(
        "--positive-threshold",
        type=_finite_number,
        default=None,
        metavar="R",
        help="explicit ratings >= R are the positives of ranking protocols; 0 counts every rating "
        "(default: the recipe's, e.g. 4 for MovieLens; for your own files 3/4 up the rating scale, "
        "4 of 1-5 stars; `data describe` says which)",
    )
    parser.add_argument(
        "--rating-scale",
        type=_rating_scale,
        default=None,
        metavar="LOW,HIGH",
        help="the ratings' scale, e.g. 1,5; a rating outside it is an error (default: no negative rating and "
        "none far above the 1-, 5- or 10-point scale that 99%% of the ratings lie on)",
    )


def _finite_number(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _rating_scale(text):
    from tfcdr.data.readers import checked_rating_scale

    try:
        return checked_rating_scale(text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH with LOW < HIGH, e.g. 1,5; got {text!r}") from None


def _load_options(args):
    """The `load_dataset` options given on the command line."""
    options = {"positive_threshold": args.positive_threshold, "rating_scale": args.rating_scale}
    return {key: value for key, value in options.items() if value is not None}


def _add_format_options(parser):
    parser.add_argument(
        "--format",
        default=None,
        choices=["cdrib", "disencdr", "split"],
        help="read --dataset as a folder of per-domain split folders: cdrib, disencdr, or split (your own; see README)",
    )
    parser.add_argument(
        "--domain-names", default=None, help="with --format: comma-separated names for the sorted domain folders"
    )


def _add_run_options(parser, seeds, config_help, output_default):
    """Options shared by the commands that train several runs (compare, sweep)."""
    parser.add_argument(
        "--seeds", type=_seed_list, default=seeds, help=f"comma-separated distinct seeds (default: {seeds})"
    )
    parser.add_argument("--epochs", type=_at_least(1), default=None)
    parser.add_argument("--config", default=None, help=config_help)
    parser.add_argument("--output", default=None, help=f"directory (default: {output_default})")
    parser.add_argument(
        "--overwrite", action="store_true", help="train every run afresh (default: keep finished runs, resume the rest)"
    )
    parser.add_argument("--metrics", default=None, help=METRICS_HELP)
    parser.add_argument(
        "--domains",
        default=None,
        help="comma-separated domains of the dataset to keep, in that order (source first, target last); "
        "default: all, e.g. three of ml1m-multi's five genre groups",
    )


def build_parser():
    parser = argparse.ArgumentParser(prog="tfcdr", description="Cross-domain recommendation with TensorFlow/Keras 3.")
    parser.add_argument("-q", "--quiet", action="store_true", help="only print results")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's start-up log (hidden by default; TF_CPP_MIN_LOG_LEVEL=0 too)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train one model and evaluate it on test")
    train.add_argument("--model", required=True, help="zoo model name (see `tfcdr models`)")
    _add_data_options(train)
    train.add_argument("--seed", type=_at_least(0), default=0)
    train.add_argument("--epochs", type=_at_least(1), default=None)
    train.add_argument("--config", default=None, help="JSON file of hyperparameters")
    train.add_argument(
        "--output", default=None, help="run directory (default: runs/<model>-<dataset>-<protocol>-seed<S>)"
    )
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="train afresh (default: an interrupted run in --output resumes, a finished one is kept)",
    )
    train.add_argument(
        "--export",
        default=None,
        metavar="DIR",
        help="also export the trained model as the next version under DIR (e.g. saved_models/mlp) for TF Serving",
    )
    train.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multi-worker"),
        default=None,
        help="tf.distribute strategy; multi-worker reads the cluster from TF_CONFIG (see `tfcdr launch`)",
    )
    launch = commands.add_parser(
        "launch", help="run a command as N local workers of one multi-worker cluster (127.0.0.1, TF_CONFIG per worker)"
    )
    launch.add_argument("--workers", type=int, required=True)
    launch.add_argument("worker_command", nargs=argparse.REMAINDER, help="-- tfcdr train ... --strategy multi-worker")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved model.keras on a split")
    evaluate.add_argument("--model-file", required=True, help="path to model.keras written by `tfcdr train`")
    _add_data_options(evaluate)
    evaluate.add_argument("--seed", type=_at_least(0), default=0)
    evaluate.add_argument("--subset", default="test", choices=["valid", "test"])
    evaluate.add_argument(
        "--force",
        action="store_true",
        help="evaluate on a split other than the one the model's run trained on (its metrics.json)",
    )

    compare = commands.add_parser("compare", help="run several models on identical splits and print a leaderboard")
    compare.add_argument("--alpha", type=float, default=0.05, help=ALPHA_HELP)
    compare.add_argument(
        "--models",
        type=_unique_names,
        default=None,
        help="comma-separated names (default: every registered method, ablations aside)",
    )
    _add_data_options(compare)
    compare.add_argument(
        "--pair-models",
        type=_unique_names,
        default=None,
        help="two-domain models (e.g. conet-lasso) run on every (source, target) pair of the split; "
        "each target reports its best source by validation",
    )
    _add_run_options(compare, "0,1,2", 'JSON file {"<model>": {hyperparameters}}', "runs/compare-<dataset>-<protocol>")

    sweep = commands.add_parser("sweep", help="sensitivity of one model to one hyperparameter: test metrics per value")
    sweep.add_argument("--model", required=True, help="zoo model name (see `tfcdr models`)")
    sweep.add_argument("--param", required=True, help="a model argument or training option, e.g. target_weight")
    sweep.add_argument(
        "--values",
        required=True,
        help="comma-separated values (each read as JSON, e.g. 0.2,0.4) or one JSON list (e.g. '[[1],[1,2]]')",
    )
    _add_data_options(sweep)
    _add_run_options(
        sweep,
        "0",
        'JSON file of the other hyperparameters (flat, or {"<model>": {...}})',
        "runs/sweep-<model>-<param>-<dataset>",
    )
    sweep.add_argument(
        "--metric", default=None, help="metric plotted against the value (default: the protocol's headline)"
    )

    from tfcdr.transfer import (
        command as transfer_command,  # argparse only, no TensorFlow
    )

    transfer = commands.add_parser(
        "transfer",
        help="layer transfer study (Nguyen et al.): pre-train sources, copy FC layers into unrelated targets",
    )
    transfer_command.add_arguments(transfer)

    tune = commands.add_parser("tune", help="KerasTuner search over one model's hyperparameters")
    tune.add_argument("--model", required=True, help="zoo model name (see `tfcdr models`)")
    _add_data_options(tune)
    tune.add_argument("--seed", type=_at_least(0), default=0)
    tune.add_argument("--tuner", default="random", choices=["random", "bayesian", "hyperband"])
    tune.add_argument("--max-trials", type=_at_least(1), default=10, help="trials (random, bayesian; default 10)")
    tune.add_argument("--epochs", type=_at_least(1), default=None, help="epochs per trial (hyperband: the maximum)")
    tune.add_argument("--objective", default=None, help="logs key to optimize (default: val_target_<headline metric>)")
    tune.add_argument("--config", default=None, help="JSON file of fixed hyperparameters under the searched ones")
    tune.add_argument("--output", default=None, help="directory (default: runs/tune-<model>-<dataset>-<protocol>)")
    tune.add_argument(
        "--overwrite", action="store_true", help="search afresh (default: resume the search in --output, if any)"
    )

    export = commands.add_parser("export", help="export a saved model.keras for TF Serving")
    export.add_argument("--model-file", required=True, help="path to model.keras written by `tfcdr train`")
    _add_data_options(export)
    export.add_argument("--seed", type=_at_least(0), default=0, help="the split's seed (vocabularies and known items)")
    export.add_argument("--output", default=None, help="model folder (default: saved_models/<model name>)")
    export.add_argument(
        "--k", type=_at_least(1), default=10, help="items returned by the `recommend` signature (default 10)"
    )
    export.add_argument("--keep-known", action="store_true", help="let `recommend` return the user's training items")
    export.add_argument(
        "--serving-root", default=None, help="the saved_models folder as TF Serving sees it (models.config)"
    )

    data = commands.add_parser("data", help="inspect datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    describe = data_commands.add_parser("describe", help="users, items, interactions, density and overlap per domain")
    describe.add_argument("dataset", help="recipe name or path")
    describe.add_argument("--data-dir", default=None)
    _add_rating_options(describe)
    _add_format_options(describe)
    data_commands.add_parser("list", help="the named dataset recipes")

    commands.add_parser("models", help="the registered models")

    board = commands.add_parser(
        "leaderboard", help="one table from the runs of several compare/sweep/train outputs (same splits)"
    )
    board.add_argument("folders", nargs="+", help="run folders, or folders of them")
    board.add_argument("--metrics", default=None, help=METRICS_HELP)
    board.add_argument("--output", required=True, help="directory for leaderboard.md, .csv and .png")
    board.add_argument("--alpha", type=float, default=0.05, help=ALPHA_HELP)
    board.add_argument(
        "--curves",
        default=None,
        help="comma-separated per-epoch log keys (e.g. book_loss,val_book_rmse) plotted per model "
        "over the epochs into curves.png",
    )
    board.add_argument(
        "--sweep-plot",
        default=None,
        metavar="METRICS",
        help="for the runs of a sweep: sweep.png with a panel per comma-separated metric against the swept value",
    )
    return parser


def _output(path, default=None):
    """The output folder (given, or runs/<default>), refused early when its parent cannot be written."""
    import tempfile

    output = pathlib.Path(path) if path else pathlib.Path("runs") / default
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output.parent):
            pass
    except OSError as error:
        raise DataError(f"--output {str(output)!r} cannot be written: {error.strerror or error}") from None
    return output


def _load_model(model_file):
    import keras

    path = pathlib.Path(model_file)
    if not path.exists():
        raise DataError("model file not found", path=path)
    return keras.models.load_model(path)


def _split(args):
    from tfcdr.data.datasets import load_dataset
    from tfcdr.data.splits import make_split

    return make_split(
        load_dataset(args.dataset, data_dir=args.data_dir, **_load_options(args)), args.protocol, seed=args.seed
    )


def _dataset(args):
    """What compare/sweep load: the name, or the data already loaded when load options were given."""
    if not _load_options(args):
        return args.dataset
    from tfcdr.data.datasets import load_dataset

    return load_dataset(args.dataset, data_dir=args.data_dir, **_load_options(args))


def _check_run_split(model_file, split, force):
    """Refuses a split other than the one the model's run trained on (the metrics.json beside it), unless forced.

    Another split's test rows can be the model's training rows, and another
    dataset's ids mean other users: both would print metrics that look fine.
    """
    from tfcdr.results import read_run

    record = pathlib.Path(model_file).parent / "metrics.json"
    if not record.exists():
        print(f"tfcdr: warning: no {record}: the split cannot be checked against the model's run", file=sys.stderr)
        return
    run = read_run(record)
    if run.get("split_fingerprint") == split.fingerprint():
        return
    asked = {"dataset": split.dataset, "protocol": split.protocol, "seed": split.seed}
    differences = [f"{key} {run.get(key)!r}, not {value!r}" for key, value in asked.items() if run.get(key) != value]
    message = (
        f"the model's run trained on another split ({'; '.join(differences) or 'other rows'}: "
        f"fingerprint {run.get('split_fingerprint')}, not {split.fingerprint()}); "
        "give its --dataset, --protocol and --seed, or --force"
    )
    if not force:
        raise DataError(message, path=record)
    print(f"tfcdr: warning: {message} (forced)", file=sys.stderr)


def _export(model, split, base_dir, serving_root=None, **options):
    """Exports the next version under `base_dir` and rewrites its parent's models.config."""
    from tfcdr.export import export_model, write_model_server_config

    path = export_model(model, split, base_dir, **options)
    config, _ = write_model_server_config(pathlib.Path(base_dir).parent, serving_root=serving_root)
    print(f"exported {path} (signatures serving_default, recommend); TF Serving config {config}")
    return path


def main(argv=None):
    args = build_parser().parse_args(argv)
    import_tensorflow(verbose=args.verbose)
    if getattr(args, "format", None) or getattr(args, "domain_names", None):
        from tfcdr.data.datasets import dataset_spec

        try:
            args.dataset = dataset_spec(args.dataset, args.format, args.domain_names)
        except DataError as error:
            print(f"tfcdr: error: {error}", file=sys.stderr)
            return 2
    logging.basicConfig(format="%(message)s", level=logging.WARNING if args.quiet else logging.INFO)
    logging.getLogger("tfcdr").setLevel(logging.WARNING if args.quiet else logging.INFO)
    try:
        return _run(args)
    except DataError as error:
        print(f"tfcdr: error: {error}", file=sys.stderr)
        return 2


def _run(args):
    if args.command == "models":
        from tfcdr.models import MODELS

        for name, spec in MODELS.items():
            print(f"{name:<16} {spec.description}")
        return 0
    if args.command == "data":
        from tfcdr.data.datasets import DATASETS, load_dataset

        if args.data_command == "list":
            for name, entry in DATASETS.items():
                print(f"{name:<34} {entry.description}")
            return 0
        print(load_dataset(args.dataset, data_dir=args.data_dir, **_load_options(args)).describe_text())
        return 0

    if args.command == "launch":
        from tfcdr.training.launch import launch_workers

        command = args.worker_command[1:] if args.worker_command[:1] == ["--"] else args.worker_command
        return launch_workers(command, args.workers)
    if args.command == "transfer":
        from tfcdr.transfer.command import run as run_transfer

        return run_transfer(args, quiet=args.quiet)

    from tfcdr import experiment, results
    from tfcdr.models import split_config

    if args.command == "train":
        config = experiment.load_config(args.config) if args.config else None
        split_config(args.model, config)  # before the data are read
        output = _output(args.output, f"{args.model}-{pathlib.Path(args.dataset).name}-{args.protocol}-seed{args.seed}")
        split = _split(args)  # kept: --export needs its vocabularies and known items
        result, model = experiment.run_experiment(
            args.model,
            seed=args.seed,
            epochs=args.epochs,
            config=config,
            output=output,
            split=split,
            verbose=0 if args.quiet else 2,
            overwrite=args.overwrite,
            strategy=args.strategy,
        )
        print(results.headline_line(result))
        from tfcdr.training import distribute

        if not distribute.is_chief(distribute.resolve_strategy(args.strategy)):
            return 0  # the chief writes and exports
        print(f"wrote {output}/metrics.json, summary.md, training_curves.png, logs/, model.keras")
        if args.export:
            _export(model, split, args.export)
        return 0
    if args.command == "tune":
        from tfcdr.tuning import run_search

        fixed = experiment.load_config(args.config) if args.config else None
        split_config(args.model, fixed)
        output = _output(args.output, f"tune-{args.model}-{pathlib.Path(args.dataset).name}-{args.protocol}")
        result = run_search(
            args.model,
            _split(args),
            output,
            tuner=args.tuner,
            max_trials=args.max_trials,
            objective=args.objective,
            epochs=args.epochs,
            fixed=fixed,
            seed=args.seed,
            verbose=0 if args.quiet else 1,
            overwrite=args.overwrite,
        )
        print((output / "trials.md").read_text())
        if result["failed"]:
            print(
                f"tfcdr: {result['failed']} of {len(result['trials'])} trials FAILED (see the error column)",
                file=sys.stderr,
            )
        if result["best_config"] is None:
            return 1
        print(f"wrote {output}/trials.csv, trials.md, best_config.json, objective_by_trial.png, tuner/, logs/")
        print(
            f"train the best: tfcdr train --model {args.model} --dataset {args.dataset} "
            f"--protocol {args.protocol} --config {output}/best_config.json"
        )
        return 0
    if args.command == "export":
        model = _load_model(args.model_file)
        output = _output(args.output or pathlib.Path("saved_models") / model.name)
        _export(
            model, _split(args), output, k=args.k, exclude_known=not args.keep_known, serving_root=args.serving_root
        )
        return 0
    if args.command == "evaluate":
        from tfcdr.evaluation import evaluate

        model = _load_model(args.model_file)
        split = _split(args)
        _check_run_split(args.model_file, split, args.force)
        print(json.dumps(evaluate(model, split, subset=args.subset), indent=2))
        return 0
    if args.command == "leaderboard":
        runs = results.collect_runs(args.folders)
        output = _output(args.output)
        metrics = _metrics(args.metrics, runs[0]["protocol"])
        results.write_leaderboard(output, results.leaderboard(runs), runs, metrics, alpha=args.alpha)
        print((output / "leaderboard.md").read_text())
        written = "leaderboard.md, leaderboard.csv, leaderboard.png"
        if args.curves:
            results.plot_curves(
                runs,
                comma_names(args.curves),
                output / "curves.png",
                title=f"{runs[0]['dataset']} ({runs[0]['protocol']})",
            )
            written += ", curves.png"
        if args.sweep_plot:
            labels, values = results.sweep_values(runs)
            metrics = _metrics(args.sweep_plot, runs[0]["protocol"])
            results.plot_sweep(
                results.leaderboard(runs),
                labels,
                values,
                metrics,
                output / "sweep.png",
                title=f"{runs[0]['zoo_model']} on {runs[0]['dataset']}",
            )
            written += ", sweep.png"
        print(f"wrote {output}/{written} from {len(runs)} runs")
        return 0
    if args.command == "compare":
        from tfcdr.models import MODELS, main_job_models

        pair_models = args.pair_models or []
        models = args.models if args.models is not None else ([] if pair_models else main_job_models())
        unknown = [m for m in models + pair_models if m not in MODELS]
        if unknown:
            raise DataError(f"unknown models {unknown}; choose from {sorted(MODELS)}")
        configs = experiment.load_config(args.config) if args.config else None
        output = _output(args.output, f"compare-{pathlib.Path(args.dataset).name}-{args.protocol}")
        board, runs = experiment.compare(
            models,
            dataset=_dataset(args),
            protocol=args.protocol,
            seeds=args.seeds,
            epochs=args.epochs,
            configs=configs,
            data_dir=args.data_dir,
            output=output,
            pair_models=pair_models,
            metrics=_metrics(args.metrics, args.protocol),
            domains=comma_names(args.domains),
            overwrite=args.overwrite,
            alpha=args.alpha,
        )
        print()
        print((output / "leaderboard.md").read_text())
        print(f"wrote {output}/leaderboard.md, leaderboard.csv, leaderboard.png and one folder per run")
        return 0
    if args.command == "sweep":
        from tfcdr.models import get_spec

        get_spec(args.model)
        values = _sweep_values(args.values)
        config = experiment.load_config(args.config) if args.config else {}
        if isinstance(config.get(args.model), dict):
            config = config[args.model]
        output = _output(args.output, f"sweep-{args.model}-{args.param}-{pathlib.Path(args.dataset).name}")
        experiment.sweep(
            args.model,
            args.param,
            values,
            dataset=_dataset(args),
            protocol=args.protocol,
            seeds=args.seeds,
            epochs=args.epochs,
            config=config,
            data_dir=args.data_dir,
            output=output,
            metric=args.metric,
            metrics=_metrics(args.metrics, args.protocol),
            domains=comma_names(args.domains),
            overwrite=args.overwrite,
        )
        print()
        print((output / "leaderboard.md").read_text())
        print(f"wrote {output}/leaderboard.md, leaderboard.csv, leaderboard.png, sweep.png and one folder per run")
        return 0
    raise AssertionError(args.command)


def _metrics(text, protocol):
    """`--metrics` as a list, checked against what the protocol measures before any training."""
    if not text:
        return None
    names = comma_names(text)
    known = list(PROTOCOLS[protocol].measured)
    unknown = [m for m in names if m not in known]
    if unknown:
        raise DataError(f"--metrics: {protocol} does not measure {unknown}; it measures {known}")
    return names


def _sweep_values(text):
    """`--values` as a list: one JSON list, or comma-separated JSON values (bare words as strings)."""
    text = text.strip()
    if text.startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise DataError(f"--values is not a valid JSON list: {error.msg} (value {text!r})") from None
    else:
        values = []
        for item in (part.strip() for part in text.split(",")):
            try:
                values.append(json.loads(item))
            except json.JSONDecodeError:
                values.append(item)
    if not isinstance(values, list) or not values:
        raise DataError(f"--values needs at least one value (value {text!r})")
    labels = [json.dumps(value) for value in values]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise DataError(f"--values gives {repeated} more than once (value {text!r})")
    return values


if __name__ == "__main__":
    sys.exit(main())
