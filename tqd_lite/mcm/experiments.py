"""MCM's experiments on the toy world (docs/papers.md section 2, "The results to mirror").

A class-conditional **teacher** is trained once on the pool's motion-rich, visually poor clips
(:mod:`tqd_lite.mcm.data`). Every arm then distils it into a student for the same number of
steps, and every sampler is measured the same way at 1, 2, 4 and 8 steps:

* Fréchet distance of its clips to the held-out golden clips (what neither data source holds);
* frame Fréchet distance to high-quality images (are the frames sharp like images?);
* vq, mq (on the pool's percentile scale) and dynamic degree (is the motion kept?);
* sampling wall time per clip.

Arms::

    main            LCM (raw representation, no discriminator, real trajectories only) and
                    MCM (learnable head, discriminator, mixed trajectories p = 0.5)
    representation  MCM with each fixed motion representation instead of the head
    discriminator   MCM without the discriminator
    mixed           MCM with p = 0 (real trajectories only) and p = 1 (generated only)

plus the teacher itself with DDIM at 50 and at 4 steps. A run's ``result.json`` is its result
file; a finished run is skipped and an interrupted one resumes from its checkpoint.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from tqdm.auto import tqdm

from tqd_lite.diffusion.checkpoints import export_weights, is_model_folder, load_denoiser, model_provenance
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.pipeline import VideoPipeline, ddim_scheduler
from tqd_lite.diffusion.train import TrainConfig, train
from tqd_lite.mcm.consistency import lcm_scheduler
from tqd_lite.mcm.data import (
    NUM_SCENE_CLASSES,
    frame_frechet_distance,
    high_quality_images,
    load_teacher_bank,
)
from tqd_lite.mcm.distill import CHECKPOINT_FILE, DistillConfig, distill
from tqd_lite.paths import REPO_ROOT, data_dir, results_dir
from tqd_lite.profiles import Profile, get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.metrics import evaluate_clips
from tqd_lite.quality.scores import PercentileNormaliser
from tqd_lite.quality.splits import corpus_normalisers, load_split, scored_folder
from tqd_lite.stats import comparisons_table, finite_or_none, mean_ci, paired_difference
from tqd_lite.viz.plots import frame_strip, stamp

SUMMARY_FILE = "summary.json"
RESULT_FILE = "result.json"
SAMPLE_STEPS = (1, 2, 4, 8)
TEACHER_STEPS = 3000  # the teacher's training steps (0.3 s each on 2 CPU cores; one teacher per pool)
TEACHER_DDIM_STEPS = (50, 4)
# w of the LCM form x0_c + w (x0_c - x0_u) (diffusers' guidance_scale = 1 + w): the paper's
# U[5, 15]. It suits the toy world too: in the full profile's sweep (results/full/mcm/guidance.json)
# the teacher's FD to golden clips, frame FD and vq improve steadily from w = 0 to w = 16, so
# every w in [5, 15] beats the weaker guidance; dynamic degree dips a little at w = 16.
GUIDANCE = (5.0, 15.0)
GUIDANCE_SWEEP = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # w values whose teacher samples justify GUIDANCE
SWEEP_CLIPS = 128  # clips per w (at most the profile's eval clips), each sampled with 25 guided steps
EVAL_IMAGES = 512  # high-quality images the frame FD compares with (a 14-statistic covariance)
IMAGE_SEEDS = {"train": 1_000_003, "eval": 2_000_003}  # separate streams for D's and the metric's images

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


@dataclass(frozen=True)
class Arm:
    """One distillation condition."""

    group: str
    name: str
    representation: str
    discriminator: bool
    mixed_share: float

    def config(self, profile: Profile, seed: int) -> DistillConfig:
        return DistillConfig(
            representation=self.representation,
            discriminator=self.discriminator,
            mixed_share=self.mixed_share,
            guidance_min=GUIDANCE[0],
            guidance_max=GUIDANCE[1],
            steps=profile.mcm_steps,
            batch_size=profile.mcm_batch_size,
            seed=seed,
        )


ARMS = (
    Arm("main", "lcm", "raw", False, 0.0),
    Arm("main", "mcm", "learned", True, 0.5),
    *(
        Arm("representation", f"mcm_{r}", r, True, 0.5)
        for r in ("raw", "temporal_difference", "low_pass", "high_pass")
    ),
    # keeps p = 0.5, so it isolates the discriminator (MCM's code mixes only while D is active)
    Arm("discriminator", "mcm_no_discriminator", "learned", False, 0.5),
    Arm("mixed", "mcm_p0", "learned", True, 0.0),
    Arm("mixed", "mcm_p1", "learned", True, 1.0),
)
GROUPS = ("main", "representation", "discriminator", "mixed")

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


def select_arms(groups=GROUPS) -> list[Arm]:
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown MCM experiment group(s) {unknown}; expected some of {GROUPS}")
    return [arm for arm in ARMS if arm.group in groups]


def arm_seeds(arm: Arm, profile: Profile) -> tuple[int, ...]:
    return profile.mcm_seeds if arm.group == "main" else profile.mcm_variant_seeds


# --- the teacher ---------------------------------------------------------------------------


def teacher_config() -> TrainConfig:
    """The teacher: the tiny model with the scene classes and a null class (10% label dropout),
    seed 0 (one teacher per pool)."""
    return TrainConfig(preset="tiny", num_classes=NUM_SCENE_CLASSES, steps=TEACHER_STEPS, batch_size=16)


def teacher_path(pool: Profile) -> Path:
    """The pool's teacher, a model folder under ``data/models/``."""
    return data_dir() / "models" / f"mcm_teacher_{pool.name}"


