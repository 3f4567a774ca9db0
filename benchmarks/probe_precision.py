"""Does precision's verdict depend on k or on the reference size? A probe behind a declaration.

    python benchmarks/probe_precision.py --size 32 --out results/full/sanity/precision_probe.json

Precision (Kynkäänniemi et al., 2019) of a few sanity inputs on the judge's features, with
k = 1, 2, 3, 5 neighbours and a reference of 128 (as the table uses) or 1,024 golden renders,
beside four independent golden draws. At 32x32 the background alone reads inside the golden
manifold for every setting, which is why ``quality/sanity.py`` declares precision blind to it
there. A script, not a test: it takes about a minute at 32 px.
"""

from __future__ import annotations

import argparse

import numpy as np

from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.distances import precision_recall
from tqd_lite.quality.judge import judge_features
from tqd_lite.quality.sanity import golden_specs, render_specs, sanity_inputs
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.quality.undertrained import load_undertrained_samples

INPUTS = (
    "golden renders",
    "background alone",
    "undertrained samples",
    "muddy fields",
    "blur 1.0",
    "contrast x1.5",
    "static scenes",
    "shuffled frames",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=128)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    suite = MetricSuite.load(args.size, args.frames)
    inputs = sanity_inputs(
        size=args.size, num_frames=args.frames, clips=args.clips, seed=0,
        undertrained=load_undertrained_samples(args.size),
    )  # fmt: skip
    features = {name: judge_features(inputs[name][1], suite.judge) for name in INPUTS}
    shape = {"size": args.size, "num_frames": args.frames}
    draws = [
        judge_features(render_specs(golden_specs(args.clips, **shape, seed=2000 + k)), suite.judge)
        for k in range(4)
    ]
    rows = []
    for references in (args.clips, len(suite.reference)):
        for k in (1, 2, 3, 5):
            reference = suite.reference[:references]
            row = {"references": references, "k": k}
            row["golden draws"] = [precision_recall(d, reference, k=k)["precision"] for d in draws]
            row.update(
                {name: precision_recall(f, reference, k=k)["precision"] for name, f in features.items()}
            )
            rows.append(row)
            print(f"refs {references:5d} k {k}: golden draws {np.round(row['golden draws'], 3)}  "
                  + "  ".join(f"{n} {row[n]:.3f}" for n in INPUTS))  # fmt: skip
    if args.out:
        write_result(args.out, {"size": args.size, "clips": args.clips, "rows": rows},
                     provenance("full" if args.size >= 32 else "quick", seed=0, device="cpu"))  # fmt: skip


if __name__ == "__main__":
    main()
