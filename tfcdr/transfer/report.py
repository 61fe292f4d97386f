"""The transfer study's Markdown report and plots (gain tables, heatmaps, KL scatter, importance)."""

import pathlib

import numpy as np
import pandas as pd

from tfcdr.data.views import DomainRef
from tfcdr.results import file_name, markdown_table, plt
from tfcdr.transfer.analysis import (
    auto_choice,
    auto_summary,
    correlations,
    gains,
    mean_scores,
)
from tfcdr.transfer.configurations import (
    CONFIGURATIONS,
    NONE,
    OUTPUT_LAYER,
    PREDICTION_SUFFIX,
)

PAPER_FINDINGS = (
    "Paper (Nguyen et al., loo-sampled HR@10, embeddings 32, FC 64-32-16-8, 18 Amazon domains): "
    "transferring the layers near the output (Config-1, 5, 6, 7) helps most targets, by up to "
    "20%; configurations that leave FC-4 behind (Config-2, 3, 4) transfer negatively (-1% to "
    "-32%); gain correlates with the KL-divergence of the per-user activity histograms (|PCC| > "
    "0.7 for Config-5/6 from Book), hardly with target size (|PCC| < 0.4) or sparsity (|PCC| < 0.6)."
)


def with_output_layer(label):
    """True for labels whose configuration transfers FC-4 (the ones Fig. 3 plots)."""
    return OUTPUT_LAYER in CONFIGURATIONS[label.removesuffix(PREDICTION_SUFFIX)]


def gain_markdown(runs, source, mode):
    """Tables 3-5 for one source: gain % per configuration, best and auto columns."""
    gain = gains(runs).xs((source, mode), level=("source", "mode"))
    scores = mean_scores(runs).xs((source, mode), level=("source", "mode"))
    choice = auto_choice(runs).xs((source, mode), level=("source", "mode"))
    table = gain.map(lambda v: f"{v:+.2f}")
    table.insert(0, "none HR@10", scores[NONE].map(lambda v: f"{v:.4f}"))
    best = gain.idxmax(axis=1)
    table["best (HR@10)"] = [f"{b} ({scores.loc[t, b]:.4f})" for t, b in best.items()]
    table["auto (gain %)"] = [f"{choice.loc[t, 'auto']} ({choice.loc[t, 'auto_gain']:+.2f})" for t in table.index]
    table.index = [_short(t) for t in table.index]
    table.index.name = "target"
    return markdown_table(table)