def ensure_teacher(pool: Profile, provenance_block: dict, progress: bool = True):
    """The pool's teacher: loaded from ``data/models/`` or, if absent or made with other
    settings, trained (resumable, in ``runs/mcm_teacher_POOL/``) and exported there."""
    path = teacher_path(pool)
    expected = teacher_config().to_dict()
    if is_model_folder(path) and model_provenance(path)["train_config"] == expected:
        return load_denoiser(path)
    bank = load_teacher_bank(pool, progress=progress)
    out = REPO_ROOT / "runs" / f"mcm_teacher_{pool.name}"
    result = train(teacher_config(), bank, out, progress=progress)
    export_weights(
        out / "checkpoint.pt",
        path,
        {**provenance_block, "what": "MCM teacher", "train_seconds": round(result.total_seconds, 1)},
        extra={"clips": len(bank.clips), "class_counts": torch.bincount(bank.labels).tolist()},
        clip_shape=(pool.num_frames, pool.frame_size),
    )
    return load_denoiser(path)


# --- measuring a sampler -------------------------------------------------------------------


@dataclass
class EvalData:
    """What every sampler is measured against, loaded once."""

    reference: torch.Tensor  # (N, 3, F, H, W) held-out golden clips in [0, 1]
    normalisers: tuple[PercentileNormaliser, PercentileNormaliser]
    images: torch.Tensor  # (M, 3, H, W) high-quality images (not the discriminator's)
    labels: torch.Tensor  # (eval_clips,) the class of each sampled clip, half each


def load_eval_data(profile: Profile, progress: bool = False) -> EvalData:
    pool = get_profile(profile.mcm_pool)
    table, folder = scored_folder(pool, 0, progress=progress)
    reference = load_split(table, "heldout_golden", folder, pool)
    images, _ = high_quality_images(EVAL_IMAGES, pool.frame_size, pool.num_frames, IMAGE_SEEDS["eval"])
    labels = torch.arange(profile.mcm_eval_clips) % 2
    return EvalData(reference, corpus_normalisers(table), images, labels)


def measure(
    clips: torch.Tensor, data: EvalData, seconds: float | None = None, against_reference: bool = True
) -> dict:
    """Every metric of one sampler's clips: ``seconds`` is the time that sampled them (none for
    real clips); ``against_reference=False`` leaves out the Fréchet distance to the held-out
    golden clips (for those clips themselves)."""
    reference = data.reference if against_reference else None
    result = evaluate_clips(clips, reference, *data.normalisers)
    result["frame_frechet_distance"] = frame_frechet_distance(clips, data.images)
    if seconds is not None:
        result["seconds_per_clip"] = seconds / len(clips)
    return result


def _first_samples(clips: torch.Tensor) -> torch.Tensor:
    """The first 8 clips as uint8, what a run keeps of its samples for figures."""
    return (clips[:8] * 255).round().to(torch.uint8)


def _timed(sample):
    start = time.perf_counter()
    clips = sample()
    return clips, time.perf_counter() - start


def evaluate_student(
    student, pool: Profile, data: EvalData, seed: int, config: DistillConfig
) -> tuple[dict, dict]:
    """``({steps: metrics}, {steps: first 8 samples as uint8})`` at each of :data:`SAMPLE_STEPS`."""
    pipe = VideoPipeline(
        unet=student,
        scheduler=lcm_scheduler(make_noise_scheduler(), config.timestep_scaling, config.num_solver_steps),
    )
    by_steps, samples = {}, {}
    for steps in SAMPLE_STEPS:
        clips, seconds = _timed(
            lambda s=steps: _pipeline_samples(pipe, pool, data.labels, steps=s, guidance_scale=1.0, seed=seed)
        )
        by_steps[str(steps)] = measure(clips, data, seconds)
        samples[str(steps)] = _first_samples(clips)
    return by_steps, samples


