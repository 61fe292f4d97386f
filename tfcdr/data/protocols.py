"""The evaluation protocols: one table of what each one is and reports.

Every fact about a protocol other than how its split is built lives here:
its name, the metric that selects epochs, models and hyperparameters (and
whether lower is better), the metrics logged each epoch, the metrics and
cut-offs `evaluate` reports, and what the protocol needs of a dataset. The
split builders are in `tfcdr.data.splits` (`BUILDERS`, keyed by the same
names). Adding a protocol means one row here and one builder there; the CLI,
the trainer, the evaluation, the tuner, the result tables and the model
presets read this table.
"""

import dataclasses

LOO_SAMPLED = "loo-sampled"
FULL_RANKING = "full-ranking"
RATING = "rating"
ADC = "adc"
COLD_START = "cold-start"

# Ranking cut-offs: the papers' (CoNet and SharedVAE report @5..@50; ADC
# reports Recall@5..@20).
SAMPLED_KS = (5, 10, 20, 50)
FULL_KS = (5, 10, 20, 50)
ADC_KS = (5, 10, 15, 20)

# Errors: every other metric is better when higher.
LOWER_IS_BETTER = frozenset({"rmse", "mae", "rmse_stars", "mae_stars"})


@dataclasses.dataclass(frozen=True)
class Protocol:
    """One evaluation protocol.

    Attributes:
        name: the protocol's name (`--protocol`).
        summary: one line for help texts.
        kind: "sampled" (a held-out item against fixed sampled negatives),
            "ranking" (all items of the domain) or "rating" (predicted ratings).
        headline: the metric that selects epochs, models and hyperparameters.
        logged: metrics put into the training logs each epoch (the papers'
            cut-off), in the order result tables show them.
        ks: cut-offs `evaluate` reports for ranking metrics.
        single_domain: whether the protocol is meaningful on a dataset of
            one domain (cold-start and ADC's protocol need several).
        takes_given_split: whether a split that comes with the data (a
            CDRIB folder, a user's own train/valid/test files) can serve it.
    """

    name: str
    summary: str
    kind: str
    headline: str
    logged: tuple
    ks: tuple = ()
    single_domain: bool = True
    takes_given_split: bool = True

    @property
    def mode(self):
        """ "min" when the headline metric is an error, else "max"."""
        return "min" if self.headline in LOWER_IS_BETTER else "max"

    @property
    def measured(self):
        """Names of the metrics `evaluate` reports per domain (default cut-offs)."""
        if self.kind == "rating":
            return ("rmse", "mae", "rmse_stars", "mae_stars", "precision@5", "recall@5")
        kinds = ("hr", "ndcg", "mrr") if self.kind == "sampled" else ("recall", "precision", "hr", "ndcg", "mrr")
        return tuple(f"{kind}@{k}" for kind in kinds for k in self.ks)


PROTOCOLS = {
    protocol.name: protocol
    for protocol in (
        Protocol(
            LOO_SAMPLED,
            "leave the latest positive out; rank it against 99 sampled negatives",
            kind="sampled",
            headline="hr@10",
            logged=("hr@10", "ndcg@10", "mrr@10"),
            ks=SAMPLED_KS,
        ),
        Protocol(
            FULL_RANKING,
            "random 8:1:1 split of positives; rank all items of the domain",
            kind="ranking",
            headline="recall@10",
            logged=("recall@10", "ndcg@10", "hr@10"),
            ks=FULL_KS,
        ),
        Protocol(
            RATING,
            "ratings scaled to [0, 1]; stratified 80/10/10 record split; RMSE and MAE",
            kind="rating",
            headline="rmse",
            logged=("rmse", "mae", "precision@5", "recall@5"),
        ),
        Protocol(
            ADC,
            "ADC's 50/10/40 split; relevant above the user's mean; rank all items",
            kind="ranking",
            headline="ndcg@10",
            logged=("recall@10", "ndcg@10"),
            ks=ADC_KS,
            single_domain=False,
            takes_given_split=False,
        ),
        Protocol(
            COLD_START,
            "10% of overlapping users lose a domain; ranked there from the others",
            kind="sampled",
            headline="hr@10",
            logged=("hr@10", "ndcg@10", "mrr@10"),
            ks=SAMPLED_KS,
            single_domain=False,
        ),
    )
}


def get_protocol(name):
    """The `Protocol` named `name`; `ValueError` naming the choices for an unknown one."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; choose one of {list(PROTOCOLS)}") from None
