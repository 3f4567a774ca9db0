"""Compute, save and print the metric sanity table of a profile (``python -m tqd_lite reproduce sanity``).

The table goes to ``results/{profile}/sanity/sanity.json`` (values, golden intervals, each metric's
verdict, provenance) and ``sanity.md``. Experiment summaries and notebooks 01, 04 and 05 show it
as reference rows beside the numbers of generated clips, so a reader sees what each metric gives
for golden clips, noise, flicker, cuts and the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tqd_lite.files import load_json
from tqd_lite.paths import results_dir
from tqd_lite.profiles import Profile
from tqd_lite.quality.encoder import load_encoder
from tqd_lite.quality.metrics import clip_features, dynamic_degree, frechet_distance
from tqd_lite.quality.sanity import (
    SanityTable,
    build_table,
    declarations,
    verdicts,
)
from tqd_lite.quality.scores import visual_score
from tqd_lite.quality.suite import MetricSuite, golden_reference
from tqd_lite.quality.undertrained import load_undertrained_samples

TABLE_CLIPS = 128  # clips per input, as in the issue that measured the old metrics


def legacy_measure(size: int, reference: torch.Tensor):
    """The old metrics (dynamic degree of the normal-flow score, raw visual score, the old encoder's FD)."""
    encoder = load_encoder(size)
    reference_features = clip_features(reference, encoder)

    def measure(clips: torch.Tensor) -> dict[str, float]:
        return {
            "old_dynamic_degree": dynamic_degree(clips),
            "old_vq_raw": float(visual_score(clips).mean()),
            "old_fd": frechet_distance(clip_features(clips, encoder), reference_features),
        }

    return measure


def sanity_table(
    profile: Profile,
    *,
    set_c: torch.Tensor | None = None,
    generated: dict[str, torch.Tensor] | None = None,
    clips: int = TABLE_CLIPS,
    seed: int = 0,
    progress: bool = True,
) -> SanityTable:
    """The full table at the profile's frame size: the suite's metrics and the legacy ones.

    ``generated``: sets of generated clips (``name -> (B, 3, F, H, W)``) measured beside the inputs,
    in the family "generated", which no declaration has a rule for: they are what the table is for.
    """
    size, frames = profile.frame_size, profile.num_frames
    reference = golden_reference(size=size, num_frames=frames)  # rendered once, for both kinds of metric
    suite = MetricSuite.with_reference(reference)
    legacy = legacy_measure(size, reference)
    measure = lambda batch: {**suite.measure(batch), **legacy(batch)}  # noqa: E731
    table = build_table(
        measure,
        size=size,
        num_frames=frames,
        clips=clips,
        seed=seed,
        set_c=set_c,
        undertrained=load_undertrained_samples(size),
        progress=progress,
    )
    for name, batch in (generated or {}).items():
        table.values[name], table.families[name] = measure(batch), "generated"
    return table


def table_markdown(table: SanityTable, *, metrics: list[str] | None = None) -> str:
    """Rows = inputs, columns = metrics; a cell the metric's declaration flags is marked ``!``,
    a cell it is declared blind to ``~``."""
    decl = declarations(table.families, size=table.settings["size"])
    metrics = metrics or list(table.golden)
    fooled = verdicts(table, include_legacy=True)
    flagged = {m: {f.split(":")[0] for f in fooled.get(m, [])} for m in metrics}
    lines = ["| input | " + " | ".join(metrics) + " |", "|---|" + "---|" * len(metrics)]
    lines.append(
        "| golden interval | "
        + " | ".join(f"{table.golden[m][1]:.3g}..{table.golden[m][2]:.3g}" for m in metrics)
        + " |"
    )
    for name, row in table.values.items():
        cells = []
        for m in metrics:
            mark = "!" if name in flagged[m] else ("~" if name in decl[m].blind else "")
            cells.append(f"{row[m]:.3g}{mark}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    legacy = [m for m in metrics if decl[m].legacy]
    lines.append("")
    lines.append(
        "`!` the metric was fooled by this input (see the verdicts); `~` the metric is declared blind to it. "
        f"Legacy columns ({', '.join(legacy)}) are the metrics of the committed TQD and MCM tables, shown to "
        "document what fools them."
    )
    return "\n".join(lines)


def save_table(table: SanityTable, provenance_block: dict, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "provenance": provenance_block,
        "settings": table.settings,
        "families": table.families,
        "golden": table.golden,
        "values": table.values,
        "verdicts": verdicts(table, include_legacy=True),
    }
    (out / "sanity.json").write_text(json.dumps(record, indent=2) + "\n")
    (out / "sanity.md").write_text(table_markdown(table) + "\n")
    return out / "sanity.json"


def load_table(path: Path) -> SanityTable:
    record = load_json(Path(path), "sanity table")
    golden = {m: tuple(v) for m, v in record["golden"].items()}
    return SanityTable(record["values"], record["families"], golden, record["settings"])


def sanity_dir(profile_name: str) -> Path:
    return results_dir() / profile_name / "sanity"


REFERENCE_INPUTS = (
    "golden renders",
    "real Set-C",
    "blur 1.0",
    "noise sigma 0.15",
    "uniform noise",
    "speckled colour fields",
    "static + flicker",
    "hard cuts",
    "undertrained samples",
)
LEGACY_COLUMNS = ("old_dynamic_degree", "old_vq_raw", "old_fd")
SUITE_COLUMNS = ("judge_visual", "judge_motion", "judge_world", "dynamic_degree", "flicker", "fd")


def table_for_size(size: int) -> Path | None:
    """The committed sanity table measured at ``size`` x ``size`` (any profile), if there is one."""
    for path in sorted(results_dir().glob("*/sanity/sanity.json")):
        if load_json(path, "sanity table")["settings"]["size"] == size:
            return path
    return None


def write_old_metrics_summary(out_dir: str | Path, table: str, size: int) -> Path:
    """``out_dir/summary.md``: an experiment's Markdown ``table``, then :func:`old_metrics_note` for
    clips of ``size`` x ``size``."""
    path = Path(out_dir) / "summary.md"
    path.write_text(table + old_metrics_note(size) + "\n")
    return path


def old_metrics_note(size: int) -> str:
    """The paragraph and reference rows that label a table made with the legacy metrics."""
    lines = [
        "",
        "**Made with the old metrics.** Dynamic degree (normal-flow score), mq, vq (percentile scores) and "
        "the Fréchet distance on the old encoder's features are fooled by noise, flicker and speckle: the "
        "metric sanity table below gives what each of them (raw vq) and each metric of the new suite reads "
        "for golden clips, for clips a person would reject, and for samples of the committed golden models "
        "(here every distance is to 1,024 fresh golden renders, not to the held-out clips above). These "
        "runs' samples were not kept, so they cannot be measured again; the issues that rerun TQD and MCM "
        "replace this table.",
        "",
    ]
    path = table_for_size(size)
    if path is None:
        return "\n".join(
            [*lines, f"(no sanity table at {size}x{size} yet: `python -m tqd_lite reproduce sanity`)"]
        )
    table = load_table(path)
    columns = (*LEGACY_COLUMNS, *SUITE_COLUMNS)
    lines += ["| reference input | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    generated = [name for name, family in table.families.items() if family == "generated"]
    for name in (*REFERENCE_INPUTS, *generated):
        if name in table.values:
            lines.append(f"| {name} | " + " | ".join(f"{table.values[name][m]:.3g}" for m in columns) + " |")
    lines.append(f"\n(from `{path.relative_to(results_dir().parent)}`)")
    return "\n".join(lines)
