"""TQD's training experiments on the toy world (docs/papers.md section 1, "The experiments").

Every arm trains the pool profile's model from scratch with every seed of the profile, for the
same steps, and is measured the same way: dynamic degree, mq and vq of its samples (on the
training corpus's percentile scale) and their Fréchet distance to the held-out golden clips.

    main      uniform baseline vs TQD (Beta sampler + quality dropout) on Set-A, Set-B and Set-C
    ablation  on Set-A: TQD's adaptive timestep only, quality dropout only (both: main's TQD)
    kappa     on Set-A: TQD with kappa_max 4 and 16 (main: 8)
    reading   on Set-A: the logit-normal baseline, and TQD's reading B on that base (no dropout)
    gate      on Set-A: the hard-gate baseline (motion-rich clips only at high noise, ...; no dropout)

All arms train with the plain v loss (no Min-SNR weighting, see :func:`_run_settings`).

A run is :func:`~tqd_lite.diffusion.training_run.run_training` with the arm's policy; its ``train.json``
is its result file. A run whose result file was made with the same settings is skipped and an
interrupted one resumes, so ``reproduce tqd`` can be stopped and started at will. Seeds pair
the arms: seed ``s`` starts every arm from the same weights and samples it from the same noise,
so a comparison is the mean over seeds of the per-seed difference, with its 95% CI.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from tqd_lite.diffusion.training_run import (
    RunData,
    checkpoint_path,
    default_config,
    finished_report,
    load_run_data,
    run_key,
    run_training,
)
from tqd_lite.paths import results_dir
from tqd_lite.profiles import Profile, get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.metrics import evaluate_clips
from tqd_lite.stats import comparisons_table, difference_cell, finite_or_none, mean_ci, paired_difference
from tqd_lite.tqd.sampler import TimestepPolicy
from tqd_lite.viz.plots import frame_strip, stamp

SUMMARY_FILE = "summary.json"
BASELINE = TimestepPolicy()
TQD = TimestepPolicy(sampler="tqd", dropout="hard")  # kappa_base 2, kappa_max 8, reading A

# metric -> -1 if lower is better, 0 if neither: on the toy world, noise and flicker score as
# "moving" and "sharp", so more motion or detail is better only up to the golden clips' level;
# compare those three with the real clips' rows of the summary (``reference``)
METRICS = {"dynamic_degree": 0, "mq": 0, "vq": 0, "frechet_distance": -1}
METRIC_LABELS = {
    "dynamic_degree": "dynamic degree",
    "mq": "motion score mq",
    "vq": "visual score vq",
    "frechet_distance": "Fréchet distance",
}
SPLIT_LABELS = {"set_a": "Set-A (all)", "set_b": "Set-B (no golden)", "set_c": "Set-C (golden only)"}


@dataclass(frozen=True)
class Arm:
    """One experimental condition: a split to train on and a timestep policy."""

    group: str
    name: str
    split: str
    policy: TimestepPolicy

    @property
    def key(self) -> str:
        return f"{self.split}/{self.name}"


ARMS = (
    *(
        Arm("main", name, split, policy)
        for split in ("set_a", "set_b", "set_c")
        for name, policy in (("baseline", BASELINE), ("tqd", TQD))
    ),
    Arm("ablation", "adaptive_only", "set_a", dataclasses.replace(TQD, dropout="none")),
    Arm("ablation", "dropout_only", "set_a", dataclasses.replace(BASELINE, dropout="hard")),
    Arm("kappa", "kappa_max=4", "set_a", dataclasses.replace(TQD, kappa_max=4.0)),
    Arm("kappa", "kappa_max=16", "set_a", dataclasses.replace(TQD, kappa_max=16.0)),
    Arm("reading", "logit_normal", "set_a", TimestepPolicy(sampler="logit_normal")),
    # the samplers alone, without quality dropout, so they compare like with like
    Arm("reading", "tqd_B", "set_a", TimestepPolicy(sampler="tqd", reading="B", base="logit_normal")),
    Arm("gate", "hard_gate", "set_a", TimestepPolicy(sampler="hard_gate")),
)
GROUPS = ("main", "ablation", "kappa", "reading", "gate")

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


def select_arms(groups=GROUPS) -> list[Arm]:
    """The arms of ``groups`` (in the order of :data:`ARMS`); unknown groups are an error."""
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown experiment group(s) {unknown}; expected some of {GROUPS}")
    return [arm for arm in ARMS if arm.group in groups]


def arm_seeds(arm: Arm, profile: Profile) -> tuple[int, ...]:
    """The seeds of an arm: all of the profile's for the main table and the ablation, the
    variant seeds for the kappa, reading and gate arms (the full profile's time budget)."""
    return profile.tqd_seeds if arm.group in ("main", "ablation") else profile.tqd_variant_seeds


def run_folder(out_dir: Path, arm: Arm, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{arm.split}-{arm.name}-seed{seed}"


def _run_settings(profile: Profile, seed: int):
    """(pool profile, training config) of one run: the pool profile's model, the TQD sizes."""
    pool = get_profile(profile.tqd_pool)
    # The plain v loss (snr_gamma=None): Min-SNR-gamma, our default elsewhere, weighs both ends of
    # the schedule down (v prediction: 0.14 at t = 100, 0.02 at t = 900), exactly where TQD sends
    # lopsided clips, so it would mute the policy under test.
    config = default_config(
        pool, seed, steps=profile.tqd_steps, batch_size=profile.tqd_batch_size, snr_gamma=None
    )
    return pool, config


def _compact_samples(folder: Path) -> None:
    """Drop the checkpoint (a finished run needs only its result file) and keep 8 samples as uint8."""
    checkpoint_path(folder).unlink(missing_ok=True)
    samples = folder / "samples.pt"
    if samples.exists():
        clips = torch.load(samples, weights_only=True)
        torch.save((clips[:8] * 255).round().to(torch.uint8), folder / "samples8.pt")
        samples.unlink()


def run_experiments(
    profile: Profile,
    out_dir: str | Path | None = None,
    groups=GROUPS,
    provenance_block: dict | None = None,
    progress: bool = True,
) -> dict:
    """Run (or resume) every arm of ``groups`` for every seed, then write the summary.

    ``provenance_block``: the command's provenance (default: this process's); each run's result
    file adds its arm and seed.
    Returns the summary (see :func:`summarise`).
    """
    out_dir = Path(out_dir) if out_dir is not None else results_dir() / profile.name / "tqd"
    arms = select_arms(groups)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    block = provenance_block or provenance(
        profile.name, profile.tqd_seeds[0], device, seeds=list(profile.tqd_seeds)
    )
    data: dict[str, RunData] = {}  # loaded once per split, only if some run of it has work left
    started = time.perf_counter()
    jobs = [(arm, seed) for arm in arms for seed in arm_seeds(arm, profile)]
    for arm, seed in tqdm(jobs, desc="TQD runs", disable=not progress):
        pool, config = _run_settings(profile, seed)
        folder = run_folder(out_dir, arm, seed)
        key = run_key(config, arm.policy, arm.split, config.steps, profile.tqd_eval_clips, False)
        if finished_report(folder, key) is not None:
            continue
        if arm.split not in data:
            data[arm.split] = load_run_data(pool, arm.split, data_seed=0, progress=progress)
        run_training(
            pool,
            config,
            folder,
            arm.split,
            provenance_block={**block, "seed": seed, "arm": arm.key, "timestep_policy": arm.policy.to_dict()},
            eval_every=config.steps,
            eval_clips=profile.tqd_eval_clips,
            progress=False,
            policy=arm.policy,
            run_data=data[arm.split],
            evaluate_start=False,
        )
        _compact_samples(folder)
    summary = summarise(collect_runs(profile, out_dir, groups), profile)
    summary["reference"] = reference_metrics(get_profile(profile.tqd_pool), data, progress)
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    write_result(out_dir / SUMMARY_FILE, summary, block)
    (out_dir / "summary.md").write_text(markdown_table(summary))
    figure = results_figure(summary)
    stamp(figure, block)
    figure.savefig(out_dir / "tqd_results.png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    figure = samples_figure(out_dir, profile.tqd_seeds[0], [a for a in arms if a.group == "main"])
    if figure is not None:
        stamp(figure, block)
        figure.savefig(out_dir / "samples.png", dpi=110, bbox_inches="tight")
        plt.close(figure)
    return summary


def samples_figure(out_dir: str | Path, seed: int, arms: list[Arm] | None = None, per_arm: int = 2):
    """The first samples of each arm's run with ``seed`` (the same noise in every arm), one row
    per clip; None if no run has samples."""
    rows, labels = [], []
    for arm in arms if arms is not None else select_arms(("main",)):
        path = run_folder(Path(out_dir), arm, seed) / "samples8.pt"
        if path.is_file():
            rows.append(torch.load(path, weights_only=True)[:per_arm].float() / 255)
            labels += [arm.key] * len(rows[-1])
    if not rows:
        return None
    return frame_strip(torch.cat(rows), labels)[0, 0].figure


def collect_runs(profile: Profile, out_dir: str | Path, groups=GROUPS) -> dict[str, dict[int, dict]]:
    """``{arm key: {seed: final metrics}}`` of the finished runs found in ``out_dir``."""
    runs: dict[str, dict[int, dict]] = {}
    for arm in select_arms(groups):
        for seed in arm_seeds(arm, profile):
            path = run_folder(Path(out_dir), arm, seed) / "train.json"
            if path.is_file():
                report = json.loads(path.read_text())
                metrics = {m: report["final"][m] for m in METRICS}
                runs.setdefault(arm.key, {})[seed] = {**metrics, "train_seconds": report["train_seconds"]}
    return runs


def summarise(runs: dict[str, dict[int, dict]], profile: Profile) -> dict:
    """Per arm: each metric's mean and 95% CI over seeds; per comparison: the seed-paired differences."""
    arms = {}
    for key, by_seed in runs.items():
        seeds = sorted(by_seed)
        arms[key] = {"seeds": seeds}
        for metric in METRICS:
            values = [by_seed[s][metric] for s in seeds]
            mean, half = mean_ci(values)
            arms[key][metric] = {"mean": float(mean), "ci95": finite_or_none(half), "values": values}
    comparisons = []
    for name, treated, reference in COMPARISONS:
        if treated not in runs or reference not in runs:
            continue
        seeds = sorted(set(runs[treated]) & set(runs[reference]))
        entry = {"name": name, "treated": treated, "reference": reference, "seeds": seeds}
        for metric, sign in METRICS.items():
            differences = [runs[treated][s][metric] - runs[reference][s][metric] for s in seeds]
            entry[metric] = paired_difference(differences, sign)
        comparisons.append(entry)
    pool, config = _run_settings(profile, profile.tqd_seeds[0])
    total = sum(r["train_seconds"] for by_seed in runs.values() for r in by_seed.values())
    return {
        "settings": {
            "pool_profile": pool.name,
            "frame_size": pool.frame_size,
            "num_frames": pool.num_frames,
            "preset": config.preset,
            "steps": profile.tqd_steps,
            "batch_size": profile.tqd_batch_size,
            "eval_clips": profile.tqd_eval_clips,
            "sample_steps": pool.sample_steps,
            "seeds": list(profile.tqd_seeds),
            "variant_seeds": list(profile.tqd_variant_seeds),
        },
        "policies": {arm.key: arm.policy.to_dict() for arm in ARMS if arm.key in runs},
        "arms": arms,
        "comparisons": comparisons,
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
            verdicts = ", ".join(f"{METRIC_LABELS[m]} {found[name][m]['verdict']}" for m in METRICS)
            lines.append(f"  {name}: {verdicts}")
    return lines


def reference_metrics(pool: Profile, data: dict[str, RunData] | None = None, progress: bool = False) -> dict:
    """The metrics of real clips, to read the samples' numbers against: the held-out golden
    clips and each training split, measured like samples (Fréchet distance to held-out golden).

    ``data``: splits already loaded (``{split: RunData}``); missing ones are loaded into it.
    """
    data = {} if data is None else data
    result = {}
    for split in SPLIT_LABELS:
        if split not in data:
            data[split] = load_run_data(pool, split, data_seed=0, progress=progress)
        run_data = data[split]
        clips = run_data.bank.float_clips(torch.arange(len(run_data.bank)))
        result[split] = evaluate_clips(clips, run_data.reference, *run_data.normalisers)
    motion, visual = run_data.normalisers
    result["heldout_golden"] = evaluate_clips(run_data.reference, None, motion, visual)
    return result


def load_summary(profile: Profile | str, out_dir: str | Path | None = None) -> dict | None:
    """The summary a profile's ``reproduce tqd`` wrote, or None if it has not run."""
    name = profile if isinstance(profile, str) else profile.name
    path = Path(out_dir) if out_dir is not None else results_dir() / name / "tqd"
    path = path / SUMMARY_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def policy_on_corpus(table: dict, policy: TimestepPolicy, seed: int = 0, draws_per_clip: int = 20) -> dict:
    """Per clip category of a scored corpus: the policy's mean noise level, the share of draws
    above 0.5 (the noisier half) and the share of draws that quality dropout keeps."""
    generator = torch.Generator().manual_seed(seed)
    mq = torch.as_tensor(table["mq"], dtype=torch.float64).repeat_interleave(draws_per_clip)
    vq = torch.as_tensor(table["vq"], dtype=torch.float64).repeat_interleave(draws_per_clip)
    levels, weights = policy.draw(mq, vq, generator)
    category = np.repeat(np.asarray(table["category"]), draws_per_clip)
    result = {}
    for name in ("golden", "motion_rich", "visual_rich", "poor"):
        mask = torch.from_numpy(category == name)
        result[name] = {
            "clips": int(mask.sum()) // draws_per_clip,
            "mean_level": float(levels[mask].mean()),
            "noisier_half": float((levels[mask] > 0.5).double().mean()),
            "kept": float((weights[mask] > 0).double().mean()),
        }
    return result


def paper_side_by_side(summary: dict) -> str:
    """TQD minus baseline per set: the paper's difference next to ours (mean ± 95% CI, verdict)."""
    lines = [
        "| set | metric | paper: TQD - baseline | ours: TQD - baseline |",
        "|---|---|---|---|",
    ]
    ours = {c["name"]: c for c in summary["comparisons"]}
    for split, label in SPLIT_LABELS.items():
        paper = PAPER_MAIN[split]
        comparison = ours.get(f"TQD vs baseline, {label.split(' ')[0]}")
        for i, metric in enumerate(("dynamic_degree", "mq", "vq")):
            cell = "not run yet"
            if comparison is not None:
                cell = difference_cell(comparison[metric])
            paper_difference = paper["tqd"][i] - paper["baseline"][i]
            lines.append(f"| {label} | {METRIC_LABELS[metric]} | {paper_difference:+.4f} | {cell} |")
    return "\n".join(lines) + "\n"


def _cell(stat: dict) -> str:
    half = stat.get("ci95")
    return f"{stat['mean']:.3f}" + (f" ± {half:.3f}" if half is not None else "")


def markdown_table(summary: dict) -> str:
    """The arms' means ± 95% CI, then the comparisons' paired differences with verdicts."""
    s = summary["settings"]
    lines = [
        f"Runs: {s['preset']} model, {s['frame_size']}x{s['frame_size']}x{s['num_frames']} clips, "
        f"{s['steps']} steps of batch {s['batch_size']}, seeds {s['seeds']}; {s['eval_clips']} samples "
        f"per run ({s['sample_steps']} DDIM steps). Mean ± 95% CI over seeds.",
        "",
        "| arm | " + " | ".join(METRIC_LABELS[m] for m in METRICS) + " |",
        "|---|" + "---|" * len(METRICS),
    ]
    for key, arm in summary["arms"].items():
        lines.append(f"| {key} | " + " | ".join(_cell(arm[m]) for m in METRICS) + " |")
    for key, real in summary.get("reference", {}).items():
        cells = [f"{real[m]:.3f}" if m in real else "(itself)" for m in METRICS]
        lines.append(f"| real clips: {key} | " + " | ".join(cells) + " |")
    lines += comparisons_table(summary["comparisons"], {m: METRIC_LABELS[m] for m in METRICS})
    return "\n".join(lines) + "\n"


def results_figure(summary: dict):
    """Top: baseline vs TQD per set. Bottom: every Set-A arm. One panel per metric, seeds as dots."""
    figure, axes = plt.subplots(2, len(METRICS), figsize=(3.3 * len(METRICS), 6.4))
    arms = summary["arms"]
    for column, metric in enumerate(METRICS):
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
        arrow = "lower is better" if METRICS[metric] < 0 else "golden clips: dashed"
        top.set_title(f"{METRIC_LABELS[metric]}\n({arrow})", fontsize=9)
        golden = summary.get("reference", {}).get("heldout_golden", {}).get(metric)
        if golden is not None:
            for ax in (top, bottom):
                ax.axhline(golden, color="goldenrod", ls="--", lw=1)
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
