"""TQD's experiments, reported: summary statistics, the paper's questions, tables and figures
(docs/papers.md section 1, "The experiments").

:func:`summarise` turns the runs that :mod:`tqd_lite.tqd.experiments` wrote (``{arm: {seed:
final metrics}}``) into means with 95% CIs over seeds and the seed-paired comparisons of
:data:`COMPARISONS`; :func:`answers`, the tables and the figures read only that summary, so they
can be redrawn from the committed ``summary.json`` without running anything.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from tqd_lite.profiles import Profile
from tqd_lite.runs import load_result
from tqd_lite.stats import (
    comparisons_table,
    control_false_discoveries,
    difference_cell,
    finite_or_none,
    mean_cell,
    mean_ci,
    paired_difference,
)

SUMMARY_FILE = "summary.json"


# The sanity-tested suite's measures of a run's samples (quality.suite; their rows beside golden
# renders' in the summary's ``reference``), then the fixed-bucket validation loss where the profile
# scores it. metric -> +1 if higher is better, -1 if lower is better, 0 if neither: coherent motion
# is better only up to golden renders' level, so read its verdicts "higher"/"lower" beside that row
METRICS = {
    "fd": -1,
    "kid": -1,
    "precision": 1,
    "recall": 1,
    "judge_visual": 1,
    "judge_motion": 1,
    "dynamic_degree": 0,
    "flicker": -1,
    "sprite_share": 1,
    "fixed_bucket_loss": -1,
}


METRIC_LABELS = {
    "fd": "FD",
    "kid": "KID",
    "precision": "precision",
    "recall": "recall",
    "judge_visual": "judge: visual",
    "judge_motion": "judge: motion",
    "dynamic_degree": "dynamic degree",
    "flicker": "flicker",
    "sprite_share": "sprites found",
    "fixed_bucket_loss": "fixed-bucket loss",
}


FIGURE_METRICS = ("fd", "judge_visual", "judge_motion", "dynamic_degree", "flicker", "fixed_bucket_loss")


# the paper's columns (docs/papers.md section 1) and the suite's measures that stand for them
PAPER_COLUMNS = {"dynamic_degree": "Dynamic Degree", "judge_motion": "MQ", "judge_visual": "VQ"}


SPLIT_LABELS = {"set_a": "Set-A (all)", "set_b": "Set-B (no golden)", "set_c": "Set-C (golden only)"}


# (name, treated arm, reference arm): the comparisons the summary makes
COMPARISONS = (
    ("TQD vs baseline, Set-A", "set_a/tqd", "set_a/baseline"),
    ("TQD vs baseline, Set-B", "set_b/tqd", "set_b/baseline"),
    ("TQD vs baseline, Set-C", "set_c/tqd", "set_c/baseline"),
    ("TQD on Set-B vs baseline on Set-A", "set_b/tqd", "set_a/baseline"),
    ("TQD on Set-B vs baseline on Set-C", "set_b/tqd", "set_c/baseline"),
    ("adaptive timestep only vs baseline, Set-A", "set_a/adaptive_only", "set_a/baseline"),
    ("quality dropout only vs baseline, Set-A", "set_a/dropout_only", "set_a/baseline"),
    ("both vs adaptive timestep only, Set-A", "set_a/tqd", "set_a/adaptive_only"),
    ("both vs quality dropout only, Set-A", "set_a/tqd", "set_a/dropout_only"),
    ("kappa_max 4 vs 8, Set-A", "set_a/kappa_max=4", "set_a/tqd"),
    ("kappa_max 16 vs 8, Set-A", "set_a/kappa_max=16", "set_a/tqd"),
    ("logit-normal vs uniform baseline, Set-A", "set_a/logit_normal", "set_a/baseline"),
    ("reading B vs its logit-normal base, Set-A", "set_a/tqd_B", "set_a/logit_normal"),
    ("reading B vs reading A (no dropout), Set-A", "set_a/tqd_B", "set_a/adaptive_only"),
    ("hard gate vs baseline, Set-A", "set_a/hard_gate", "set_a/baseline"),
    ("TQD's Beta vs hard gate (no dropout), Set-A", "set_a/adaptive_only", "set_a/hard_gate"),
    ("TQD's timesteps shuffled vs TQD, Set-A", "set_a/tqd_shuffled", "set_a/tqd"),
    ("SANA-Video's logit offset vs baseline, Set-A", "set_a/sana_offset", "set_a/baseline"),
    ("SANA-Video's logit offset vs its logit-normal base, Set-A", "set_a/sana_offset", "set_a/logit_normal"),
    ("TQD vs SANA-Video's logit offset, Set-A", "set_a/tqd", "set_a/sana_offset"),
    ("Min-SNR-5 weights vs baseline, Set-A", "set_a/min_snr5", "set_a/baseline"),
    ("TQD vs Min-SNR-5 weights, Set-A", "set_a/tqd", "set_a/min_snr5"),
)


# The questions of the issue and of the paper, each answered by some comparisons
QUESTIONS = (
    (
        "Does TQD beat the baseline on each set?",
        ("TQD vs baseline, Set-A", "TQD vs baseline, Set-B", "TQD vs baseline, Set-C"),
    ),
    (
        "Does TQD on Set-B (no golden clips) beat the baseline on Set-A? On Set-C?",
        ("TQD on Set-B vs baseline on Set-A", "TQD on Set-B vs baseline on Set-C"),
    ),
    (
        "Does the ablation order as in the paper (each part helps, both help most)?",
        (
            "adaptive timestep only vs baseline, Set-A",
            "quality dropout only vs baseline, Set-A",
            "both vs adaptive timestep only, Set-A",
            "both vs quality dropout only, Set-A",
        ),
    ),
    (
        "Is it the per-clip assignment? Does the marginal-matched shuffle fall short of TQD?",
        ("TQD's timesteps shuffled vs TQD, Set-A",),
    ),
    (
        "Do simpler published alternatives do as well (SANA-Video's offset, Min-SNR-5 weights)?",
        (
            "SANA-Video's logit offset vs baseline, Set-A",
            "SANA-Video's logit offset vs its logit-normal base, Set-A",
            "TQD vs SANA-Video's logit offset, Set-A",
            "Min-SNR-5 weights vs baseline, Set-A",
            "TQD vs Min-SNR-5 weights, Set-A",
        ),
    ),
    ("Does kappa_max matter?", ("kappa_max 4 vs 8, Set-A", "kappa_max 16 vs 8, Set-A")),
    (
        "Is any non-uniform sampler enough? Reading B, and a blunter sampler: do they differ?",
        (
            "logit-normal vs uniform baseline, Set-A",
            "reading B vs its logit-normal base, Set-A",
            "reading B vs reading A (no dropout), Set-A",
            "hard gate vs baseline, Set-A",
            "TQD's Beta vs hard gate (no dropout), Set-A",
        ),
    ),
)


# The paper's numbers (docs/papers.md section 1, Wan-T2V 1.3B): VBench dynamic degree, MQ and VQ from a
# video reward model. Their scale is not ours; compare directions, not values.
PAPER_MAIN = {
    "set_a": {"baseline": (0.5312, 2.1388, 3.2537), "tqd": (0.6384, 2.2557, 3.3450)},
    "set_b": {"baseline": (0.5224, 2.0905, 3.2338), "tqd": (0.5447, 2.1477, 3.2679)},
    "set_c": {"baseline": (0.5268, 2.1917, 3.3378), "tqd": (0.6473, 2.2200, 3.3743)},
}


PAPER_ABLATION = {  # Set-A, (MQ, VQ)
    "baseline": (2.1388, 3.2537),
    "adaptive_only": (2.2193, 3.3044),
    "dropout_only": (2.1909, 3.2921),
    "tqd": (2.2557, 3.3450),
}


def summarise(
    runs: dict[str, dict[int, dict]], settings: dict, policies: dict, spectrum_matched: dict | None = None
) -> dict:
    """Per arm: each metric's mean and 95% CI over seeds; per comparison of :data:`COMPARISONS`:
    the seed-paired differences, their verdicts controlled for false discoveries over the whole
    table (Benjamini-Hochberg), the spectrum-matched control's differences
    (``spectrum_matched``, :func:`~tqd_lite.tqd.experiments.spectrum_control`) among them.
    ``metrics``: those of :data:`METRICS` that every run has. ``settings`` and ``policies`` (each
    arm's timestep policy) are what the runs were made with, kept as they are."""
    metrics = [m for m in METRICS if all(m in r for by_seed in runs.values() for r in by_seed.values())]
    arms = {}
    for key, by_seed in runs.items():
        seeds = sorted(by_seed)
        arms[key] = {"seeds": seeds}
        for metric in metrics:
            values = [by_seed[s][metric] for s in seeds]
            mean, half = mean_ci(values)
            arms[key][metric] = {"mean": float(mean), "ci95": finite_or_none(half), "values": values}
    comparisons = []
    for name, treated, reference in COMPARISONS:
        if treated not in runs or reference not in runs:
            continue
        seeds = sorted(set(runs[treated]) & set(runs[reference]))
        entry = {"name": name, "treated": treated, "reference": reference, "seeds": seeds}
        for metric in metrics:
            differences = [runs[treated][s][metric] - runs[reference][s][metric] for s in seeds]
            entry[metric] = paired_difference(differences, METRICS[metric])
        comparisons.append(entry)
    spectrum_matched = spectrum_matched or {}
    family = [(c[m], METRICS[m]) for c in comparisons for m in metrics]
    family += [(split[f"{d}_difference"], -1) for split in spectrum_matched.values() for d in ("fd", "kid")]
    control_false_discoveries(family)
    total = sum(r["train_seconds"] for by_seed in runs.values() for r in by_seed.values())
    return {
        "settings": settings,
        "policies": policies,
        "metrics": metrics,
        "arms": arms,
        "comparisons": comparisons,
        "spectrum_matched": spectrum_matched,
        "multiple_comparisons": "Benjamini-Hochberg over every comparison and metric, q < 0.05",
        "train_seconds_all_runs": round(total, 1),
        "paper": {"main": PAPER_MAIN, "ablation_set_a": PAPER_ABLATION},
    }


def answers(summary: dict) -> list[str]:
    """Each of :data:`QUESTIONS` with the verdicts of its comparisons, as lines of text."""
    found = {c["name"]: c for c in summary["comparisons"]}
    lines = []
    for question, names in QUESTIONS:
        lines.append(question)
        for name in names:
            if name not in found:
                lines.append(f"  {name}: not run yet")
                continue
            verdicts = ", ".join(
                f"{METRIC_LABELS[m]} {found[name][m]['verdict']}" for m in summary["metrics"]
            )
            lines.append(f"  {name}: {verdicts}")
    lines.append(SPECTRUM_QUESTION)
    for split, label in SPLIT_LABELS.items():
        matched = summary.get("spectrum_matched", {}).get(split)
        cells = "not run yet"
        if matched:
            fd, kid = difference_cell(matched["fd_difference"]), difference_cell(matched["kid_difference"])
            cells = f"FD {fd}, KID {kid}"
        lines.append(f"  TQD vs baseline, spectrum-matched, {label.split(' ')[0]}: {cells}")
    return lines


SPECTRUM_QUESTION = (
    "Is a difference between TQD and the baseline only the samples' spectrum? Both arms' samples "
    "cut down to one high-frequency energy and contrast (TQD minus baseline):"
)


def load_summary(profile: Profile | str, out_dir: str | Path | None = None) -> dict | None:
    """The summary a profile's ``reproduce tqd`` wrote, or None if it has not run."""
    return load_result(profile, "tqd", SUMMARY_FILE, out_dir)


def paper_side_by_side(summary: dict) -> str:
    """TQD minus baseline per set: the paper's difference next to ours on the suite's measure that
    stands for each of its columns (mean ± 95% CI, verdict)."""
    lines = [
        "| set | paper's column (ours) | paper: TQD - baseline | ours: TQD - baseline |",
        "|---|---|---|---|",
    ]
    ours = {c["name"]: c for c in summary["comparisons"]}
    for split, label in SPLIT_LABELS.items():
        paper = PAPER_MAIN[split]
        comparison = ours.get(f"TQD vs baseline, {label.split(' ')[0]}")
        for i, (metric, column) in enumerate(PAPER_COLUMNS.items()):
            cell = "not run yet"
            if comparison is not None and metric in comparison:
                cell = difference_cell(comparison[metric])
            paper_difference = paper["tqd"][i] - paper["baseline"][i]
            lines.append(
                f"| {label} | {column} ({METRIC_LABELS[metric]}) | {paper_difference:+.4f} | {cell} |"
            )
    return "\n".join(lines) + "\n"


def markdown_table(summary: dict) -> str:
    """The arms' means ± 95% CI beside real clips' rows, then the comparisons' paired differences
    with verdicts."""
    s, metrics = summary["settings"], summary["metrics"]
    lines = [
        f"Runs: the {s['preset']} model pretrained {s['base_steps']} steps on single frames of Set-A, "
        f"then fine-tuned {s['steps']} steps of {s['batch_size']} clips "
        f"({s['frame_size']}x{s['frame_size']}x{s['num_frames']}, a pool of {s['pool_size']}), seeds "
        f"{s['seeds']} (controls and variants: {s['variant_seeds']}); {s['eval_clips']} samples per run "
        f"({s['sample_steps']} DDIM steps), measured by the metric suite. Mean ± 95% CI over seeds.",
        "",
        "| arm | " + " | ".join(METRIC_LABELS[m] for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for key, arm in summary["arms"].items():
        lines.append(f"| {key} | " + " | ".join(mean_cell(arm[m]) for m in metrics) + " |")
    for key, real in summary.get("reference", {}).items():
        cells = [f"{real[m]:.3f}" if m in real else "" for m in metrics]
        lines.append(f"| real clips: {key} | " + " | ".join(cells) + " |")
    lines += comparisons_table(summary["comparisons"], {m: METRIC_LABELS[m] for m in metrics})
    lines += spectrum_table(summary.get("spectrum_matched", {}))
    lines += draw_shares_table(summary.get("draw_shares", {}))
    return "\n".join(lines) + "\n"


def draw_shares_table(draw_shares: dict) -> list[str]:
    """Markdown lines: per arm, where its loss weight goes on its split
    (:func:`~tqd_lite.tqd.experiments.draw_shares`)."""
    if not draw_shares:
        return []
    lines = [
        "",
        "Where each arm's training signal goes on its split: of the loss weight drawn in the cleaner "
        "half of the schedule, the share on sharp clips (vq >= 0.5); of that in the noisier half, the "
        "share on moving clips (mq >= 0.5).",
        "",
        "| arm | cleaner half on sharp clips | noisier half on moving clips |",
        "|---|---|---|",
    ]
    for key, shares in draw_shares.items():
        clean, noisy = shares["clean_half_on_sharp"], shares["noisy_half_on_moving"]
        lines.append(f"| {key} | {clean:.2f} | {noisy:.2f} |")
    return lines


def spectrum_table(spectrum_matched: dict) -> list[str]:
    """Markdown lines of the spectrum-matched control: per split, TQD minus baseline in FD and KID
    with both arms' samples cut down to one spectrum, how many samples that kept, and the energy
    gap before and after."""
    if not spectrum_matched:
        return []
    lines = [
        "",
        f"{SPECTRUM_QUESTION} seed-paired, in the Benjamini-Hochberg family; the mean samples kept per "
        "arm; the gap in mean log high-frequency energy, TQD minus baseline, before and after.",
        "",
        "| set | FD | KID | samples kept | energy gap before | after |",
        "|---|---|---|---|---|---|",
    ]
    for split, entry in spectrum_matched.items():
        seeds = list(entry["per_seed"].values())
        kept, before, after = (
            sum(r[key] for r in seeds) / len(seeds)
            for key in ("clips", "gap_log_high_frequency_before", "gap_log_high_frequency_after")
        )
        fd, kid = difference_cell(entry["fd_difference"]), difference_cell(entry["kid_difference"])
        label = SPLIT_LABELS[split].split(" ")[0]
        lines.append(f"| {label} | {fd} | {kid} | {kept:.0f} | {before:+.3f} | {after:+.3f} |")
    return lines


def results_figure(summary: dict):
    """Top: baseline vs TQD per set. Bottom: every Set-A arm. One panel per metric of
    :data:`FIGURE_METRICS` the runs have, seeds as dots, golden renders' level dashed."""
    shown = [m for m in FIGURE_METRICS if m in summary["metrics"]]
    figure, axes = plt.subplots(2, len(shown), figsize=(3.3 * len(shown), 6.4), squeeze=False)
    arms = summary["arms"]
    golden_row = summary.get("reference", {}).get("golden renders", {})
    for column, metric in enumerate(shown):
        top, bottom = axes[0, column], axes[1, column]
        for offset, (name, colour) in enumerate((("baseline", "0.6"), ("tqd", "C3"))):
            keys = [f"{split}/{name}" for split in SPLIT_LABELS if f"{split}/{name}" in arms]
            xs = [list(SPLIT_LABELS).index(k.split("/")[0]) + (offset - 0.5) * 0.38 for k in keys]
            _bars(top, xs, [arms[k][metric] for k in keys], colour, name, width=0.36)
        top.set_xticks(range(len(SPLIT_LABELS)), [label.split(" ")[0] for label in SPLIT_LABELS.values()])
        set_a = [k for k in arms if k.startswith("set_a/")]
        colours = ["C3" if k == "set_a/tqd" else "0.6" if k == "set_a/baseline" else "C0" for k in set_a]
        for x, (key, colour) in enumerate(zip(set_a, colours, strict=True)):
            _bars(bottom, [x], [arms[key][metric]], colour, None, width=0.7)
        bottom.set_xticks(
            range(len(set_a)), [k.split("/")[1] for k in set_a], rotation=60, ha="right", fontsize=8
        )
        arrow = {-1: "lower is better", 1: "higher is better", 0: "golden renders: dashed"}[METRICS[metric]]
        top.set_title(f"{METRIC_LABELS[metric]}\n({arrow})", fontsize=9)
        if metric in golden_row:
            for ax in (top, bottom):
                ax.axhline(golden_row[metric], color="goldenrod", ls="--", lw=1)
        bottom.set_title(f"Set-A arms: {METRIC_LABELS[metric]}", fontsize=9)
    axes[0, 0].legend(fontsize=8)
    figure.tight_layout()
    return figure


def _bars(ax, xs, stats_list, colour, label, width):
    """Bars at the means, 95% CI whiskers, one dot per seed."""
    means = [s["mean"] for s in stats_list]
    errors = [s["ci95"] or 0.0 for s in stats_list]
    ax.bar(xs, means, width=width, color=colour, alpha=0.75, label=label, yerr=errors, capsize=3)
    for x, s in zip(xs, stats_list, strict=True):
        ax.plot([x] * len(s["values"]), s["values"], "k.", ms=3)
