"""Writing runs and leaderboards: JSON, Markdown tables and PNG plots."""

import json
import logging
import pathlib
import shutil

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tfcdr.data.protocols import get_protocol  # noqa: E402


def headline_line(result):
    """One line of the protocol's logged metrics per domain, for progress output."""
    names = get_protocol(result["protocol"]).logged[:2]
    parts = []
    for domain, values in result["metrics"].items():
        shown = " ".join(f"{m}={values[m]:.4f}" for m in names if m in values)
        parts.append(f"{domain}: {shown}")
    return " | ".join(parts)


def scale_line(rating_scales):
    """The sentence naming the scales of a rating run's errors ("" for runs of other protocols).

    Args:
        rating_scales: dict domain -> (lowest, highest) rating, as
            `Split.rating_scales()` and a run's `rating_scales` hold it.
    """
    if not rating_scales:
        return ""
    ranges = ", ".join(f"{domain} {low:g} to {high:g}" for domain, (low, high) in rating_scales.items())
    return (
        "Rating errors: `rmse` and `mae` on the [0, 1] scale the rating protocol trains on; "
        f"`rmse_stars` and `mae_stars` on each domain's own rating scale ({ranges})."
    )


PARTIAL = ".partial"
# Each run's per-user test values: the paired observations of the leaderboard's significance marks.
PER_USER = "per_user.csv.gz"


def partial_folder(output):
    """The temporary sibling a run is written into before `publish_run` renames it to `output`."""
    output = pathlib.Path(output)
    return output.with_name(output.name + PARTIAL)


def publish_run(partial, output):
    """Renames a run's finished temporary folder into place, without its training backup.

    A run folder therefore exists only once everything in it is written: a
    run killed earlier leaves only `<name>.partial`, which `collect_runs`
    skips and a rerun of the same command resumes.
    """
    partial, output = pathlib.Path(partial), pathlib.Path(output)
    shutil.rmtree(partial / "backup", ignore_errors=True)
    if output.exists():
        shutil.rmtree(output)
    partial.rename(output)


def read_run(path):
    """A run's metrics.json as a dict; a missing, truncated or foreign file is a `DataError` naming it.

    The run's per-user test values (`per_user.csv.gz` beside it, when the run
    wrote them) come under `per_user`, for significance marks.
    """
    from tfcdr.errors import DataError

    path = pathlib.Path(path)
    try:
        result = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError("no metrics.json: not a finished tfcdr run (choose another --output)", path=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"corrupt metrics.json ({error}); rerun the run or delete its folder", path=path) from None
    required = ("model", "dataset", "protocol", "seed", "metrics")
    missing = [key for key in required if key not in result] if isinstance(result, dict) else list(required)
    if missing:
        raise DataError(f"not a tfcdr run's metrics.json (missing {missing})", path=path)
    if (path.parent / PER_USER).exists():
        result["per_user"] = pd.read_csv(path.parent / PER_USER)
    return result


def write_run(output, result):
    """Writes metrics.json, summary.md and training_curves.png into `output`.

    A pair model's best-source result (`runs`: target -> the pair run it
    was taken from) has no curves of its own: its summary names the runs.
    """
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    per_user = result.get("per_user")
    (output / "metrics.json").write_text(json.dumps({k: v for k, v in result.items() if k != "per_user"}, indent=2))
    if per_user is not None:
        per_user.to_csv(output / PER_USER, index=False)
    table = pd.DataFrame(result["metrics"]).T
    if "runs" in result:
        taken = "; ".join(f"{target} from `{run}`" for target, run in result["runs"].items())
        trained = f"each target's metrics from the pair run whose source validated best ({taken})."
    else:
        epochs = len(result["history"].get("loss", []))
        trained = f"trained for {epochs} epochs in {result['train_seconds']} s; weights of the best validation epoch."
    lines = [
        f"# {result['model']} on {result['dataset']} ({result['protocol']}, seed {result['seed']})",
        "",
        f"Split fingerprint `{result['split_fingerprint']}`; {trained}",
        "",
        *([scale_line(result["rating_scales"]), ""] if result.get("rating_scales") else []),
        *([f"Preset: {result['preset']}.", ""] if result.get("preset") else []),
        "Test metrics per domain:",
        "",
        markdown_table(table),
        "",
    ]
    (output / "summary.md").write_text("\n".join(lines))
    if "history" in result:
        plot_history(
            result["history"], output / "training_curves.png", title=f"{result['model']} on {result['dataset']}"
        )


