"""`run_search`: a KerasTuner search over one zoo model, with honest reports.

KerasTuner records a trial whose build or fit raised as FAILED and moves
on, printing the error only in its own display, and a trial whose history
lacks the objective is INVALID. `run_search` counts both as failures, puts
their error in the trial table and in the returned summary, so a search in
which half the trials crashed never looks like a clean one.
"""

import importlib.util
import json
import logging
import math
import pathlib

import keras
import keras_tuner
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from tfcdr.data.protocols import LOWER_IS_BETTER, get_protocol  # noqa: E402
from tfcdr.errors import DataError  # noqa: E402
from tfcdr.models import get_spec  # noqa: E402
from tfcdr.tuning.hypermodel import CDRHyperModel  # noqa: E402

logger = logging.getLogger("tfcdr")

TUNERS = ("random", "bayesian", "hyperband")
FAILED = "FAILED"


def objective_for(protocol, objective=None):
    """The `keras_tuner.Objective` a search maximizes or minimizes.

    Args:
        protocol: the split's protocol; the default objective is its
            headline metric on the target (last) domain, e.g.
            `val_target_hr@10` (max) or `val_target_rmse` (min).
        objective: a logs key such as "val_mean_ndcg@10" to use instead.

    Returns:
        A `keras_tuner.Objective` whose direction comes from the metric.
    """
    name = objective or f"val_target_{get_protocol(protocol).headline}"
    return keras_tuner.Objective(name, objective_direction(name))


def make_tuner(kind, hypermodel, objective, max_trials, directory, seed=0, max_epochs=None, overwrite=True):
    """A KerasTuner tuner of `kind` ("random", "bayesian" or "hyperband").

    Hyperband ignores `max_trials`: its budget is `max_epochs` (the most any
    trial trains) with the default reduction factor 3.
    """
    if kind not in TUNERS:
        raise DataError(f"unknown tuner {kind!r}; choose one of {list(TUNERS)}")
    _check_dependencies(kind)
    common = {
        "objective": objective,
        "seed": seed,
        "directory": str(directory),
        "project_name": hypermodel.name,
        "overwrite": overwrite,
        # Retrying a trial whose config cannot build only repeats the error.
        "max_retries_per_trial": 0,
    }
    with hypermodel.declaring_space():
        if kind == "random":
            return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
        if kind == "bayesian":
            return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials, **common)
        return keras_tuner.Hyperband(hypermodel, max_epochs=max_epochs or 10, **common)


def run_search(
    model_name,
    split,
    output,
    tuner="random",
    max_trials=10,
    objective=None,
    epochs=None,
    fixed=None,
    space=None,
    seed=0,
    verbose=0,
    tensorboard=True,
    overwrite=False,
):
    """Tunes `model_name` on `split` and writes the trial table, best config and plot.

    Writes into `output`: `trials.csv` and `trials.md` (one row per trial:
    status, objective, best epoch, hyperparameters, error), `best_config.json`
    (a flat dict `tfcdr train --config` accepts), `objective_by_trial.png`,
    the tuner's state under `tuner/` and TensorBoard logs (with the HParams
    dashboard) under `logs/`.

    Args:
        model_name: a key of `tfcdr.models.MODELS`.
        split: the `Split`; trials are selected on its validation sets.
        output: directory to write into.
        tuner: "random", "bayesian" or "hyperband".
        max_trials: number of trials (random, bayesian).
        objective: logs key to optimize (default `val_target_<headline>`).
        epochs: epochs per trial (default the model's training default;
            Hyperband's maximum).
        fixed: flat config under the drawn values (e.g. from `--config`).
        space: function(hp) -> flat config (default the model's entry).
        seed: seeds the tuner, the weights and the pipelines.
        verbose: KerasTuner/Keras verbosity.
        tensorboard: write TensorBoard logs per trial.
        overwrite: start afresh. Otherwise a search already in `output` (the
            same model, split, tuner and objective) resumes: KerasTuner
            reloads its finished trials and runs only the rest of
            `max_trials`; another search there is refused.

    Returns:
        dict with `trials` (DataFrame), `completed`, `failed` (counts),
        `best_config` (dict or None), `best_value`, `objective` and `stopped`
        (KerasTuner's reason when it ended the search early, else None).
    """
    get_spec(model_name)
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    target = objective_for(split.protocol, objective)
    _check_resumable(output, model_name, split, tuner, target.name, fixed, overwrite)
    hypermodel = CDRHyperModel(model_name, split, space=space, fixed=fixed, epochs=epochs, seed=seed, verbose=verbose)
    max_epochs = epochs or get_spec(model_name).training_options()["epochs"]
    search = make_tuner(
        tuner, hypermodel, target, max_trials, output / "tuner", seed=seed, max_epochs=max_epochs, overwrite=overwrite
    )
    callbacks = [keras.callbacks.TensorBoard(str(output / "logs"), write_graph=False)] if tensorboard else []
    stopped = None
    try:
        search.search(callbacks=callbacks, verbose=verbose)
    except RuntimeError as error:
        # KerasTuner stops after `max_consecutive_failed_trials` failures in
        # a row; the trials so far are still reported.
        stopped = str(error).splitlines()[0]
        logger.warning("tuner stopped: %s", stopped)
    trials = trial_table(search, hypermodel)
    completed = trials[trials["status"] != FAILED]
    best_config, best_value = None, None
    if len(completed):
        best = completed[target.name].idxmax() if target.direction == "max" else completed[target.name].idxmin()
        best_value = float(completed.loc[best, target.name])
        trial = search.oracle.get_trial(completed.loc[best, "trial"])
        best_config = hypermodel.config(trial.hyperparameters)
        (output / "best_config.json").write_text(json.dumps(best_config, indent=2) + "\n")
    result = {
        "trials": trials,
        "completed": len(completed),
        "failed": len(trials) - len(completed),
        "best_config": best_config,
        "best_value": best_value,
        "objective": target.name,
        "direction": target.direction,
        "stopped": stopped,
    }
    write_reports(output, result, model_name, split, tuner)
    return result


