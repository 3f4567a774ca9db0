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

import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from tqd_lite.diffusion.checkpoints import export_weights, is_model_folder, load_denoiser, model_provenance
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.train import TrainConfig, recorded_train_config, train
from tqd_lite.diffusion.training_run import default_config
from tqd_lite.files import load_json, load_tensors
from tqd_lite.mcm.data import (
    NUM_SCENE_CLASSES,
    frame_frechet_distance,
    high_quality_images,
    load_teacher_bank,
)
from tqd_lite.mcm.distill import CHECKPOINT_FILE, DistillConfig, distill, student_pipeline
from tqd_lite.mcm.report import (
    GUIDANCE_FILE,
    SUMMARY_FILE,
    markdown_table,
    results_figure,
    summarise,
)
from tqd_lite.paths import REPO_ROOT, data_dir, results_dir
from tqd_lite.profiles import Profile, get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.metrics import evaluate_clips
from tqd_lite.quality.sanity_run import write_old_metrics_summary
from tqd_lite.quality.scores import PercentileNormaliser
from tqd_lite.quality.splits import corpus_normalisers, load_split, scored_folder
from tqd_lite.runs import (
    SAMPLES_FILE,
    finished_result,
    kept_samples,
    samples_strip,
    save_figures,
    select_groups,
)

RESULT_FILE = "result.json"
SAMPLE_STEPS = (1, 2, 4, 8)
# the teacher's training steps; None: its pool's golden-model recipe length (Profile.train_steps)
TEACHER_STEPS: int | None = None
TEACHER_DDIM_STEPS = (50, 4)
# w of the LCM form x0_c + w (x0_c - x0_u) (diffusers' guidance_scale = 1 + w): the paper's
# U[5, 15]. In the full profile's sweep (results/full/mcm/guidance.json), made with the teacher
# before its retraining (issue 17) and the old metrics, FD, frame FD and vq improved steadily up to
# w = 16; today's teacher at the range's middle draws saturated flat fields
# (results/benchmarks/mcm_teacher_quick/), so "MCM that works" chooses the range again.
GUIDANCE = (5.0, 15.0)
GUIDANCE_SWEEP = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)  # w values whose teacher samples justify GUIDANCE
SWEEP_CLIPS = 128  # clips per w (at most the profile's eval clips), each sampled with 25 guided steps
EVAL_IMAGES = 512  # high-quality images the frame FD compares with (a 14-statistic covariance)
IMAGE_SEEDS = {"train": 1_000_003, "eval": 2_000_003}  # separate streams for D's and the metric's images


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


def select_arms(groups=GROUPS) -> list[Arm]:
    """The arms of ``groups``, in the order of :data:`ARMS`."""
    return select_groups(ARMS, groups, GROUPS, "MCM")


def arm_seeds(arm: Arm, profile: Profile) -> tuple[int, ...]:
    return profile.mcm_seeds if arm.group == "main" else profile.mcm_variant_seeds


# --- the teacher ---------------------------------------------------------------------------


def teacher_config(pool: Profile) -> TrainConfig:
    """The teacher: the pool's golden-model recipe (``training_run.default_config``: frames first,
    plain v loss, cosine decay, SNR shift) with the scene classes and a null class (10% label
    dropout), seed 0 (one teacher per pool)."""
    return default_config(pool, num_classes=NUM_SCENE_CLASSES, steps=TEACHER_STEPS or pool.train_steps)


def is_todays_teacher(recorded: dict, pool: Profile) -> bool:
    """Whether a recorded teacher training config (fields added later filled with their old
    defaults) is the one :func:`teacher_config` makes today."""
    return recorded_train_config(recorded) == teacher_config(pool).to_dict()


def teacher_noise_scheduler(pool: Profile):
    """The training schedule the teacher learned on (its SNR shift included): distillation's DDIM
    solver and the students' ``LCMScheduler`` must step on the same one."""
    return make_noise_scheduler(**teacher_config(pool).noise_schedule())


def teacher_path(pool: Profile) -> Path:
    """The pool's teacher, a model folder under ``data/models/``."""
    return data_dir() / "models" / f"mcm_teacher_{pool.name}"


