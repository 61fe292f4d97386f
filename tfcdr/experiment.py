"""Runs: train one model on one split and write its results; compare several."""

import contextlib
import json
import logging
import pathlib
import time

import keras
import pandas as pd

from tfcdr import results
from tfcdr.data.datasets import load_dataset
from tfcdr.data.splits import make_split
from tfcdr.evaluation import evaluate
from tfcdr.models import build_model, preset_by_size, split_config
from tfcdr.training import distribute, fit_model

logger = logging.getLogger("tfcdr")


def load_config(path):
    """Reads a JSON file of hyperparameters (flat, or with a "config" key)."""
    from tfcdr.errors import DataError

    path = pathlib.Path(path)
    if not path.exists():
        raise DataError("config file not found", path=path)
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"not valid JSON: {error.msg}", path=path, line=error.lineno) from None
    if not isinstance(config, dict):
        raise DataError("a config file holds one JSON object", path=path)
    return config.get("config", config)


def run_experiment(
    model_name,
    dataset="synthetic",
    protocol="loo-sampled",
    seed=0,
    epochs=None,
    config=None,
    data_dir=None,
    output=None,
    split=None,
    verbose=1,
    save_model=True,
    label=None,
    overwrite=False,
    strategy=None,
):
    """Trains `model_name` on a split of `dataset` and evaluates it on test.

    With an `output`, the run is written into the temporary sibling
    `<output>.partial` (TensorBoard logs and a training backup after every
    epoch as it trains; results and model at the end), which is renamed to
    `output` once all is written. Called again after a kill, it resumes
    training from the last finished epoch and gives the same result as an
    uninterrupted run; called for a run whose folder is complete, it
    returns that run's result without training (the same model, seed,
    split and config, else a `DataError`). `overwrite` starts afresh.

    Args:
        model_name: a key of `tfcdr.models.MODELS`.
        dataset: a recipe name or path (see `tfcdr.data.datasets`).
        protocol: evaluation protocol.
        seed: seeds the split, the weights and the pipeline.
        epochs: overrides the model's default epochs.
        config: dict of hyperparameters (model arguments and training options).
        data_dir: where the shared datasets are.
        output: directory for metrics.json, summary.md, TensorBoard logs, the
            training-curve PNG and model.keras; None writes nothing.
        split: a ready `Split` to reuse (compare passes one per seed).
        verbose: Keras verbosity.
        save_model: also write model.keras.
        label: the run's name in results (default `model_name`), e.g. a
            sweep's "target_weight=0.2".
        overwrite: discard a finished or interrupted run in `output`.
        strategy: a `fit_model` strategy (e.g. "multi-worker"); the model
            is built in its scope and only the chief writes `output`.

    Returns:
        (result dict as written to metrics.json, trained model).
    """
    if split is None:
        data = load_dataset(dataset, data_dir=data_dir)
        split = make_split(data, protocol, seed=seed)
    model_kwargs, training = split_config(model_name, config, split)
    if epochs is not None:
        training["epochs"] = epochs
    keras.utils.set_random_seed(seed)
    strategy = distribute.resolve_strategy(strategy)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(model_name, split, **model_kwargs)
    if not distribute.is_chief(strategy):
        output = None
    output = None if output is None else pathlib.Path(output)
    identity = {
        "model": label or model_name,
        "zoo_model": model_name,
        "seed": seed,
        "split_fingerprint": split.fingerprint(),
        "config": json.loads(json.dumps({"model": model_kwargs, "training": training})),
    }
    work = None
    if output is not None:
        if overwrite:
            _discard_run(output)
        if output.exists():
            result = _finished_run(output, identity)
            if (output / "model.keras").exists():
                model = keras.models.load_model(output / "model.keras")
            return result, model
        work = results.partial_folder(output)
        _claim(work, identity)
    started = time.time()
    history = fit_model(
        model,
        split,
        seed=seed,
        log_dir=None if work is None else work / "logs",
        backup_dir=None if work is None else work / "backup",
        verbose=verbose,
        strategy=strategy,
        **training,
    )
    train_seconds = time.time() - started
    test, per_user = evaluate(model, split, subset="test", per_user=True)
    result = {
        "model": label or model_name,
        "zoo_model": model_name,
        "dataset": split.dataset,
        "protocol": split.protocol,
        "seed": seed,
        "split_fingerprint": split.fingerprint(),
        "rating_scales": split.rating_scales(),
        "preset": preset_by_size(model_name, split)[2],
        "metrics": test,
        "history": {k: [float(v) for v in values] for k, values in history.history.items()},
        "config": {"model": model_kwargs, "training": training},
        "train_seconds": round(train_seconds, 1),
        # Not in metrics.json: written beside it (per_user.csv.gz) for significance marks.
        "per_user": per_user,
    }
    if output is not None:
        results.write_run(work, result)
        if save_model:
            model.save(work / "model.keras")
        results.publish_run(work, output)
    return result, model


