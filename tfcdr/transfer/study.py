"""TransferStudy: sources x targets x configurations x seeds, resumable."""

import hashlib
import json
import logging
import pathlib
import time

import keras
import pandas as pd

from tfcdr.data.datasets import load_dataset
from tfcdr.data.splits import make_split
from tfcdr.data.views import DomainRef
from tfcdr.evaluation import evaluate
from tfcdr.models import MODELS, NCFMLP
from tfcdr.results import file_name
from tfcdr.training import fit_model
from tfcdr.transfer.configurations import MODES, NONE, variants
from tfcdr.transfer.erasure import layer_importance
from tfcdr.transfer.kl_relatedness import (
    domain_statistics,
    interactions_per_user,
    relatedness,
)
from tfcdr.transfer.layer_transfer import build_target_model, frozen_layer_names

logger = logging.getLogger("tfcdr")

REPORTED = ("hr@10", "ndcg@10", "mrr@10")


class TransferStudy:
    """Pre-trains sources, transfers their layers to targets, records every run.

    Each source is pre-trained once per seed as a one-domain NCF-MLP (the
    paper's base network: embeddings 32, FC 64-32-16-8 by default) and
    reused for every target and configuration. Each target is split once
    per seed (the loo-sampled protocol by default); its "none" baseline and
    all configurations of all sources are trained on that same split,
    starting from the same seeded initial weights, so gains are paired.
    Model selection (early stopping, the `auto` choice) reads validation
    only; test numbers are recorded, never used to choose.

    Runs are appended to `runs_path` (JSON lines) as they finish; a run
    already there with the same settings is skipped, so an interrupted
    study resumes. Source models are saved in `cache_dir` when given.

    Args:
        data_dir: folder of the shared datasets.
        dataset_options: dict dataset name -> recipe options (e.g. sizes of
            the synthetic recipe).
        protocol: evaluation protocol with sampled candidates
            ("loo-sampled").
        model_kwargs: `NCFMLP` arguments for sources (targets inherit the
            architecture).
        training: `fit_model` options (defaults: the "mlp" zoo entry's).
        runs_path: JSON-lines file of finished runs, or None.
        cache_dir: folder for pre-trained source models, or None.
        verbose: Keras verbosity of `fit`.

    Example:
        >>> study = TransferStudy(training={"epochs": 20})
        >>> runs = study.run(["ml1m-multi:*"], ["amazon-musical-instruments"], seeds=[0])
        >>> tfcdr.transfer.gain_table(runs)
    """

    def __init__(
        self,
        data_dir=None,
        dataset_options=None,
        protocol="loo-sampled",
        model_kwargs=None,
        training=None,
        runs_path=None,
        cache_dir=None,
        verbose=0,
    ):
        self.data_dir = data_dir
        self.dataset_options = dict(dataset_options or {})
        self.protocol = protocol
        self.model_kwargs = dict(model_kwargs or {})
        self.training = MODELS["mlp"].training_options(**(training or {}))
        self.runs_path = None if runs_path is None else pathlib.Path(runs_path)
        self.cache_dir = None if cache_dir is None else pathlib.Path(cache_dir)
        self.verbose = verbose
        self.settings = _fingerprint(
            {
                "protocol": protocol,
                "model": self.model_kwargs,
                "training": self.training,
                "options": self.dataset_options,
            }
        )
        self._datasets = {}
        self._domains = {}
        self._splits = {}
        self._sources = {}
        self.runs = self._read_runs()

    # --- data ------------------------------------------------------------

    def domain_data(self, ref):
        """The one-domain `CrossDomainData` of a reference (cached)."""
        ref = DomainRef.parse(ref)
        if ref not in self._domains:
            # Whole datasets are cached too: several domains of one are read once.
            if ref.dataset not in self._datasets:
                options = self.dataset_options.get(ref.dataset, {})
                self._datasets[ref.dataset] = load_dataset(ref.dataset, data_dir=self.data_dir, **options)
            self._domains[ref] = ref.view(self._datasets[ref.dataset])
        return self._domains[ref]

    def split(self, ref, seed):
        """The seeded split of a domain (cached): shared by all its runs."""
        key = (DomainRef.parse(ref), int(seed))
        if key not in self._splits:
            self._splits[key] = make_split(self.domain_data(key[0]), self.protocol, seed=seed)
        return self._splits[key]

    def statistics(self, ref):
        """Users, items, interactions, density and sparsity of a domain."""
        return domain_statistics(self.domain_data(ref))

    def relatedness(self, source, target, **options):
        """Eq. 8 KL-divergence between two domains' activity histograms."""
        return relatedness(
            interactions_per_user(self.domain_data(source)),
            interactions_per_user(self.domain_data(target)),
            **options,
        )

    def factors(self, sources, targets, **options):
        """Per (source, target): KL relatedness (eq. 8), target size and sparsity.

        Returns:
            DataFrame indexed by (source, target) with columns `kl`,
            `interactions` (target positives) and `sparsity` (target, %), the
            factors of Fig. 3 and Table 6.
        """
        rows = []
        for source in sources:
            for target in targets:
                stats = self.statistics(target)
                rows.append(
                    {
                        "source": str(DomainRef.parse(source)),
                        "target": str(DomainRef.parse(target)),
                        "kl": self.relatedness(source, target, **options),
                        "interactions": stats["interactions"],
                        "sparsity": stats["sparsity"],
                    }
                )
        return pd.DataFrame(rows).set_index(["source", "target"])

    # --- models ----------------------------------------------------------

    def source_model(self, ref, seed):
        """The source NCF-MLP pre-trained with `seed` (trained once, then cached)."""
        ref = DomainRef.parse(ref)
        key = (ref, int(seed))
        if key in self._sources:
            return self._sources[key]
        path = (
            None
            if self.cache_dir is None
            else self.cache_dir / f"{file_name(str(ref))}-seed{seed}-{self.settings}.keras"
        )
        split = self.split(ref, seed)
        if path is not None and path.exists():
            model = keras.models.load_model(path)
            logger.info("source %s seed %s: loaded %s", ref, seed, path)
        else:
            keras.utils.set_random_seed(seed)
            model = NCFMLP(split.domain_names, split.num_users, split.num_items, name="source", **self.model_kwargs)
            started = time.time()
            fit_model(model, split, seed=seed, verbose=self.verbose, **self.training)
            logger.info("source %s seed %s: pre-trained in %.0f s", ref, seed, time.time() - started)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                model.save(path)
        self._sources[key] = model
        return model

    def source_metrics(self, ref, seed):
        """Test metrics of a pre-trained source on its own split (Table 2's baseline)."""
        split = self.split(ref, seed)
        return evaluate(self.source_model(ref, seed), split, subset="test")[split.domain_names[0]]

    def importance(self, ref, seed, per_unit=True, subset="test"):
        """Representation-erasure importance of a source's layers (Fig. 2)."""
        frame = layer_importance(self.source_model(ref, seed), self.split(ref, seed), subset=subset, per_unit=per_unit)
        frame.insert(0, "source", str(DomainRef.parse(ref)))
        frame.insert(1, "seed", int(seed))
        return frame

    def train_target(self, source, target, configuration, seed, fine_tune=False, transfer_prediction=False):
        """One target run; returns (trained model, record dict).

        `source` may be None for the "none" configuration (from scratch).
        """
        split = self.split(target, seed)
        keras.utils.set_random_seed(seed)
        if configuration == NONE:
            model = NCFMLP(split.domain_names, split.num_users, split.num_items, name="none", **self.model_kwargs)
        else:
            model = build_target_model(
                self.source_model(source, seed),
                split,
                configuration,
                fine_tune=fine_tune,
                transfer_prediction=transfer_prediction,
                **{k: v for k, v in self.model_kwargs.items() if k not in ("embedding_dim", "hidden_units")},
            )
        frozen = frozen_layer_names(model)
        started = time.time()
        history = fit_model(model, split, seed=seed, verbose=self.verbose, **self.training)
        domain = split.domain_names[0]
        record = {
            "valid": evaluate(model, split, subset="valid")[domain],
            "test": evaluate(model, split, subset="test")[domain],
            "epochs": len(history.history.get("loss", [])),
            "frozen": list(frozen),
            "train_seconds": round(time.time() - started, 1),
            "split_fingerprint": split.fingerprint(),
        }
        return model, record

    # --- the grid ----------------------------------------------------------

    def run(self, sources, targets, configurations=None, seeds=(0,), prediction="both", modes=("frozen",)):
        """Runs every (source, target, configuration variant, mode, seed) not yet done.

        Args:
            sources, targets: domain references (`"dataset:domain"`).
            configurations: configuration names (default all). "none" is
                always added: it runs once per target and seed, whatever the
                sources, and every gain is relative to it.
            seeds: seeds; each seeds the source, the target split and weights.
            prediction: "with", "without" or "both" (see
                `tfcdr.transfer.variants`).
            modes: "frozen" and/or "fine-tune".

        Returns:
            DataFrame of all runs with these settings (see `runs_frame`).
        """
        unknown = set(modes) - set(MODES)
        if unknown:
            raise ValueError(f"modes must be among {MODES}, got {sorted(unknown)}")
        sources = [DomainRef.parse(s) for s in sources]
        targets = [DomainRef.parse(t) for t in targets]
        if configurations is not None and NONE not in configurations:
            # Every gain is relative to the from-scratch baseline: always run it.
            configurations = [NONE, *configurations]
        plan = variants(configurations, prediction)
        done = {_key(r) for r in self.runs}
        planned = set()
        for seed in seeds:
            for target in targets:
                jobs = [(None, NONE, False, NONE, None)]
                for source in sources:
                    for mode in modes:
                        for name, flag, label in plan:
                            if name != NONE:
                                jobs.append((source, name, flag, label, mode))
                for source, name, flag, label, mode in jobs:
                    row = {
                        "source": None if source is None else str(source),
                        "target": str(target),
                        "mode": mode,
                        "configuration": name,
                        "transfer_prediction": flag,
                        "label": label,
                        "seed": int(seed),
                        "settings": self.settings,
                    }
                    planned.add(_key(row))
                    if _key(row) in done:
                        continue
                    _, record = self.train_target(
                        source, target, name, seed, fine_tune=mode == "fine-tune", transfer_prediction=flag
                    )
                    row.update(record)
                    self._append(row)
                    done.add(_key(row))
                    logger.info(
                        "%s -> %s %s %s seed %d: valid hr@10 %.4f test hr@10 %.4f (%d epochs, %.0f s)",
                        row["source"] or "-",
                        target,
                        label,
                        mode or "",
                        seed,
                        row["valid"]["hr@10"],
                        row["test"]["hr@10"],
                        row["epochs"],
                        row["train_seconds"],
                    )
        return self.runs_frame(planned)

    def runs_frame(self, keys=None):
        """Runs with the current settings as a flat DataFrame.

        Args:
            keys: optional set of (source, target, mode, label, seed) to keep
                (`run` passes its plan, so runs of other studies sharing the
                runs file stay out); None keeps all.

        Columns: source, target, mode, configuration, transfer_prediction,
        label, seed, `valid_<metric>` and `test_<metric>` for hr/ndcg/mrr@10,
        epochs, train_seconds.
        """
        rows = []
        for run in self.runs:
            if keys is not None and _key(run) not in keys:
                continue
            row = {
                k: run[k] for k in ("source", "target", "mode", "configuration", "transfer_prediction", "label", "seed")
            }
            for subset in ("valid", "test"):
                for metric in REPORTED:
                    row[f"{subset}_{metric}"] = run[subset].get(metric, float("nan"))
            row["epochs"] = run["epochs"]
            row["train_seconds"] = run["train_seconds"]
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else ["source", "target", "mode", "label", "seed"])

    def _read_runs(self):
        if self.runs_path is None or not self.runs_path.exists():
            return []
        runs = []
        for line in self.runs_path.read_text().splitlines():
            if line.strip():
                run = json.loads(line)
                if run.get("settings") == self.settings:
                    runs.append(run)
        return runs

    def _append(self, row):
        self.runs.append(row)
        if self.runs_path is not None:
            self.runs_path.parent.mkdir(parents=True, exist_ok=True)
            with self.runs_path.open("a") as handle:
                handle.write(json.dumps(row) + "\n")


def _key(row):
    return (row["source"], row["target"], row["mode"], row["label"], row["seed"])


def _fingerprint(settings):
    return hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]
