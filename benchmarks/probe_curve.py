"""Quality against clips drawn, for every golden-recipe probe on the CPU and the GPU.

    python benchmarks/probe_curve.py results/benchmarks/golden_recipe_16_*.json \
        results/benchmarks/gpu_probe/probe_*.json --out results/benchmarks/probe_curve.png

"Measure the curve (quality vs steps) instead of guessing" ("Models that generate the toy
world"): one line per probe arm, its evaluations placed at the clips it had drawn (steps times
batch), in the columns that agree with the pictures (coherent-motion dynamic degree and the
flicker index), with each world and size's golden renders as dashed lines. FD, judge_world and
precision are left out: they rate sprite-less mud near golden (README). Reads the files that
``probe_golden_recipe.py`` and ``gpu_probe.py`` wrote; nothing is recomputed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tqd_lite.profiles import get_profile  # noqa: E402

COLUMNS = {"dynamic_degree": "coherent-motion dynamic degree", "flicker": "flicker index"}


def curves(path: Path) -> tuple[list[dict], dict[str, dict]]:
    """``([{label, points: [(clips, row)]}], {target label: golden row})`` of one probe file."""
    data = json.loads(path.read_text())
    device = "GPU" if data["provenance"]["device"].startswith("cuda") else "CPU"
    size = data["size"]
    if "evaluations" in data:  # gpu_probe.py: one arm
        config = data["train_config"]
        world = data["provenance"].get("world", "classic")
        label = f"{config['preset']}, {world}, batch {config['batch_size']}, {size} px ({device})"
        points = [(row["step"] * config["batch_size"], row) for row in data["evaluations"]]
        return [{"label": label, "points": points}], {
            f"golden {world} {size} px": data["targets"]["golden renders"]
        }
    batch = get_profile("quick" if size == 16 else "full").train_batch_size  # probe_golden_recipe.py
    lines = []
    for name, rows in data["arms"].items():
        batch_size = data["recipes"][name].get("batch_size", batch)
        label = f"{name}, {data['provenance']['steps']} steps, {size} px ({device})"
        lines.append({"label": label, "points": [(row["step"] * batch_size, row) for row in rows]})
    golden = {f"golden {world} {size} px": rows["golden renders"] for world, rows in data["targets"].items()}
    return lines, golden


def figure(files: list[Path]):
    fig, axes = plt.subplots(1, len(COLUMNS), figsize=(13, 4.6))
    targets = {}
    for path in files:
        lines, golden = curves(path)
        targets.update(golden)
        for line in lines:
            for ax, column in zip(axes, COLUMNS, strict=True):
                x = [clips for clips, _ in line["points"]]
                y = [row[column] for _, row in line["points"]]
                ax.plot(x, y, "o-", lw=1.2, ms=3, label=line["label"])
    for ax, (column, title) in zip(axes, COLUMNS.items(), strict=True):
        for i, (name, row) in enumerate(sorted(targets.items())):
            ax.axhline(row[column], color=str(0.2 + 0.2 * i), ls="--", lw=1, label=name)
        ax.set(xscale="log", xlabel="clips drawn (steps x batch)", title=title)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=6.5, loc="upper left")
    fig.tight_layout()
    return fig


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    fig = figure(args.files)
    fig.savefig(args.out, dpi=110)
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