def plot_heatmap(runs, source, mode, path):
    """Gains (%) of targets x configurations for one source, diverging at 0."""
    gain = gains(runs).xs((source, mode), level=("source", "mode"))
    values = gain.to_numpy(np.float64)
    limit = max(float(np.nanmax(np.abs(values))) if values.size else 1.0, 1e-9)
    fig, axis = plt.subplots(figsize=(1.0 + 0.85 * gain.shape[1], 1.0 + 0.5 * gain.shape[0]))
    image = axis.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit, aspect="auto")
    axis.set_xticks(range(gain.shape[1]), gain.columns, rotation=45, ha="right", fontsize=8)
    axis.set_yticks(range(gain.shape[0]), [_short(t) for t in gain.index], fontsize=8)
    for (row, col), value in np.ndenumerate(values):
        axis.text(col, row, f"{value:+.1f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=axis, label="gain over none (%)")
    axis.set_title(f"transfer gain, source {_short(source)} ({mode})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_kl_scatter(runs, factors, source, mode, path):
    """Fig. 3: gain vs KL relatedness per configuration with FC-4, fit and PCC."""
    gain = gains(runs).xs((source, mode), level=("source", "mode"))
    kl = factors.xs(source, level="source").loc[gain.index, "kl"].to_numpy(np.float64)
    labels = [label for label in gain.columns if with_output_layer(label)]
    fig, axis = plt.subplots(figsize=(6, 4.2))
    for label in labels:
        y = gain[label].to_numpy(np.float64)
        r, p = _pcc(kl, y)
        points = axis.scatter(kl, y, s=18, label=f"{label}: PCC {r:+.2f} (p {p:.3f})")
        if len(kl) >= 2 and np.ptp(kl) > 0:
            slope, intercept = np.polyfit(kl, y, 1)
            xs = np.linspace(kl.min(), kl.max(), 20)
            axis.plot(xs, slope * xs + intercept, color=points.get_facecolor()[0], linewidth=1)
    axis.axhline(0, color="grey", linewidth=0.6)
    axis.set(xlabel="KL(H_u(source) || H_u(target))  (eq. 8)", ylabel="gain over none (%)")
    axis.set_title(f"gain vs relatedness, source {_short(source)} ({mode})", fontsize=9)
    axis.legend(fontsize=6)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_importance(importance, path):
    """Fig. 2: log-likelihood drop when each unit of each layer is erased, per source."""
    sources = list(dict.fromkeys(importance["source"]))
    fig, axes = plt.subplots(1, len(sources), figsize=(4.5 * len(sources), 3.6), squeeze=False)
    for axis, source in zip(axes[0], sources, strict=True):
        block = importance[(importance["source"] == source) & (importance["unit"] >= 0)]
        layers = list(dict.fromkeys(block["layer"]))
        for k, layer in enumerate(layers):
            drops = block.loc[block["layer"] == layer, "ll_drop"].to_numpy()
            jitter = np.random.default_rng(k).uniform(-0.15, 0.15, len(drops))
            axis.scatter(np.full(len(drops), k) + jitter, drops, s=8, alpha=0.6)
            axis.plot([k - 0.3, k + 0.3], [drops.mean()] * 2, color="black")
        axis.set_xticks(range(len(layers)), layers)
        axis.axhline(0, color="grey", linewidth=0.6)
        axis.set(ylabel="log-likelihood drop when a unit is erased", title=_short(source))
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(
    study, runs, output, sources, targets, command="", importance=None, title="Layer transfer study", notes=None
):
    """Writes transfer.md (or `output` if it names a .md file) and its PNGs.

    Args:
        study: the `TransferStudy` that produced `runs` (for domain
            statistics, relatedness and source metrics).
        runs: `study.runs_frame()`.
        output: a folder (the report is `transfer.md` in it) or a `.md` path;
            the PNGs go next to it.
        sources, targets: the domain references of the study.
        command: the command line that produced the report.
        importance: optional erasure DataFrame (`TransferStudy.importance`).
        title: heading.
        notes: optional Markdown placed after the command (e.g. findings).

    Returns:
        Path of the Markdown file.
    """
    output = pathlib.Path(output)
    path = output if output.suffix == ".md" else output / "transfer.md"
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    stem = path.stem
    sources, targets = [str(s) for s in sources], [str(t) for t in targets]
    factors = study.factors(sources, targets)
    seeds = sorted(runs["seed"].unique())
    lines = [f"# {title}", ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += [
        f"Protocol {study.protocol}; NCF-MLP {study.model_kwargs or 'defaults (embeddings 32, FC 64-32-16-8)'}; "
        f"training {study.training}; seeds {[int(s) for s in seeds]}. Gains are test HR@10 relative to `none` "
        "(same target split, same seeded initial weights), each averaged over seeds first. "
        "`+pred` variants also copy the one-unit prediction layer above FC-4. Early stopping and "
        "`auto` read validation only.",
        "",
        PAPER_FINDINGS,
        "",
        "## Domains",
        "",
        "One-domain views (`<dataset>:<domain>`, `:*` = all domains merged); no user or item "
        "linkage is used. Interactions are the positives models train on (rating >= the recipe's "
        "threshold where it has one, e.g. 4 for MovieLens; every interaction otherwise).",
        "",
        markdown_table(_domain_table(study, runs, sources, targets, seeds)),
        "",
    ]
    for source in sources:
        for mode in [m for m in dict.fromkeys(runs["mode"].dropna())]:
            if not ((runs["source"] == source) & (runs["mode"] == mode)).any():
                continue
            image = f"{stem}_heatmap_{file_name(source)}_{mode}.png"
            plot_heatmap(runs, source, mode, folder / image)
            scatter = f"{stem}_kl_{file_name(source)}_{mode}.png"
            plot_kl_scatter(runs, factors, source, mode, folder / scatter)
            lines += [
                f"## Source {source} ({mode})",
                "",
                gain_markdown(runs, source, mode),
                "",
                f"![gains]({image})",
                "",
                f"![gain vs KL]({scatter})",
                "",
            ]
    gain = gains(runs)
    summary = pd.DataFrame(
        {
            "positive targets": (gain > 0).groupby(level=["source", "mode"]).sum().stack(),
            "mean gain %": gain.groupby(level=["source", "mode"]).mean().stack(),
        }
    ).unstack("label")
    lines += ["## Configurations across targets", ""]
    for column in ("positive targets", "mean gain %"):
        table = summary[column].copy()
        table.index = [f"{_short(s)} ({m})" for s, m in table.index]
        table.index.name = column
        lines += [markdown_table(table, floatfmt="{:+.2f}"), ""]
    choice = auto_choice(runs)
    auto = auto_summary(choice, gain)
    auto.index = [f"{_short(s)} ({m})" for s, m in auto.index]
    auto.index.name = "source"
    lines += [
        "## auto: the configuration with the best validation HR@10",
        "",
        'Per source and target, `auto` takes the variant ("none" included) with the best '
        "seed-mean validation HR@10; `match_rate` is how often that is also the best on test. "
        "`best_fixed` is the one configuration with the highest mean test gain over the targets "
        "(picked on test, so an optimistic yardstick), with that mean gain.",
        "",
        markdown_table(auto, floatfmt="{:.3f}"),
        "",
        "## Relatedness (eq. 8), target size and sparsity (Fig. 3, Table 6)",
        "",
        "KL(H_u(source) || H_u(target)) over shared half-octave bins of positives per user, "
        "histograms smoothed by 1e-4 per bin (see `tfcdr.transfer.kl_relatedness`).",
        "",
        markdown_table(_factor_table(factors), floatfmt="{:.3f}"),
        "",
        "Pearson correlation (p-value) of gain across targets, per configuration:",
        "",
        markdown_table(_correlation_table(correlations(gain, factors)), floatfmt="{:.3f}"),
        "",
    ]
    if importance is not None and len(importance):
        image = f"{stem}_importance.png"
        plot_importance(importance, folder / image)
        lines += [
            "## Layer importance by representation erasure (Fig. 2)",
            "",
            "Drop of HR@10 and of the mean log-likelihood of the correct labels (positive and its "
            "sampled negatives weighted equally) on the source's test set when one unit's output is "
            "zeroed, averaged over the layer's units and seeds (mean) and for its most important unit "
            "(max). Positive = the unit matters. Erasing a whole layer is not shown: it leaves a "
            "constant scorer whatever the layer.",
            "",
            markdown_table(_importance_table(importance), floatfmt="{:.4f}"),
            "",
            f"![importance]({image})",
            "",
        ]
    path.write_text("\n".join(lines))
    runs.to_csv(folder / f"{stem}_runs.csv", index=False)
    return path


def _domain_table(study, runs, sources, targets, seeds):
    rows = []
    for ref in dict.fromkeys([*sources, *targets]):
        stats = study.statistics(ref)
        role = "source" if ref in sources else "target"
        if role == "source":
            hr = np.mean([study.source_metrics(ref, s)["hr@10"] for s in seeds])
        else:
            hr = runs.loc[(runs["target"] == ref) & (runs["label"] == NONE), "test_hr@10"].mean()
        rows.append(
            {
                "domain": ref,
                "role": role,
                "users": stats["users"],
                "items": stats["items"],
                "interactions": stats["interactions"],
                "sparsity %": round(stats["sparsity"], 3),
                "baseline HR@10": hr,
            }
        )
    return pd.DataFrame(rows).set_index("domain")


def _factor_table(factors):
    table = factors["kl"].unstack("target")
    table.columns = [_short(c) for c in table.columns]
    table.index = [_short(i) for i in table.index]
    table.index.name = "KL source \\ target"
    return table


def _correlation_table(corr):
    corr = corr.copy()
    corr["cell"] = [
        "" if not np.isfinite(r) else f"{r:+.2f} ({p:.3f})" for r, p in zip(corr["pcc"], corr["p_value"], strict=True)
    ]
    corr["row"] = [
        f"{_short(s)} ({m}) vs {f}" for s, m, f in zip(corr["source"], corr["mode"], corr["factor"], strict=True)
    ]
    table = corr.pivot_table(index="row", columns="label", values="cell", aggfunc="first", sort=False)
    table.index.name = "PCC (p)"
    return table


def _importance_table(importance):
    units = importance[importance["unit"] >= 0].groupby(["source", "layer"], sort=False)
    table = pd.DataFrame(
        {
            "HR@10 drop mean": units["drop"].mean(),
            "HR@10 drop max": units["drop"].max(),
            "log-lik. drop mean": units["ll_drop"].mean(),
            "log-lik. drop max": units["ll_drop"].max(),
        }
    )
    table.index = [f"{_short(s)} {layer}" for s, layer in table.index]
    table.index.name = "source layer"
    return table


def _short(ref):
    return DomainRef.parse(ref).label


def _pcc(x, y):
    from tfcdr.transfer.kl_relatedness import pearson

    return pearson(x, y)
