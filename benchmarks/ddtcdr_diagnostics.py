"""What DDTCDR's transfer does on real data: is X orthogonal, does it move, what does the cross term add?

For each seed, trains `ddtcdr` under the `rating` protocol exactly as
`tfcdr compare` does (same split, same seeded initial weights), then prints
per domain pair and per domain:

- max |X^T X - I| after training (polar re-orthogonalization keeps it ~0),
- ||X - X_0||_F / sqrt(k): how far training moved X from its initial value,
- test RMSE of the trained model as it is (eq. 2-3), with the cross term
  switched off at test time (alpha = 0, the within-domain network alone), and
  of the cross term alone (alpha = 1: the other domain's network on the
  mapped user), and the correlation of the two terms' predictions.

If the cross term carried nothing, switching it off would not change RMSE
and X would not move; if it carries information, the cross term alone
predicts well above the item-mean level.

Example:
    python benchmarks/ddtcdr_diagnostics.py --dataset douban-book-music --seeds 0,1,2 \
        --config docs/results/configs/ddtcdr-40-epochs.json
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfcdr.data.datasets import load_dataset  # noqa: E402
from tfcdr.data.splits import make_split  # noqa: E402
from tfcdr.evaluation import evaluate  # noqa: E402
from tfcdr.experiment import load_config, run_experiment  # noqa: E402
from tfcdr.models import build_model, split_config  # noqa: E402


def kernels(model):
    return {name: np.asarray(mapping.kernel) for name, mapping in model.mappings.items()}


def rating_predictions(model, split, domain, transfer_rate):
    """Test predictions of `domain` with alpha forced to `transfer_rate` (1.0: the cross term alone)."""
    part = split.domains[domain].test
    saved = model.transfer_rate
    model.transfer_rate = transfer_rate
    try:
        return np.asarray(model.score(domain, part.users, part.items)), part.ratings
    finally:
        model.transfer_rate = saved


def rmse(predicted, truth):
    return float(np.sqrt(np.mean((predicted - truth) ** 2)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="douban-book-music")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--model", default="ddtcdr", help="a DDTCDR zoo entry (ddtcdr, ddtcdr-features)")
    parser.add_argument("--config", default=None, help='JSON {"<model>": {...}} as for tfcdr compare')
    args = parser.parse_args(argv)
    config = load_config(args.config) if args.config else {}
    config = config.get(args.model, config) if isinstance(config.get(args.model), dict) else config
    data = load_dataset(args.dataset, data_dir=args.data_dir)
    print(f"# {args.model} on {args.dataset} (rating protocol)\n")
    print("| seed | domain | test RMSE (model) | alpha = 0 at test | cross term alone | corr(within, cross) |")
    print("|---|---|---|---|---|---|")
    pair_rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        split = make_split(data, "rating", seed=seed)
        # The initial X: run_experiment seeds Keras the same way before building.
        model_kwargs, _ = split_config(args.model, config)
        keras.utils.set_random_seed(seed)
        initial = kernels(build_model(args.model, split, **model_kwargs))
        result, model = run_experiment(args.model, seed=seed, config=config, split=split, verbose=0, save_model=False)
        test = evaluate(model, split, subset="test")
        for domain in split.domain_names:
            full, truth = rating_predictions(model, split, domain, model.transfer_rate)
            within, _ = rating_predictions(model, split, domain, 0.0)
            cross, _ = rating_predictions(model, split, domain, 1.0)
            assert abs(rmse(full, truth) - test[domain]["rmse"]) < 1e-4, "diagnostic predictions differ from evaluate"
            print(
                f"| {seed} | {domain} | {rmse(full, truth):.4f} | {rmse(within, truth):.4f} | "
                f"{rmse(cross, truth):.4f} | {np.corrcoef(within, cross)[0, 1]:.3f} |"
            )
        for name, kernel in kernels(model).items():
            k = kernel.shape[0]
            pair_rows.append(
                (
                    seed,
                    name,
                    float(np.max(np.abs(kernel.T @ kernel - np.eye(k)))),
                    float(np.linalg.norm(kernel - initial[name]) / np.sqrt(k)),
                )
            )
    print("\n| seed | mapping | max abs(X^T X - I) | RMS change of X from init |")
    print("|---|---|---|---|")
    for seed, name, orthogonality, moved in pair_rows:
        print(f"| {seed} | {name} | {orthogonality:.1e} | {moved:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
