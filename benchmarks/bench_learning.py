"""Which architecture learns the toy world fastest per CPU second?

    python benchmarks/bench_learning.py --minutes 5
    python benchmarks/bench_learning.py --presets tiny unet3d-tiny --minutes 10 \
        --results results/benchmarks/learning_quick

Trains each preset on the quick profile's golden clips (Set-C) with the same recipe for the same
wall-clock budget, evaluating every ``--eval-every`` steps: samples from the EMA weights and their
Fréchet distance to the held-out golden clips (``tqd_lite.diffusion.training_run``). Plots that distance
against training seconds, one line per preset, and writes the numbers with provenance.
A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tqd_lite.diffusion.training_run import default_config, run_training  # noqa: E402
from tqd_lite.profiles import get_profile  # noqa: E402
from tqd_lite.provenance import provenance, write_result  # noqa: E402
from tqd_lite.viz.plots import stamp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--presets", nargs="+", default=["tiny", "unet3d-tiny"])
    parser.add_argument("--minutes", type=float, default=5.0, help="training budget per preset")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between evaluations")
    parser.add_argument("--eval-clips", type=int, default=48)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--out", default="runs/bench_learning", help="folder for the training runs")
    parser.add_argument("--results", default="runs/bench_learning/learning", help="JSON and PNG path stem")
    args = parser.parse_args()
    profile = get_profile(args.profile)
    out = Path(args.out)
    block = provenance(profile.name, 0, "cpu", minutes_per_preset=args.minutes)
    results = {}
    for preset in args.presets:
        config = default_config(profile, preset=preset, steps=100_000)  # the budget stops it
        report = run_training(
            profile,
            config,
            out / preset,
            eval_every=args.eval_every,
            eval_clips=args.eval_clips,
            max_train_seconds=args.minutes * 60,
            progress=False,
        )
        results[preset] = {
            "parameters": report["parameters"],
            "seconds_per_step": report["train_seconds"] / report["evaluations"][-1]["step"],
            "evaluations": [
                {k: e[k] for k in ("step", "train_seconds", "frechet_distance")}
                for e in report["evaluations"]
            ],
        }
        last = report["evaluations"][-1]
        speed = results[preset]["seconds_per_step"]
        print(
            f"{preset}: {report['parameters']:,} parameters, {speed:.2f} s/step, "
            f"Fréchet distance {last['frechet_distance']:.2f} after {last['train_seconds']:.0f} s"
        )
    stem = Path(args.results)
    write_result(stem.with_suffix(".json"), {"presets": results}, block)
    figure, ax = plt.subplots(figsize=(6, 3.5))
    for preset, result in results.items():
        evals = result["evaluations"]
        ax.plot(
            [e["train_seconds"] / 60 for e in evals],
            [e["frechet_distance"] for e in evals],
            "o-",
            label=f"{preset} ({result['parameters'] / 1e6:.1f}M, {result['seconds_per_step']:.2f} s/step)",
        )
    ax.set(
        xlabel="training minutes (2 CPU cores)",
        ylabel="Fréchet distance to held-out golden",
        yscale="log",
        title="learning the toy world per CPU second",
    )
    ax.legend(fontsize=8)
    stamp(figure, block)
    figure.savefig(stem.with_suffix(".png"), dpi=110, bbox_inches="tight")
    print(json.dumps({p: r["evaluations"][-1] for p, r in results.items()}, indent=1))


if __name__ == "__main__":
    main()