def _differences(stored, identity):
    return [key for key in identity if json.loads(json.dumps(stored.get(key))) != identity[key]]


def _finished_run(output, identity):
    """The result of the finished run in `output`, which must be the run asked for."""
    from tfcdr.errors import DataError

    result = results.read_run(output / "metrics.json")
    different = _differences(result, identity)
    if different:
        raise DataError(
            f"holds a finished run with another {', '.join(different)}; use --overwrite or another --output",
            path=output,
        )
    logger.info("%s: finished run found, not trained again (--overwrite retrains)", output)
    return result


def _claim(work, identity):
    """Creates or re-enters the temporary folder of an interrupted run of the same identity."""
    from tfcdr.errors import DataError

    marker = work / "run.json"
    if marker.exists():
        different = _differences(json.loads(marker.read_text()), identity)
        if different:
            raise DataError(
                f"holds an interrupted run with another {', '.join(different)}; use --overwrite to discard it",
                path=work,
            )
        logger.info("%s: resuming an interrupted run", work)
        return
    work.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(identity, indent=2))


def _discard_run(output):
    """Removes a run folder and its temporary sibling; refuses to remove a folder that is not a run."""
    import shutil

    from tfcdr.errors import DataError

    if output.exists() and not (output / "metrics.json").exists():
        raise DataError("is not a run folder (no metrics.json); --overwrite removes only runs", path=output)
    for folder in (output, results.partial_folder(output)):
        shutil.rmtree(folder, ignore_errors=True)


def compare(
    models,
    dataset="synthetic",
    protocol="loo-sampled",
    seeds=(0, 1, 2),
    epochs=None,
    configs=None,
    data_dir=None,
    output=None,
    verbose=0,
    pair_models=(),
    metrics=None,
    domains=None,
    overwrite=False,
    alpha=0.05,
):
    """Runs every model on the same split per seed; returns the leaderboard.

    Each seed makes one split that all models share (its fingerprint is in
    every run's metrics.json). The leaderboard has the mean and standard
    deviation over seeds of each model's test metrics in each domain.

    `pair_models` are two-domain models (e.g. CoNet) compared on a split of
    more domains: each is trained on every ordered (source, target) pair of
    domains (`Split.select`), and each target domain reports the run whose
    source had the best validation headline metric on that target, as
    "<model> (best source)", written as a run folder of its own (so
    `tfcdr leaderboard` can join compares of different seeds). Every pair's
    run is written under `pairs/` and listed in `pairs.csv`; a model that
    treats both domains alike is trained once per unordered pair. `domains`
    keeps those domains of each split, in that order (`Split.select`;
    default all). Run folders that are complete are read, not trained
    again, and interrupted ones resume (`run_experiment`), so a rerun of a
    killed compare continues it; `overwrite` trains every run afresh.

    Returns:
        (leaderboard DataFrame, list of per-run result dicts).
    """
    from tfcdr.errors import DataError
    from tfcdr.models import MODELS

    configs = configs or {}
    if not isinstance(configs, dict) or any(key not in MODELS for key in configs):
        raise DataError(
            'a compare config is {"<model>": {hyperparameters}}; '
            f"{sorted(set(configs) - set(MODELS)) if isinstance(configs, dict) else configs!r} "
            f"are not models of {sorted(MODELS)}"
        )
    variants = [(name, name, configs.get(name)) for name in models]
    pairs = [(name, configs.get(name)) for name in pair_models]
    return run_variants(
        variants,
        dataset,
        protocol,
        seeds,
        epochs=epochs,
        data_dir=data_dir,
        output=output,
        verbose=verbose,
        pair_models=pairs,
        metrics=metrics,
        domains=domains,
        overwrite=overwrite,
        alpha=alpha,
    )


