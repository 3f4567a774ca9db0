"""The golden-recipe probes' files as one markdown table (for notes and the README).

    python benchmarks/probe_table.py results/benchmarks/golden_recipe_16*.json

One row per target (golden renders, blurred) of each world, then one per arm and evaluated step,
with the columns the targets of "Models that generate the toy world" name. Every number is
read from the files that ``benchmarks/probe_golden_recipe.py`` wrote; the commit that made each
file is listed under the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COLUMNS = ("judge_world", "judge_visual", "flicker", "dynamic_degree", "sprite_share", "precision", "fd")


def cells(row: dict) -> str:
    return " | ".join(f"{row[c]:.3g}" if c in row else "" for c in COLUMNS)


def table(files: list[str]) -> str:
    lines = [
        "| arm | world | step | train s | " + " | ".join(COLUMNS) + " |",
        "|---" * (4 + len(COLUMNS)) + "|",
    ]
    targets, arms, made = {}, [], []
    for path in files:
        data = json.loads(Path(path).read_text())
        for world, rows in data["targets"].items():
            targets.setdefault(world, rows)
        run = f"{data['provenance']['steps']}-step run"  # the cosine decay ends there
        for name, rows in data["arms"].items():
            world = data["recipes"][name].get("world", "classic")
            arms += [(f"{name} ({run})", world, row) for row in rows]
        made.append(f"{path}: {data['provenance']['git_commit']}")
    for world, rows in targets.items():
        lines += [f"| {name} | {world} | | | {cells(row)} |" for name, row in rows.items()]
    for name, world, row in arms:
        lines.append(f"| {name} | {world} | {row['step']} | {row['train_seconds']:.0f} | {cells(row)} |")
    return "\n".join(lines + ["", "made by: " + "; ".join(made)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+")
    print(table(parser.parse_args().files))


if __name__ == "__main__":
    main()
