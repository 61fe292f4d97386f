"""Extra cost per training step of GradNorm over equal loss weighting (ADC).

Trains the same `ADC` twice per round on the synthetic adc split, once with
`loss_weighting="gradnorm"` and once with `"equal"`, fed by the pairwise
pipeline and compiled as `tfcdr.training.fit_model` compiles it (no
evaluation callback, no MF pretraining). The first epoch of every fit
(tracing) is not timed. Rounds alternate the two settings so that a change
in machine load hits both. Wall time and the process's CPU time per step
are printed, with their ratio gradnorm / equal; on a shared machine the CPU
time is the steadier figure. Nothing is asserted.

GradNorm adds, per step, one gradient of each of the p domain losses with
respect to the decoupling layer's kernel (from a persistent tape), a p-sized
Adam step on the weights and the renormalization.

Example:

    python benchmarks/gradnorm_cost.py --domains 4 --epochs 2 --rounds 2
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from timing import EpochTimer  # noqa: E402

from tfcdr.data import pipelines  # noqa: E402
from tfcdr.data.splits import make_split  # noqa: E402
from tfcdr.data.synthetic import make_synthetic  # noqa: E402
from tfcdr.models.adc import ADC  # noqa: E402


def time_fit(split, weighting, epochs, batch_size, steps_per_execution):
    keras.utils.set_random_seed(0)
    model = ADC(split.domain_names, split.num_users, split.num_items, pretrain_epochs=0, loss_weighting=weighting)
    model.prepare(split)
    dataset = pipelines.pairwise(split, batch_size=batch_size, seed=0)
    steps = int(dataset.cardinality())
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=steps_per_execution)
    timer = EpochTimer()
    model.fit(dataset, epochs=epochs + 1, verbose=0, shuffle=False, callbacks=[timer])
    wall, cpu = np.sum(timer.seconds[1:], axis=0)
    return wall / (steps * epochs), cpu / (steps * epochs), steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per fit (after one untimed)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps-per-execution", type=int, default=16)
    args = parser.parse_args(argv)

    split = make_split(make_synthetic(num_domains=args.domains), "adc", seed=0)
    results = {"equal": [], "gradnorm": []}
    for _ in range(args.rounds):
        for weighting in ("equal", "gradnorm"):
            wall, cpu, steps = time_fit(split, weighting, args.epochs, args.batch_size, args.steps_per_execution)
            results[weighting].append((wall, cpu))
    print(
        f"ADC on synthetic, {args.domains} domains, adc split, batch {args.batch_size}, "
        f"{steps} steps/epoch, {args.epochs} timed epochs x {args.rounds} rounds, {os.cpu_count()} CPUs"
    )
    medians = {}
    for weighting, rows in results.items():
        wall, cpu = np.median(np.array(rows), axis=0)
        medians[weighting] = (wall, cpu)
        print(f"{weighting:>9}: {1e3 * wall:7.2f} ms/step wall, {1e3 * cpu:7.2f} ms/step CPU")
    print(
        f"    ratio: {medians['gradnorm'][0] / medians['equal'][0]:.2f}x wall, "
        f"{medians['gradnorm'][1] / medians['equal'][1]:.2f}x CPU (gradnorm / equal)"
    )


if __name__ == "__main__":
    main()