def run_variants(
    variants,
    dataset,
    protocol,
    seeds,
    *,
    epochs=None,
    data_dir=None,
    output=None,
    verbose=0,
    pair_models=(),
    metrics=None,
    domains=None,
    overwrite=False,
    alpha=0.05,
):
    """Trains each `(label, model name, config)` once per seed, all on that seed's split.

    A run's `model` field (and its folder, `<label>-seed<S>`) is the label,
    so one zoo model can appear several times with different configs.
    `pair_models` is a list of `(model name, config)` run per domain pair
    (see `compare`); `alpha` is the level of the leaderboard's significance
    marks; `metrics` are the leaderboard table's columns (default
    the protocol's logged metrics; the CSV always has every metric);
    `domains` keeps those domains of each seed's split, in that order.

    Returns:
        (leaderboard DataFrame, list of per-run result dicts).
    """
    # Every config is checked before any training, not when its turn comes.
    for _, name, config in variants:
        split_config(name, config)
    for name, config in pair_models:
        split_config(name, config)
    data = load_dataset(dataset, data_dir=data_dir)
    print(data.describe_text(), flush=True)
    runs = []
    pair_rows = []

    def run(label, name, config, split, folder=""):
        run_dir = (
            None if output is None else pathlib.Path(output) / folder / f"{results.file_name(label)}-seed{split.seed}"
        )
        started = time.time()
        result, model = run_experiment(
            name,
            seed=split.seed,
            epochs=epochs,
            config=config,
            split=split,
            output=run_dir,
            verbose=verbose,
            save_model=False,
            label=label,
            overwrite=overwrite,
        )
        headline = results.headline_line(result)
        print(f"  {label:<14} seed {split.seed}: {headline}  ({time.time() - started:.0f} s)", flush=True)
        return result, model

    for seed in seeds:
        split = make_split(data, protocol, seed=seed)
        if domains:
            split = split.select(domains)
        print(f"\nseed {seed}: split {split.fingerprint()}\n{split.summary().to_string()}", flush=True)
        for label, name, config in variants:
            runs.append(run(label, name, config, split)[0])
        for name, config in pair_models:
            pair_runs = _pair_runs(name, config, split, run)
            best, rows = _best_sources(name, pair_runs, split)
            if output is not None:
                folder = pathlib.Path(output) / f"{results.file_name(best['model'])}-seed{seed}"
                results.write_run(results.partial_folder(folder), best)
                results.publish_run(results.partial_folder(folder), folder)
            runs.append(best)
            pair_rows.extend(rows)
    board = results.leaderboard(runs)
    if output is not None:
        results.write_leaderboard(output, board, runs, metrics, alpha=alpha)
        if pair_rows:
            pd.DataFrame(pair_rows).to_csv(pathlib.Path(output) / "pairs.csv", index=False)
    return board, runs


def _pair_runs(name, config, split, run):
    """Runs of a two-domain model on every ordered (source, target) pair of `split`.

    A model that treats its two domains alike (`treats_domains_alike`, and
    the epoch kept on the mean of both) is trained once per unordered pair:
    that run also stands for the mirrored pair. Run folders go under
    `pairs/`, so a compare's top level holds only leaderboard rows.

    Returns:
        dict (source, target) -> result dict (the mirrored pairs share one).
    """
    pair_runs, mirrored = {}, set()
    for target in split.domain_names:
        for source in split.domain_names:
            if source == target:
                continue
            if (source, target) in mirrored:
                pair_runs[(source, target)] = pair_runs[(target, source)]
                continue
            result, model = run(
                f"{name} {source}->{target}", name, config, split.select([source, target]), folder="pairs"
            )
            pair_runs[(source, target)] = result
            monitor = result["config"]["training"].get("monitor", "mean")
            if getattr(model, "treats_domains_alike", False) and monitor == "mean":
                mirrored.add((target, source))
    return pair_runs