def ensure_teacher(pool: Profile, provenance_block: dict, progress: bool = True):
    """The pool's teacher: loaded from ``data/models/`` or, if absent or made with other
    settings, trained (resumable, in ``runs/mcm_teacher_POOL/``) and exported there."""
    path = teacher_path(pool)
    if is_model_folder(path) and is_todays_teacher(model_provenance(path)["train_config"], pool):
        return load_denoiser(path)
    bank = load_teacher_bank(pool, progress=progress)
    out = REPO_ROOT / "runs" / f"mcm_teacher_{pool.name}"
    result = train(teacher_config(pool), bank, out, progress=progress)
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


def _timed(sample):
    start = time.perf_counter()
    clips = sample()
    return clips, time.perf_counter() - start


def evaluate_student(
    student, pool: Profile, data: EvalData, seed: int, config: DistillConfig
) -> tuple[dict, dict]:
    """``({steps: metrics}, {steps: first 8 samples as uint8})`` at each of :data:`SAMPLE_STEPS`."""
    pipe = student_pipeline(student, teacher_noise_scheduler(pool), config)
    by_steps, samples = {}, {}
    for steps in SAMPLE_STEPS:
        clips, seconds = _timed(
            lambda s=steps: _pipeline_samples(pipe, pool, data.labels, steps=s, guidance_scale=1.0, seed=seed)
        )
        by_steps[str(steps)] = measure(clips, data, seconds)
        samples[str(steps)] = kept_samples(clips)
    return by_steps, samples


def teacher_guidance_scale() -> float:
    """diffusers' ``guidance_scale`` (``u + scale (c - u)``) of the middle of :data:`GUIDANCE`:
    the LCM form ``c + w (c - u)`` is the same with ``scale = 1 + w``."""
    return 1 + sum(GUIDANCE) / 2


def _teacher_samples(
    teacher, pool: Profile, labels: torch.Tensor, steps: int, guidance_scale: float, seed: int
):
    """``(clips, seconds)``: the teacher's guided DDIM samples, one per label, and their wall time."""
    pipe = ddim_pipeline(teacher, teacher_config(pool))
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
    return measure(clips, data, seconds), kept_samples(clips)


def guidance_sweep(teacher, pool: Profile, data: EvalData, out_dir: Path, block: dict, seed: int = 0) -> dict:
    """The teacher's DDIM samples (``pool.sample_steps`` steps) at each w of
    :data:`GUIDANCE_SWEEP`, measured like every sampler: the evidence for :data:`GUIDANCE`.
    Written to ``guidance.json``; a w already measured there with the same settings is kept."""
    path = Path(out_dir) / GUIDANCE_FILE
    labels = data.labels[:SWEEP_CLIPS]
    key = {
        "teacher": teacher_config(pool).to_dict(),
        "steps": pool.sample_steps,
        "eval_clips": len(labels),
        "seed": seed,
    }
    done = load_json(path, "result file") if path.is_file() else {}
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
    return load_json(path, "result file")


# --- running the arms ----------------------------------------------------------------------


def run_folder(out_dir: Path, name: str, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{name}-seed{seed}"


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
                "teacher": teacher_config(pool).to_dict(),
                "ddim_steps": steps,
                "guidance": GUIDANCE,
                "eval_clips": profile.mcm_eval_clips,
            }
            if finished_result(folder / RESULT_FILE, key) is None:
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
            "teacher": teacher_config(pool).to_dict(),
            "eval_clips": profile.mcm_eval_clips,
        }
        if finished_result(folder / RESULT_FILE, key) is not None:
            continue
        if bank is None:
            bank = load_teacher_bank(pool, progress=progress)
            images, _ = high_quality_images(
                profile.mcm_images, pool.frame_size, pool.num_frames, IMAGE_SEEDS["train"]
            )
        schedule = teacher_noise_scheduler(pool)
        result = distill(teacher, schedule, bank, images, config, folder, progress=progress)
        by_steps, samples = evaluate_student(result.student, pool, data, seed, config)
        report = {
            "by_steps": by_steps,
            "distill_seconds": round(result.seconds, 1),
            "history": result.history,
        }
        _save_run(folder, key, report, samples, {**block, "seed": seed, "arm": name})
        (folder / CHECKPOINT_FILE).unlink(missing_ok=True)
    summary = summarise(collect_runs(profile, out_dir, groups), summary_settings(profile))
    summary["reference"] = reference_metrics(pool, data, bank, progress)
    summary["guidance_sweep"] = sweep["by_w"]
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    write_result(out_dir / SUMMARY_FILE, summary, block)
    write_summary_markdown(out_dir, summary, profile)
    figures = {"mcm_results.png": results_figure(summary), "samples.png": samples_figure(out_dir)}
    save_figures(out_dir, figures, block)
    return summary