def plot_history(history, path, title=""):
    """Loss curves, validation metrics per domain and, when logged, loss weights per domain.

    The third panel appears for models that learn their domain loss weights
    (GradNorm: `<domain>_weight` in the logs, the epoch mean of w_k).
    """
    weights = {k: v for k, v in history.items() if k.endswith("_weight")}
    fig, axes = plt.subplots(1, 3 if weights else 2, figsize=(16 if weights else 11, 4))
    left, right = axes[0], axes[1]
    for key, values in history.items():
        if key.endswith("loss"):
            left.plot(np.arange(1, len(values) + 1), values, marker="o", label=key)
        elif key.startswith("val_") and not key.startswith(("val_mean_", "val_source_", "val_target_")):
            right.plot(np.arange(1, len(values) + 1), values, marker=".", label=key[4:])
    left.set(title="training loss", xlabel="epoch")
    right.set(title="validation metrics", xlabel="epoch")
    if weights:
        for key, values in weights.items():
            axes[2].plot(np.arange(1, len(values) + 1), values, marker=".", label=key[: -len("_weight")])
        axes[2].set(title="domain loss weights w_k", xlabel="epoch")
    for axis in axes:
        if axis.lines:
            axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def leaderboard(runs, metrics=None):
    """DataFrame: one row per (model, domain), columns "metric" = "mean ± std"."""
    rows = []
    for run in runs:
        for domain, values in run["metrics"].items():
            for metric, value in values.items():
                if metric != "users":
                    rows.append((run["model"], domain, metric, value))
    frame = pd.DataFrame(rows, columns=["model", "domain", "metric", "value"])
    if metrics is not None:
        frame = frame[frame["metric"].isin(metrics)]
    stats = frame.groupby(["model", "domain", "metric"], sort=False)["value"].agg(["mean", "std", "count"])
    return stats.reset_index()


def format_leaderboard(board, metrics, alpha=None):
    """Markdown table: rows model x domain, columns metrics as mean ± std (n).

    Where `board` carries significance marks (`best`, `tied_with_best`; see
    `mark_leaderboard`), the best model's cell is bold and a model not
    significantly worse than it gets a dagger.
    """
    board = board[board["metric"].isin(metrics)].copy()
    # One seed has no spread to show: the mean alone, not a made-up "± 0".
    board["cell"] = [
        f"{m:.4f}" if n < 2 else f"{m:.4f} ± {s:.4f}"
        for m, s, n in zip(board["mean"], board["std"], board["count"], strict=True)
    ]
    marked = "best" in board and board["best"].notna().any()
    if marked:
        best = board["best"].fillna(False).astype(bool)
        tied = board["tied_with_best"].fillna(False).astype(bool) & ~best
        board.loc[best, "cell"] = "**" + board.loc[best, "cell"] + "**"
        board.loc[tied, "cell"] = board.loc[tied, "cell"] + " †"
    table = board.pivot_table(index=["domain", "model"], columns="metric", values="cell", aggfunc="first", sort=False)
    table = table[[m for m in metrics if m in table.columns]]
    seeds = int(board["count"].max()) if len(board) else 0
    header = "| domain | model | " + " | ".join(table.columns) + " |"
    lines = [header, "|" + "---|" * (len(table.columns) + 2)]
    for (domain, model), row in table.iterrows():
        lines.append(f"| {domain} | {model} | " + " | ".join(row.fillna("")) + " |")
    lines.append("")
    lines.append("one seed" if seeds == 1 else f"mean ± standard deviation over {seeds} seeds")
    if marked:
        lines.append("")
        lines.append(
            f"**Bold**: the best mean; †: not significantly worse than it at alpha = {alpha:g} (Wilcoxon "
            "signed-rank test over the users of all seeds, paired, Holm-corrected over the models of the "
            "column and domain; `leaderboard.csv` has the p-values). Unmarked: significantly worse."
        )
    return "\n".join(lines)