def teacher_guidance_scale() -> float:
    """diffusers' ``guidance_scale`` (``u + scale (c - u)``) of the middle of :data:`GUIDANCE`:
    the LCM form ``c + w (c - u)`` is the same with ``scale = 1 + w``."""
    return 1 + sum(GUIDANCE) / 2


def _teacher_samples(
    teacher, pool: Profile, labels: torch.Tensor, steps: int, guidance_scale: float, seed: int
):
    """``(clips, seconds)``: the teacher's guided DDIM samples, one per label, and their wall time."""
    pipe = VideoPipeline(unet=teacher, scheduler=ddim_scheduler(make_noise_scheduler()))
    return _timed(
        lambda: _pipeline_samples(pipe, pool, labels, steps=steps, guidance_scale=guidance_scale, seed=seed)
    )


def _pipeline_samples(
    pipe, pool: Profile, labels: torch.Tensor, *, steps: int, guidance_scale: float, seed: int
):
    """One clip per label, of the pool's shape, ``(len(labels), 3, F, H, W)`` in [0, 1]."""
    return pipe(
        num_clips=len(labels),
        num_frames=pool.num_frames,
        size=pool.frame_size,
        num_inference_steps=steps,
        class_labels=labels,
        guidance_scale=guidance_scale,
        seed=seed,
        progress=False,
    ).clips


def evaluate_teacher(
    teacher, pool: Profile, data: EvalData, seed: int, steps: int
) -> tuple[dict, torch.Tensor]:
    """The teacher's DDIM samples at ``steps`` with the guidance range's middle."""
    clips, seconds = _teacher_samples(teacher, pool, data.labels, steps, teacher_guidance_scale(), seed)
    return measure(clips, data, seconds), _first_samples(clips)


def guidance_sweep(teacher, pool: Profile, data: EvalData, out_dir: Path, block: dict, seed: int = 0) -> dict:
    """The teacher's DDIM samples (``pool.sample_steps`` steps) at each w of
    :data:`GUIDANCE_SWEEP`, measured like every sampler: the evidence for :data:`GUIDANCE`.
    Written to ``guidance.json``; a w already measured there with the same settings is kept."""
    path = Path(out_dir) / "guidance.json"
    labels = data.labels[:SWEEP_CLIPS]
    key = {
        "teacher": teacher_config().to_dict(),
        "steps": pool.sample_steps,
        "eval_clips": len(labels),
        "seed": seed,
    }
    done = json.loads(path.read_text()) if path.is_file() else {}
    same_settings = {k: v for k, v in done.get("key", {}).items() if k != "w"} == key
    measured = done.get("by_w", {}) if same_settings else {}
    if sorted(measured) == sorted(map(str, GUIDANCE_SWEEP)):
        return done
    by_w = {}
    for w in GUIDANCE_SWEEP:
        if str(w) not in measured:
            clips, seconds = _teacher_samples(teacher, pool, labels, pool.sample_steps, 1 + w, seed)
            measured[str(w)] = measure(clips, data, seconds)
        by_w[str(w)] = measured[str(w)]
    write_result(path, {"key": {**key, "w": list(GUIDANCE_SWEEP)}, "by_w": by_w}, block)
    return json.loads(path.read_text())


# --- running the arms ----------------------------------------------------------------------