def write_summary_markdown(out_dir: str | Path, summary: dict, profile: Profile) -> Path:
    """``summary.md``: the summary's table, a note if its runs distilled another teacher than
    today's, then the note that these runs were measured with the old metrics (until "MCM that
    works" reruns them), with the sanity table's reference rows; ``reproduce sanity`` rewrites it
    when the table changes."""
    pool = get_profile(profile.mcm_pool)
    table = markdown_table(summary) + older_teacher_note(summary["settings"]["teacher"], pool)
    return write_old_metrics_summary(out_dir, table, pool.frame_size)


def older_teacher_note(recorded: dict, pool: Profile) -> str:
    """A paragraph for a summary whose runs distilled a teacher trained with ``recorded`` (its
    training config) when today's teacher config differs; empty when they are the same."""
    if is_todays_teacher(recorded, pool):
        return ""
    return (
        "\n\n**Made with an older teacher.** These runs distilled a teacher trained with "
        f"`{_config_text(recorded)}`; today's teacher (`data/models/mcm_teacher_{pool.name}/`) is trained "
        f"with `{_config_text(teacher_config(pool).to_dict())}`. `reproduce mcm` reruns them on it.\n"
    )


def _config_text(config: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items())


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
    torch.save(samples, folder / SAMPLES_FILE)
    write_result(folder / RESULT_FILE, {"key": key, **report}, block)


def summary_settings(profile: Profile) -> dict:
    """What every run of ``profile`` is made with, for the summary."""
    return {
        "pool_profile": profile.mcm_pool,
        "teacher": teacher_config(get_profile(profile.mcm_pool)).to_dict(),
        "guidance": GUIDANCE,
        "distill_steps": profile.mcm_steps,
        "batch_size": profile.mcm_batch_size,
        "images": profile.mcm_images,
        "eval_clips": profile.mcm_eval_clips,
        "seeds": list(profile.mcm_seeds),
        "variant_seeds": list(profile.mcm_variant_seeds),
    }


def collect_runs(profile: Profile, out_dir: str | Path, groups=GROUPS) -> dict[str, dict[int, dict]]:
    """``{row name: {seed: {steps: metrics}}}`` of the finished runs in ``out_dir``."""
    names = [(f"teacher_ddim{n}", profile.mcm_seeds) for n in TEACHER_DDIM_STEPS]
    names += [(arm.name, arm_seeds(arm, profile)) for arm in select_arms(groups)]
    runs: dict[str, dict[int, dict]] = {}
    for name, seeds in names:
        for seed in seeds:
            path = run_folder(Path(out_dir), name, seed) / RESULT_FILE
            if path.is_file():
                runs.setdefault(name, {})[seed] = load_json(path, "result file")["by_steps"]
    return runs


def samples_figure(
    out_dir: str | Path,
    seed: int = 0,
    rows=(("teacher_ddim50", "50"), ("lcm", "1"), ("lcm", "4"), ("mcm", "1"), ("mcm", "4")),
    per_row: int = 2,
):
    """The first samples of each (row, steps) with ``seed``, one clip per line: the same classes
    and the same starting noise in every row (one generator per clip); None if none has been run."""
    found = []
    for name, steps in rows:
        path = run_folder(Path(out_dir), name, seed) / SAMPLES_FILE
        samples = load_tensors(path, "stored samples") if path.is_file() else {}
        if steps in samples:
            found.append((samples[steps], f"{name}, {steps} step{'s' if steps != '1' else ''}"))
    return samples_strip(found, per_row)