def mark_leaderboard(board, runs, alpha=0.05):
    """`board` with each (model, domain, metric)'s significance columns from the runs' per-user values.

    Adds `ci_low` and `ci_high` (95% interval of the mean over users and
    seeds), `p_value`, `p_holm` (against the best model of the domain and
    metric), `best` and `tied_with_best`; rows without per-user values (runs
    written before they were kept, a pair model's best-source rows) stay
    empty there.
    """
    from tfcdr.evaluation.significance import leaderboard_marks

    marks = leaderboard_marks(runs, alpha=alpha)
    columns = ["model", "domain", "metric", "ci_low", "ci_high", "p_value", "p_holm", "best", "tied_with_best"]
    return board.merge(marks[columns], on=["model", "domain", "metric"], how="left")


def write_leaderboard(output, board, runs, metrics=None, alpha=0.05):
    """Writes leaderboard.md (columns `metrics`, default the logged ones), leaderboard.csv and leaderboard.png.

    Cells are marked by significance against the best model at level `alpha`
    where the runs kept per-user values (`mark_leaderboard`).
    """
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    protocol = runs[0]["protocol"]
    board = mark_leaderboard(board, runs, alpha)
    metrics = list(metrics or _default_columns(protocol, board))
    missing = sorted(set(metrics) - set(board["metric"]))
    if missing:
        raise ValueError(f"no runs measured {missing}; measured: {sorted(set(board['metric']))}")
    board.to_csv(output / "leaderboard.csv", index=False)
    text = [
        f"# {runs[0]['dataset']} under {protocol}",
        "",
        format_leaderboard(board, metrics, alpha),
        "",
        "Splits: " + ", ".join(sorted({f"seed {r['seed']} `{r['split_fingerprint']}`" for r in runs})),
        "",
        *([scale_line(runs[0]["rating_scales"]), ""] if runs[0].get("rating_scales") else []),
    ]
    (output / "leaderboard.md").write_text("\n".join(text))
    plot_leaderboard(board, get_protocol(protocol).headline, output / "leaderboard.png")
    if board["ci_low"].notna().any():
        plot_intervals(board, get_protocol(protocol).headline, output / "leaderboard_ci.png")


def _default_columns(protocol, board):
    """The logged metrics, plus the errors on the data's own scale where the runs measured them."""
    columns = list(get_protocol(protocol).logged)
    if protocol == "rating":
        stars = [m for m in ("rmse_stars", "mae_stars") if m in set(board["metric"])]
        columns[columns.index("mae") + 1 : columns.index("mae") + 1] = stars
    return columns