def trial_table(tuner, hypermodel):
    """DataFrame: one row per trial in run order, failures included.

    A trial counts as failed when KerasTuner marked it FAILED or INVALID or
    it completed without a finite objective value (missing metric, NaN).
    """
    objective = tuner.oracle.objective.name
    rows = []
    for trial in sorted(
        tuner.oracle.trials.values(), key=lambda t: int(t.trial_id) if t.trial_id.isdigit() else t.trial_id
    ):
        score = trial.score
        ok = trial.status == "COMPLETED" and score is not None and math.isfinite(score)
        error = ""
        if not ok:
            error = _last_line(trial.message) or f"no finite {objective} in the trial's logs (status {trial.status})"
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        rows.append(
            {
                "trial": trial.trial_id,
                "status": "COMPLETED" if ok else FAILED,
                objective: float(score) if ok else float("nan"),
                "best_epoch": (trial.best_step + 1) if ok and trial.best_step is not None else None,
                **values,
                "error": error,
            }
        )
    return pd.DataFrame(rows)


def write_reports(output, result, model_name, split, tuner_kind):
    """Writes trials.csv, trials.md and objective_by_trial.png."""
    output = pathlib.Path(output)
    trials = result["trials"]
    trials.to_csv(output / "trials.csv", index=False)
    summary = f"{len(trials)} trials: {result['completed']} completed, {result['failed']} failed" + (
        f"; stopped early: {result['stopped']}" if result["stopped"] else ""
    )
    best = (
        f"Best {result['objective']} = {result['best_value']:.4f}; config in `best_config.json`."
        if result["best_config"] is not None
        else "No trial completed: there is no best config."
    )
    lines = [
        f"# Tuning {model_name} on {split.dataset} ({split.protocol}, {tuner_kind} search)",
        "",
        f"Objective `{result['objective']}` ({result['direction']}) on the validation sets of split "
        f"`{split.fingerprint()}`.",
        "",
        summary + ". " + best,
        "",
        _markdown(trials),
        "",
    ]
    (output / "trials.md").write_text("\n".join(lines))
    plot_trials(trials, result["objective"], output / "objective_by_trial.png", title=f"{model_name}: {summary}")


def plot_trials(trials, objective, path, title=""):
    """Objective of each trial (dots), the best so far (line), failures (red x)."""
    fig, axis = plt.subplots(figsize=(7, 4))
    order = range(1, len(trials) + 1)
    values = trials[objective].to_numpy(float) if len(trials) else []
    ok = trials["status"].to_numpy() != FAILED if len(trials) else []
    if len(trials) and ok.any():
        axis.plot([o for o, k in zip(order, ok, strict=True) if k], values[ok], "o", label="trial")
        series = pd.Series(values).where(ok)
        running = series.cummax() if objective_direction(objective) == "max" else series.cummin()
        axis.plot(list(order), running.to_numpy(), "-", drawstyle="steps-post", label="best so far")
    failed = [o for o, k in zip(order, ok, strict=True) if not k] if len(trials) else []
    if failed:
        low = axis.get_ylim()[0] if ok.any() else 0.0
        axis.plot(failed, [low] * len(failed), "x", color="red", markersize=10, label="failed")
    axis.set(xlabel="trial", ylabel=objective, title=title)
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.grid(alpha=0.3)
    if axis.lines:
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _check_resumable(output, model_name, split, tuner, objective, fixed, overwrite):
    """Records what this search is in `output`, refusing to resume a different one there."""
    settings = {
        "model": model_name,
        "split": split.fingerprint(),
        "tuner": tuner,
        "objective": objective,
        "fixed": fixed or {},
    }
    path = output / "search.json"
    if path.exists() and not overwrite:
        earlier = json.loads(path.read_text())
        if earlier != json.loads(json.dumps(settings)):
            changed = sorted(k for k in settings if earlier.get(k) != json.loads(json.dumps(settings))[k])
            raise DataError(
                f"{output} holds another search (its {', '.join(changed)} differ); "
                "choose another --output or pass --overwrite",
                path=path,
            )
    path.write_text(json.dumps(settings, indent=2) + "\n")


def objective_direction(name):
    """ "min" for errors and losses (`..._rmse`, `..._mae`, `...loss`), else "max"."""
    lower = any(name == m or name.endswith(f"_{m}") for m in LOWER_IS_BETTER)
    return "min" if lower or name.endswith("loss") else "max"


def _markdown(trials):
    if not len(trials):
        return "(no trials)"
    header = "| " + " | ".join(trials.columns) + " |"
    lines = [header, "|" + "---|" * len(trials.columns)]
    for _, row in trials.iterrows():
        cells = []
        for value in row:
            if isinstance(value, float):
                cells.append("" if math.isnan(value) else f"{value:.4g}")
            else:
                cells.append("" if value is None else str(value).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _last_line(message):
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _check_dependencies(kind):
    # KerasTuner imports these lazily inside each trial and turns an
    # ImportError into one more failed trial; fail before the first instead.
    needed = ["tensorboard"] + (["scipy", "sklearn"] if kind == "bayesian" else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise DataError(f"the {kind} tuner needs {missing}; pip install tensorboard scipy scikit-learn")