def run_folder(out_dir: Path, name: str, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{name}-seed{seed}"


def _finished(folder: Path, key: dict) -> dict | None:
    path = folder / RESULT_FILE
    if not path.is_file():
        return None
    report = json.loads(path.read_text())
    return report if report.get("key") == json.loads(json.dumps(key)) else None  # tuples as lists


def run_experiments(
    profile: Profile,
    out_dir: str | Path | None = None,
    groups=GROUPS,
    provenance_block: dict | None = None,
    progress: bool = True,
) -> dict:
    """Train the teacher if needed, run (or resume) every arm and seed, write the summary."""
    out_dir = Path(out_dir) if out_dir is not None else results_dir() / profile.name / "mcm"
    pool = get_profile(profile.mcm_pool)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    block = provenance_block or provenance(
        profile.name, profile.mcm_seeds[0], device, seeds=list(profile.mcm_seeds)
    )
    started = time.perf_counter()
    teacher = ensure_teacher(pool, block, progress).to(device)  # every sampler runs on the device
    data = load_eval_data(profile, progress)
    sweep = guidance_sweep(teacher, pool, data, out_dir, block, profile.mcm_seeds[0])
    bank = images = None
    jobs = [("teacher", f"teacher_ddim{n}", n, s) for n in TEACHER_DDIM_STEPS for s in profile.mcm_seeds]
    jobs += [("arm", arm, None, s) for arm in select_arms(groups) for s in arm_seeds(arm, profile)]
    for kind, what, steps, seed in tqdm(jobs, desc="MCM runs", disable=not progress):
        name = what if kind == "teacher" else what.name
        folder = run_folder(out_dir, name, seed)
        if kind == "teacher":
            key = {
                "teacher": teacher_config().to_dict(),
                "ddim_steps": steps,
                "guidance": GUIDANCE,
                "eval_clips": profile.mcm_eval_clips,
            }
            if _finished(folder, key) is None:
                metrics, samples = evaluate_teacher(teacher, pool, data, seed, steps)
                _save_run(
                    folder,
                    key,
                    {"by_steps": {str(steps): metrics}},
                    {str(steps): samples},
                    {**block, "seed": seed, "arm": name},
                )
            continue
        config = what.config(profile, seed)
        key = {
            "distill_config": config.to_dict(),
            "teacher": teacher_config().to_dict(),
            "eval_clips": profile.mcm_eval_clips,
        }
        if _finished(folder, key) is not None:
            continue
        if bank is None:
            bank = load_teacher_bank(pool, progress=progress)
            images, _ = high_quality_images(
                profile.mcm_images, pool.frame_size, pool.num_frames, IMAGE_SEEDS["train"]
            )
        result = distill(teacher, make_noise_scheduler(), bank, images, config, folder, progress=progress)
        by_steps, samples = evaluate_student(result.student, pool, data, seed, config)
        report = {
            "by_steps": by_steps,
            "distill_seconds": round(result.seconds, 1),
            "history": result.history,
        }
        _save_run(folder, key, report, samples, {**block, "seed": seed, "arm": name})
        (folder / CHECKPOINT_FILE).unlink(missing_ok=True)
    summary = summarise(collect_runs(profile, out_dir, groups), profile)
    summary["reference"] = reference_metrics(pool, data, bank, progress)
    summary["guidance_sweep"] = sweep["by_w"]
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    write_result(out_dir / SUMMARY_FILE, summary, block)
    (out_dir / "summary.md").write_text(markdown_table(summary))
    for name, figure in (
        ("mcm_results.png", results_figure(summary)),
        ("samples.png", samples_figure(out_dir)),
    ):
        if figure is not None:
            stamp(figure, block)
            figure.savefig(out_dir / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
    return summary


def reference_metrics(pool: Profile, data: EvalData, bank=None, progress: bool = False) -> dict:
    """Real clips measured like samples: the teacher's training clips (motion-rich, visually
    poor) and the held-out golden clips (their Fréchet distance to themselves is left out)."""
    bank = bank if bank is not None else load_teacher_bank(pool, progress=progress)
    teacher_clips = bank.float_clips(torch.arange(len(bank)))
    return {
        "teacher_clips": measure(teacher_clips, data),
        "heldout_golden": measure(data.reference, data, against_reference=False),
    }


def _save_run(folder: Path, key: dict, report: dict, samples: dict, block: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(samples, folder / "samples8.pt")
    write_result(folder / RESULT_FILE, {"key": key, **report}, block)


def collect_runs(profile: Profile, out_dir: str | Path, groups=GROUPS) -> dict[str, dict[int, dict]]:
    """``{row name: {seed: {steps: metrics}}}`` of the finished runs in ``out_dir``."""
    names = [(f"teacher_ddim{n}", profile.mcm_seeds) for n in TEACHER_DDIM_STEPS]
    names += [(arm.name, arm_seeds(arm, profile)) for arm in select_arms(groups)]
    runs: dict[str, dict[int, dict]] = {}
    for name, seeds in names:
        for seed in seeds:
            path = run_folder(Path(out_dir), name, seed) / RESULT_FILE
            if path.is_file():
                runs.setdefault(name, {})[seed] = json.loads(path.read_text())["by_steps"]
    return runs


def summarise(runs: dict[str, dict[int, dict]], profile: Profile) -> dict:
    """Per row and step count: each metric's mean and 95% CI over seeds; MCM minus LCM, seed-paired."""
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
        "settings": {
            "pool_profile": profile.mcm_pool,
            "teacher": teacher_config().to_dict(),
            "guidance": GUIDANCE,
            "distill_steps": profile.mcm_steps,
            "batch_size": profile.mcm_batch_size,
            "images": profile.mcm_images,
            "eval_clips": profile.mcm_eval_clips,
            "seeds": list(profile.mcm_seeds),
            "variant_seeds": list(profile.mcm_variant_seeds),
        },
        "rows": rows,
        "comparisons": comparisons,
        "paper": PAPER,
    }


def _cell_at(by_steps: dict, steps: str) -> dict:
    """A row's metrics at ``steps``; a row with one step count (the teacher's DDIM) gives its only one."""
    return next(iter(by_steps.values())) if len(by_steps) == 1 else by_steps[steps]


def _paired_differences(name: str, treated: dict[int, dict], reference: dict[int, dict]) -> list[dict]:
    """``treated - reference`` at each of :data:`SAMPLE_STEPS`, paired by seed, per metric: mean,
    95% CI and verdict. A reference with one step count (the teacher's DDIM) is used at every one."""
    seeds = sorted(set(treated) & set(reference))
    entries = []
    for steps in map(str, SAMPLE_STEPS):
        pairs = [(treated[s][steps], _cell_at(reference[s], steps)) for s in seeds]
        entry = {"name": f"{name}, {steps} step(s)", "seeds": seeds}
        for metric, sign in METRICS.items():
            entry[metric] = paired_difference([t[metric] - r[metric] for t, r in pairs], sign)
        entries.append(entry)
    return entries


def _cell(stat: dict, digits: int = 2) -> str:
    half = "" if stat["ci95"] is None else f" ± {stat['ci95']:.{digits}f}"
    return f"{stat['mean']:.{digits}f}{half}"


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
    ddim50 = summary["rows"].get("teacher_ddim50", {}).get(str(TEACHER_DDIM_STEPS[0]))
    for name, by_steps in summary["rows"].items():
        for steps, cell in by_steps.items():
            seconds = cell["seconds_per_clip"]["mean"]
            speed_up = f"{ddim50['seconds_per_clip']['mean'] / seconds:.0f}x" if ddim50 else ""
            lines.append(
                f"| {name} (n={len(cell['seeds'])}) | {steps} | "
                + " | ".join(_cell(cell[m]) for m in QUALITY_METRICS)
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


def _load(profile: Profile | str, file: str, out_dir: str | Path | None = None) -> dict | None:
    name = profile if isinstance(profile, str) else profile.name
    path = (Path(out_dir) if out_dir is not None else results_dir() / name / "mcm") / file
    return json.loads(path.read_text()) if path.is_file() else None


def load_guidance(profile: Profile | str) -> dict | None:
    """The guidance sweep a profile's ``reproduce mcm`` wrote, or None."""
    return _load(profile, "guidance.json")


def load_summary(profile: Profile | str, out_dir: str | Path | None = None) -> dict | None:
    """The summary a profile's ``reproduce mcm`` wrote, or None."""
    return _load(profile, SUMMARY_FILE, out_dir)


def results_figure(summary: dict, metrics=("frechet_distance", "frame_frechet_distance", "vq", "mq")):
    """Each metric against sampling steps: one line per distilled arm (LCM grey, MCM red, the
    rest thin), the teacher's DDIM at 50 and 4 steps as black lines, real clips dashed."""
    rows = summary["rows"]
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
        ax.set_xticks(SAMPLE_STEPS, [str(k) for k in SAMPLE_STEPS])
        arrow = " (lower is better)" if METRICS[metric] < 0 else ""
        ax.set(xlabel="sampling steps", title=METRIC_LABELS[metric] + arrow)
    axes[0].legend(fontsize=6)
    figure.tight_layout()
    return figure


def samples_figure(
    out_dir: str | Path,
    seed: int = 0,
    rows=(("teacher_ddim50", "50"), ("lcm", "1"), ("lcm", "4"), ("mcm", "1"), ("mcm", "4")),
    per_row: int = 2,
):
    """The first samples of each (row, steps) with ``seed``, one clip per line: the same classes
    in every row, and the same noise in the students' rows (the teacher's DDIM draws its noise
    differently); None if none has been run."""
    clips, labels = [], []
    for name, steps in rows:
        path = run_folder(Path(out_dir), name, seed) / "samples8.pt"
        if path.is_file():
            samples = torch.load(path, weights_only=True)
            if steps in samples:
                clips.append(samples[steps][:per_row].float() / 255)
                labels += [f"{name}, {steps} step{'s' if steps != '1' else ''}"] * len(clips[-1])
    if not clips:
        return None
    return frame_strip(torch.cat(clips), labels)[0, 0].figure