def collect_runs(folders):
    """The per-run results (metrics.json) under `folders`, checked to share splits.

    Each folder is a run folder or a folder of them (a `compare`/`sweep`
    output). Runs of one seed must all have the same split fingerprint, and
    all runs the same dataset and protocol, so the table compares like with
    like. A model measured twice on the same split is refused too.

    Raises:
        DataError: no runs found, or runs that do not belong in one table.
    """
    from tfcdr.errors import DataError

    paths, runs, order = [], [], {}
    for folder in map(pathlib.Path, folders):
        if not folder.exists():
            raise DataError("no such folder", path=folder)
        if folder.name.endswith(PARTIAL):
            raise DataError(
                "an incomplete run (interrupted before it finished; rerun its command to resume)", path=folder
            )
        incomplete = sorted(p.name for p in folder.glob(f"*{PARTIAL}") if p.is_dir())
        if incomplete:
            logging.getLogger("tfcdr").warning(
                "skipping %d incomplete runs in %s (rerun the command to resume them): %s",
                len(incomplete),
                folder,
                ", ".join(incomplete),
            )
        found = (
            [folder / "metrics.json"]
            if (folder / "metrics.json").exists()
            else sorted(p for p in folder.glob("*/metrics.json") if not p.parent.name.endswith(PARTIAL))
        )
        if not found:
            raise DataError("no run folders (*/metrics.json) here", path=folder)
        paths.extend(found)
        runs.extend(read_run(path) for path in found)
        # Models in the order the folders are given, and within a compare in
        # its own order (its leaderboard.csv), not the file system's.
        if (folder / "leaderboard.csv").exists():
            for model in pd.read_csv(folder / "leaderboard.csv")["model"]:
                order.setdefault(model, len(order))
        for run in runs[len(runs) - len(found) :]:
            order.setdefault(run["model"], len(order))
    ranked = sorted(range(len(runs)), key=lambda i: (order[runs[i]["model"]], runs[i]["seed"]))
    paths, runs = [paths[i] for i in ranked], [runs[i] for i in ranked]
    kinds = {(r["dataset"], r["protocol"]) for r in runs}
    if len(kinds) > 1:
        raise DataError(f"runs of different datasets or protocols do not share a table: {sorted(kinds)}")
    splits, seen = {}, {}
    for path, run in zip(paths, runs, strict=True):
        fingerprint = splits.setdefault(run["seed"], run["split_fingerprint"])
        if fingerprint != run["split_fingerprint"]:
            raise DataError(
                f"seed {run['seed']} has two different splits ({fingerprint} and {run['split_fingerprint']})", path=path
            )
        key = (run["model"], run["seed"])
        if key in seen:
            raise DataError(f"{run['model']!r} seed {run['seed']} appears twice (also {seen[key]})", path=path)
        seen[key] = path
    return runs


