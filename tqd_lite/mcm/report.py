"""MCM's experiments, reported: summary statistics, tables and figures (docs/papers.md section 2).

:func:`summarise` turns the runs that :mod:`tqd_lite.mcm.experiments` wrote (``{row: {seed:
{steps: metrics}}}``) into means with 95% CIs over seeds and seed-paired comparisons; the
tables and figures read only that summary, so they can be redrawn from the committed
``summary.json`` without running anything.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from tqd_lite.profiles import Profile
from tqd_lite.runs import load_result
from tqd_lite.stats import comparisons_table, finite_or_none, mean_cell, mean_ci, paired_difference

SUMMARY_FILE = "summary.json"
GUIDANCE_FILE = "guidance.json"

# metric -> -1 if lower is better, 0 if neither (compare with the teacher's and the real clips' rows)
METRICS = {
    "frechet_distance": -1,
    "frame_frechet_distance": -1,
    "vq": 0,
    "mq": 0,
    "dynamic_degree": 0,
    "seconds_per_clip": -1,
}


QUALITY_METRICS = tuple(m for m in METRICS if m != "seconds_per_clip")


METRIC_LABELS = {
    "frechet_distance": "FD to held-out golden",
    "frame_frechet_distance": "frame FD to images",
    "vq": "visual score vq",
    "mq": "motion score mq",
    "dynamic_degree": "dynamic degree",
    "seconds_per_clip": "seconds per clip",
}


# (name, treated row, reference row): the seed-paired comparisons the summary makes at each step count
COMPARISONS = (
    ("MCM vs LCM", "mcm", "lcm"),
    ("MCM vs the teacher's DDIM 50", "mcm", "teacher_ddim50"),
    ("LCM vs the teacher's DDIM 50", "lcm", "teacher_ddim50"),
)


# The paper's numbers (docs/papers.md section 2). Their scale is not ours; compare directions.
PAPER = {
    "fvd_modelscope": {"mcm": (526, 450, 456), "lcm": (854, 658, 603)},  # 1 / 2 / 4 steps
    "fvd_animatediff": {"mcm": (1025, 948, 827), "lcm": (1242, 978, 1006)},
    "frame_fid_laion": {"mcm": (82, 69, 73, 76), "two_stage": (110, 119, 115, 122)},  # 1 / 2 / 4 / 8
}


def summarise(runs: dict[str, dict[int, dict]], settings: dict) -> dict:
    """Per row and step count: each metric's mean and 95% CI over seeds, and the seed-paired
    comparisons of :data:`COMPARISONS`; ``settings`` (what the runs were made with) is kept as is."""
    rows = {}
    for name, by_seed in runs.items():
        seeds = sorted(by_seed)
        rows[name] = {}
        for steps in by_seed[seeds[0]]:
            cell = {"seeds": seeds}
            for metric in METRICS:
                mean, half = mean_ci([by_seed[s][steps][metric] for s in seeds])
                cell[metric] = {"mean": float(mean), "ci95": finite_or_none(half)}
            rows[name][steps] = cell
    comparisons = [
        entry
        for name, treated, reference in COMPARISONS
        if treated in runs and reference in runs
        for entry in _paired_differences(name, runs[treated], runs[reference])
    ]
    return {
        "settings": settings,
        "rows": rows,
        "comparisons": comparisons,
        "paper": PAPER,
    }


def _cell_at(by_steps: dict, steps: str) -> dict:
    """A row's metrics at ``steps``; a row with one step count (the teacher's DDIM) gives its only one."""
    return next(iter(by_steps.values())) if len(by_steps) == 1 else by_steps[steps]


def _paired_differences(name: str, treated: dict[int, dict], reference: dict[int, dict]) -> list[dict]:
    """``treated - reference`` at each of the treated row's step counts, paired by seed, per metric:
    mean, 95% CI and verdict. A reference with one step count (the teacher's DDIM) is used at every one."""
    seeds = sorted(set(treated) & set(reference))
    entries = []
    for steps in sorted(next(iter(treated.values())), key=int):
        pairs = [(treated[s][steps], _cell_at(reference[s], steps)) for s in seeds]
        entry = {"name": f"{name}, {steps} step(s)", "seeds": seeds}
        for metric, sign in METRICS.items():
            entry[metric] = paired_difference([t[metric] - r[metric] for t, r in pairs], sign)
        entries.append(entry)
    return entries


def markdown_table(summary: dict) -> str:
    """The settings; one line per row and step count (FD, frame FD, vq, mq, dynamic degree, ms
    per clip, mean ± 95% CI over seeds); the real clips; then the seed-paired comparisons."""
    s = summary["settings"]
    lines = [
        f"Students: {s['distill_steps']} distillation steps of batch {s['batch_size']}, guidance w ~ "
        f"U{list(s['guidance'])}, {s['images']} high-quality images; {s['eval_clips']} samples per "
        f"sampler and step count; seeds {s['seeds']} (other arms {s['variant_seeds']}).",
        "",
        "| sampler | steps | FD to held-out golden | frame FD to images | vq | mq | dynamic degree "
        "| ms/clip | speed-up over DDIM 50 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    ddim50 = next(iter(summary["rows"].get("teacher_ddim50", {}).values()), None)
    for name, by_steps in summary["rows"].items():
        for steps, cell in by_steps.items():
            seconds = cell["seconds_per_clip"]["mean"]
            speed_up = f"{ddim50['seconds_per_clip']['mean'] / seconds:.0f}x" if ddim50 else ""
            lines.append(
                f"| {name} (n={len(cell['seeds'])}) | {steps} | "
                + " | ".join(mean_cell(cell[m], 2) for m in QUALITY_METRICS)
                + f" | {seconds * 1000:.1f} | {speed_up} |"
            )
    for name, real in summary.get("reference", {}).items():
        cells = [f"{real[m]:.2f}" if m in real else "(itself)" for m in QUALITY_METRICS]
        lines.append(f"| real clips: {name} | | " + " | ".join(cells) + " | | |")
    # wall time is left out of the differences: on a shared CPU they say little (its ratio is above)
    lines += comparisons_table(summary["comparisons"], {m: METRIC_LABELS[m] for m in QUALITY_METRICS}, 2)
    return "\n".join(lines) + "\n"


def guidance_table(by_w: dict) -> str:
    """The teacher's samples at each guidance weight w (``by_w`` of ``guidance.json``)."""
    lines = [
        "| w | FD to held-out golden | frame FD to images | vq | mq | dynamic degree |",
        "|---|---|---|---|---|---|",
    ]
    for w, m in by_w.items():
        lines.append(
            f"| {w} | {m['frechet_distance']:.2f} | {m['frame_frechet_distance']:.2f} | "
            f"{m['vq']:.2f} | {m['mq']:.2f} | {m['dynamic_degree']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def results_figure(summary: dict, metrics=("frechet_distance", "frame_frechet_distance", "vq", "mq")):
    """Each metric against sampling steps: one line per distilled arm (LCM grey, MCM red, the
    rest thin), the teacher's DDIM at 50 and 4 steps as black lines, real clips dashed."""
    rows = summary["rows"]
    step_counts = sorted(
        {int(k) for name, by_steps in rows.items() if not name.startswith("teacher") for k in by_steps}
    )
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.4 * len(metrics), 3.2))
    for ax, metric in zip(axes, metrics, strict=True):
        for name, by_steps in rows.items():
            if name.startswith("teacher"):
                continue
            steps = sorted(by_steps, key=int)
            means = [by_steps[k][metric]["mean"] for k in steps]
            errors = [by_steps[k][metric]["ci95"] or 0.0 for k in steps]
            style = {"lcm": ("0.45", 2.0), "mcm": ("C3", 2.0)}.get(name, (None, 0.8))
            ax.errorbar(
                [int(k) for k in steps],
                means,
                yerr=errors,
                marker="o",
                ms=3,
                capsize=2,
                color=style[0],
                lw=style[1],
                label=name,
            )
        for name, ls in (("teacher_ddim50", "-"), ("teacher_ddim4", ":")):
            if name in rows:
                (cell,) = rows[name].values()
                ax.axhline(cell[metric]["mean"], color="k", ls=ls, lw=1, label=name.replace("_", " "))
        for name, colour in (("heldout_golden", "goldenrod"), ("teacher_clips", "C0")):
            value = summary.get("reference", {}).get(name, {}).get(metric)
            if value is not None:
                ax.axhline(value, color=colour, ls="--", lw=1, label=name.replace("_", " ") + " (real)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(step_counts, [str(k) for k in step_counts])
        arrow = " (lower is better)" if METRICS[metric] < 0 else ""
        ax.set(xlabel="sampling steps", title=METRIC_LABELS[metric] + arrow)
    axes[0].legend(fontsize=6)
    figure.tight_layout()
    return figure


def load_guidance(profile: Profile | str) -> dict | None:
    """The guidance sweep a profile's ``reproduce mcm`` wrote, or None."""
    return load_result(profile, "mcm", GUIDANCE_FILE)


def load_summary(profile: Profile | str, out_dir: str | Path | None = None) -> dict | None:
    """The summary a profile's ``reproduce mcm`` wrote, or None."""
    return load_result(profile, "mcm", SUMMARY_FILE, out_dir)