def _best_sources(name, pair_runs, split):
    """One result of `name` whose metrics per target come from its best-validated source.

    Returns the result dict and one row per pair (the target's validation
    headline metric at the restored epoch, its test figure, whether chosen).
    """
    from tfcdr.data.protocols import get_protocol

    metric = get_protocol(split.protocol).headline
    lower_is_better = get_protocol(split.protocol).mode == "min"
    pick = min if lower_is_better else max
    rows = []
    for (source, target), result in pair_runs.items():
        # The target's validation figure at the epoch whose weights were kept
        # (EarlyStopping restores the best epoch of the run's monitor: by
        # default the mean over both domains).
        role = result["config"]["training"].get("monitor", "mean")
        history = result["history"].get(f"val_{target}_{metric}", [])
        monitor = result["history"].get(f"val_{role}_{metric}", history)
        kept = monitor.index(pick(monitor)) if monitor else None
        rows.append(
            {
                "model": name,
                "seed": result["seed"],
                "source": source,
                "target": target,
                f"valid {metric}": history[kept] if kept is not None and kept < len(history) else float("nan"),
                f"test {metric}": result["metrics"][target].get(metric, float("nan")),
                "run": result["model"],
            }
        )
    frame = pd.DataFrame(rows)
    chosen = {}
    for target, group in frame.groupby("target", sort=False):
        values = group[f"valid {metric}"]
        index = values.idxmin() if lower_is_better else values.idxmax()
        chosen[target] = group.loc[index, "source"]
    frame["chosen"] = [chosen[t] == s for s, t in zip(frame["source"], frame["target"], strict=True)]
    first = next(iter(pair_runs.values()))
    best = {
        "model": f"{name} (best source)",
        "zoo_model": name,
        "dataset": first["dataset"],
        "protocol": first["protocol"],
        "seed": first["seed"],
        "split_fingerprint": split.fingerprint(),
        "metrics": {t: pair_runs[(s, t)]["metrics"][t] for t, s in chosen.items()},
        "sources": chosen,
        "runs": {t: pair_runs[(s, t)]["model"] for t, s in chosen.items()},
        # Mirrored pairs share one run: count its training time once.
        "train_seconds": round(sum({id(r): r["train_seconds"] for r in pair_runs.values()}.values()), 1),
    }
    return best, frame.to_dict("records")


def sweep(
    model,
    parameter,
    values,
    dataset="synthetic",
    protocol="loo-sampled",
    seeds=(0,),
    epochs=None,
    config=None,
    data_dir=None,
    output=None,
    metric=None,
    verbose=0,
    metrics=None,
    domains=None,
    overwrite=False,
):
    """Sensitivity of one model to one hyperparameter: a run per value and seed.

    Every value is trained on the same split per seed with `config` for the
    other hyperparameters. Writes the leaderboard (one row per value and
    domain) and `sweep.png`: the test `metric` (default the protocol's
    headline metric) against the value, one line per domain, with the
    standard deviation over seeds as error bars.

    Args:
        model: a zoo model name.
        parameter: a constructor argument of the model or a training option
            (e.g. "target_weight", "negative_ratio").
        values: the values to try (any JSON values, e.g. lists of layers).
        config: fixed hyperparameters under the swept one.
        Others as `compare`.

    Returns:
        (leaderboard DataFrame, list of per-run result dicts).
    """
    from tfcdr.data.protocols import get_protocol

    values = list(values)
    if not values:
        raise ValueError("sweep needs at least one value")
    _check_parameter(model, parameter)
    labels = [f"{parameter}={json.dumps(v)}" for v in values]
    variants = [
        (label, model, {**(config or {}), parameter: value}) for label, value in zip(labels, values, strict=True)
    ]
    board, runs = run_variants(
        variants,
        dataset,
        protocol,
        seeds,
        epochs=epochs,
        data_dir=data_dir,
        output=output,
        verbose=verbose,
        metrics=metrics,
        domains=domains,
        overwrite=overwrite,
    )
    if output is not None:
        results.plot_sweep(
            board,
            labels,
            values,
            metric or get_protocol(protocol).headline,
            pathlib.Path(output) / "sweep.png",
            title=f"{model} on {runs[0]['dataset']}: {parameter}",
        )
    return board, runs


def _check_parameter(model, parameter):
    """Raises DataError unless `parameter` is a training option or a constructor argument of `model`."""
    from tfcdr.errors import DataError
    from tfcdr.models import hyperparameters

    known = hyperparameters(model)
    if parameter not in known:
        raise DataError(f"{model!r} has no hyperparameter {parameter!r}; choose one of {sorted(known)}")