def plot_intervals(board, metric, path):
    """Each model's mean `metric` per domain with its 95% interval over users; the best and its ties filled."""
    chosen = board[(board["metric"] == metric) & board["ci_low"].notna()]
    domains = list(dict.fromkeys(chosen["domain"]))
    fig, axes = plt.subplots(1, len(domains), figsize=(4.5 * len(domains), 0.45 * chosen["model"].nunique() + 1.5))
    for axis, domain in zip(np.atleast_1d(axes), domains, strict=True):
        rows = chosen[chosen["domain"] == domain].iloc[::-1]
        positions = np.arange(len(rows))
        error = [rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]]
        tied = rows["tied_with_best"].fillna(False).astype(bool).to_numpy()
        axis.errorbar(rows["mean"], positions, xerr=error, fmt="none", ecolor="gray", capsize=3)
        axis.scatter(rows["mean"][tied], positions[tied], color="tab:blue", zorder=3, label="best, or not worse")
        axis.scatter(
            rows["mean"][~tied], positions[~tied], facecolor="white", edgecolor="tab:blue", zorder=3, label="worse"
        )
        axis.set_yticks(positions, rows["model"])
        axis.set_title(domain, fontsize=9)
        axis.set_xlabel(f"test {metric} (95% interval over users)")
        axis.grid(axis="x", alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_leaderboard(board, metric, path):
    """Grouped bars of `metric` per domain and model, with std error bars."""
    chosen = board[board["metric"] == metric]
    domains = list(dict.fromkeys(chosen["domain"]))
    models = list(dict.fromkeys(chosen["model"]))
    width = 0.8 / max(len(models), 1)
    fig, axis = plt.subplots(figsize=(max(5, 1.8 * len(domains) * max(len(models), 1) ** 0.5), 4))
    for k, model in enumerate(models):
        rows = chosen[chosen["model"] == model].set_index("domain").reindex(domains)
        axis.bar(
            np.arange(len(domains)) + k * width, rows["mean"], width, yerr=rows["std"].fillna(0), label=model, capsize=3
        )
    axis.set_xticks(np.arange(len(domains)) + width * (len(models) - 1) / 2, domains)
    axis.set_ylabel(f"test {metric}")
    # Outside the axes: inside, the legend hides the first domain's bars.
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axis.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def file_name(label):
    """A label as a file or folder name: "conet target_weight=0.2" -> "conet_target_weight=0.2".

    The one sanitizer of the package: run folders, the transfer study's
    cached sources and its report's images are named by it.
    """
    return "".join(c if c.isalnum() or c in "-_.=" else "_" for c in label)


def plot_sweep(board, labels, values, metric, path, title=""):
    """Test `metric` against a swept value, a line per domain, std over seeds as error bars.

    `metric` is one name or a list of them (a panel each). Numeric values
    are placed on a numeric axis; others (lists, strings) one per tick,
    labelled with their JSON text.
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    x = np.asarray(values, float) if numeric else np.arange(len(values))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4), squeeze=False)
    for axis, name in zip(axes[0], metrics, strict=True):
        chosen = board[board["metric"] == name]
        for domain in dict.fromkeys(chosen["domain"]):
            rows = chosen[chosen["domain"] == domain].set_index("model").reindex(labels)
            axis.errorbar(x, rows["mean"], yerr=rows["std"].fillna(0), marker="o", capsize=3, label=domain)
        if not numeric:
            axis.set_xticks(x, [label.split("=", 1)[1] for label in labels], fontsize=8, rotation=20, ha="right")
        axis.set(xlabel=labels[0].split("=", 1)[0], ylabel=f"test {name}", title=title)
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curves(runs, keys, path, title=""):
    """Per-epoch logs of several runs side by side: a panel per key, a line per model.

    Each line is the mean over the model's seeds at each epoch that any of
    them reached (early stopping ends seeds at different epochs); thin lines
    are the single seeds. E.g. DDTCDR's per-domain training losses against
    NCF's, or GradNorm's weights `<domain>_weight` against equal weighting.

    Raises:
        DataError: a key that no run logged (the message lists those logged).
    """
    from tfcdr.errors import DataError

    logged = sorted({k for run in runs for k in run["history"]})
    missing = [k for k in keys if k not in logged]
    if missing:
        raise DataError(f"no run logged {missing}; logged keys: {logged}")
    models = list(dict.fromkeys(run["model"] for run in runs))
    columns = min(len(keys), 4)
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), squeeze=False)
    for axis, key in zip(axes.ravel(), keys, strict=False):
        for index, model in enumerate(models):
            color = f"C{index % 10}"
            series = [run["history"][key] for run in runs if run["model"] == model and key in run["history"]]
            if not series:
                continue
            longest = max(len(values) for values in series)
            padded = np.full((len(series), longest), np.nan)
            for row, values in enumerate(series):
                padded[row, : len(values)] = values
                axis.plot(np.arange(1, len(values) + 1), values, color=color, alpha=0.25, linewidth=0.8)
            axis.plot(np.arange(1, longest + 1), np.nanmean(padded, axis=0), color=color, marker=".", label=model)
        axis.set(title=key, xlabel="epoch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    for axis in axes.ravel()[len(keys) :]:
        axis.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sweep_values(runs):
    """(labels, values) of sweep runs, from their "<parameter>=<JSON value>" labels, in run order.

    Raises:
        DataError: a run not labelled as one value of one parameter.
    """
    from tfcdr.errors import DataError

    labels = list(dict.fromkeys(run["model"] for run in runs))
    parameters = {label.split("=", 1)[0] for label in labels}
    if any("=" not in label for label in labels) or len(parameters) != 1:
        raise DataError(f"not the runs of one sweep (labels <parameter>=<value>): {labels}")
    try:
        values = [json.loads(label.split("=", 1)[1]) for label in labels]
    except json.JSONDecodeError as error:
        raise DataError(f"a sweep label's value is not JSON ({error.msg}): {labels}") from None
    return labels, values


def markdown_table(frame, floatfmt="{:.4f}"):
    """A DataFrame as a GitHub Markdown table (index as the first column)."""

    def cell(value):
        if isinstance(value, float | np.floating):
            return str(int(value)) if float(value).is_integer() and abs(value) >= 1 else floatfmt.format(value)
        return str(value)

    index_name = frame.index.name or ""
    lines = ["| " + " | ".join([index_name, *map(str, frame.columns)]) + " |"]
    lines.append("|" + "---|" * (len(frame.columns) + 1))
    for label, row in frame.iterrows():
        lines.append("| " + " | ".join([str(label), *map(cell, row)]) + " |")
    return "\n".join(lines)
