"""Command line: ``python -m tqd_lite COMMAND --profile quick|full|gpu``.

Commands
  make-data       render the web-like pool of a profile to video files and score it
  make-sample     write the small committed sample under data/sample/
  score FOLDER    score any folder of videos (yours too) and write a CSV
  train-encoder   train the (legacy) Fréchet-distance encoder for one frame size
  train-metrics   train the sprite tracker and the quality judge for one frame size
  judge FOLDER    the quality judge and the sprite tracker on a folder of your own videos
  freeze-samples MODEL  store an undertrained model's samples as a sanity-table input
  train-teacher   train MCM's teacher on the pool's motion-rich clips (resumable; data/models/)
  train           train a video denoiser on a split of the pool (resumable), with evaluations
  distill         distil MCM's teacher into a few-step student, LCM or MCM (resumable)
  sample          sample clips from a trained denoiser (--targets WORLD: does it draw the world?)
  targets-curve RUN  a training run's quality-vs-steps curve, measured against the targets
  analyze-gradients  TQD's gradient analysis: degraded vs golden gradients across timesteps
  reproduce WHAT  run an experiment end to end and write its result files

Settings, one syntax for every command: the profile gives defaults, a JSON or YAML file (--config)
and `--set field=value` override the fields of the command's config (train: TrainConfig, distill:
DistillConfig, analyze-gradients: GradientAnalysisConfig; `COMMAND --help` lists them). Multi-GPU:
`accelerate launch -m tqd_lite train ...` (each process takes its share of every batch).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from pathlib import Path

from tqd_lite.files import load_json
from tqd_lite.profiles import PROFILE_ENV_VAR, PROFILES, get_profile, profile_of_frame_size

SAMPLE_CLIPS = 48


def at_least(low: int):
    """An argparse type: an integer ``>= low``, refused by the parser (exit code 2) before any work."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"  # what argparse calls the type in its messages
    return parse


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help=f"experiment sizes (default: ${PROFILE_ENV_VAR} or 'quick')",
    )
    parser.add_argument("--seed", type=at_least(0), default=0, help="random seed (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars (for logs)")


def cmd_make_data(args) -> None:
    from tqd_lite.paths import pool_dir
    from tqd_lite.quality.corpus import dilemma_statistics
    from tqd_lite.quality.splits import ensure_scored_pool

    profile = get_profile(args.profile)
    if args.num_clips is not None:
        profile = profile.with_overrides(pool_size=args.num_clips)
    folder = Path(args.out) if args.out else pool_dir(profile.name)
    table = ensure_scored_pool(profile, args.seed, folder, progress=not args.no_progress)
    print(f"pool: {folder}")
    print(json.dumps(dilemma_statistics(table), indent=2))


def cmd_make_sample(args) -> None:
    from tqd_lite.paths import data_dir
    from tqd_lite.provenance import provenance, write_result
    from tqd_lite.quality.splits import ensure_scored_pool

    # a small pool with the quick profile's clip size, built and scored like any pool
    sample = get_profile("quick").with_overrides(pool_size=SAMPLE_CLIPS)
    folder = data_dir() / "sample"
    block = provenance(sample.name, args.seed, "cpu", num_clips=SAMPLE_CLIPS)
    ensure_scored_pool(sample, args.seed, folder, progress=not args.no_progress)
    write_result(folder / "provenance.json", {"contents": "clips/*.mp4, manifest.csv, scores.csv"}, block)
    print(f"sample: {folder}")


def cmd_score(args) -> None:
    from tqd_lite.quality.corpus import dilemma_statistics, normalise_and_split, score_folder, write_scores

    raw, report = score_folder(
        args.folder, args.num_frames, args.size, args.backend, progress=not args.no_progress
    )
    table = normalise_and_split(raw, seed=args.seed)
    out = write_scores(table, args.out or Path(args.folder) / "scores.csv")
    print(report.summary())
    print(f"scores: {out}")
    print(json.dumps(dilemma_statistics(table), indent=2))


def cmd_judge(args) -> None:
    import csv

    from tqd_lite.quality.suite import judge_folder

    size = args.size or get_profile(args.profile).frame_size
    table, report = judge_folder(
        args.folder,
        num_frames=args.num_frames,
        size=size,
        backend=args.backend,
        progress=not args.no_progress,
    )
    out = Path(args.out or Path(args.folder) / "judgements.csv")
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(list(table))
        for row in zip(*table.values(), strict=True):
            writer.writerow([row[0], *(f"{v:.4f}" for v in row[1:])])
    print(report.summary())
    print(f"judgements: {out}")


def _device():
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cmd_train_encoder(args) -> None:
    from tqd_lite.provenance import provenance
    from tqd_lite.quality.encoder import EncoderTrainingConfig, save_encoder, train_encoder

    profile = get_profile(args.profile)
    config = EncoderTrainingConfig(
        size=args.size or profile.frame_size,
        num_frames=profile.num_frames,
        train_clips=profile.encoder_train_clips,
        steps=profile.encoder_steps if args.steps is None else args.steps,
        seed=args.seed,
    )
    device = _device()
    block = provenance(profile.name, args.seed, device)  # before training: the code as it was run
    model, info = train_encoder(config, device, progress=not args.no_progress)
    last = info["losses"][-50:]
    block.update(train_seconds=round(info["train_seconds"], 1), final_loss=round(sum(last) / len(last), 4))
    print(f"encoder: {save_encoder(model.cpu(), config, block)}")


def cmd_train_metrics(args) -> None:
    from tqd_lite.provenance import provenance
    from tqd_lite.quality.learned import default_configs, train_and_save

    profile = get_profile(args.profile)
    size = args.size or profile.frame_size
    tracker_config, judge_config = default_configs(size, profile.num_frames, args.seed)
    configs = {"tracker": tracker_config, "judge": judge_config}
    device = _device()
    for kind in args.only or ("tracker", "judge"):
        block = provenance(profile.name, args.seed, device)  # before training: the code as it was run
        path = train_and_save(kind, configs[kind], block, device=device, progress=not args.no_progress)
        calibration = load_json(path / "provenance.json", "provenance file")["calibration"]
        print(f"{kind}: {path} (calibration: {calibration})")


def cmd_freeze_samples(args) -> None:
    from tqd_lite.diffusion.checkpoints import load_pipeline
    from tqd_lite.provenance import provenance
    from tqd_lite.quality.undertrained import (
        SAMPLE_SEED,
        SAMPLER_STEPS,
        UNDERTRAINED_CLIPS,
        save_undertrained_samples,
    )

    pipe = load_pipeline(args.model)
    samples = pipe(
        num_clips=UNDERTRAINED_CLIPS,
        num_inference_steps=SAMPLER_STEPS,
        seed=SAMPLE_SEED,
        progress=not args.no_progress,
    ).clips
    block = provenance("-", SAMPLE_SEED, "cpu", model=str(args.model), sampler=f"DDIM {SAMPLER_STEPS}")
    print(f"undertrained samples: {save_undertrained_samples(samples, block)}")


def cmd_train_teacher(args) -> None:
    from tqd_lite.mcm.experiments import ensure_teacher, teacher_path
    from tqd_lite.provenance import provenance

    if args.seed != 0:
        raise ValueError("--seed: the MCM teacher is trained with seed 0 (one teacher per pool)")
    pool = get_profile(get_profile(args.profile).mcm_pool)
    ensure_teacher(pool, provenance(pool.name, 0, _device()), progress=not args.no_progress)
    print(f"teacher: {teacher_path(pool)}")


def _parse_value(text: str):
    """``--set`` values: JSON where it parses (numbers, true/false), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def settings_overrides(config_file: str | None, settings: list[str], flag: str = "--set") -> dict:
    """Overrides of a settings dataclass, the one syntax of every command: a JSON or YAML file
    (``--config FILE``) of ``field: value`` pairs, then ``FLAG field=value`` items on top (values as
    JSON where they parse: numbers, true/false, lists like [5,500]; else plain strings)."""
    overrides: dict = {}
    if config_file:
        path = Path(config_file)
        loaded = load_json(path, "--config file (JSON, or YAML by its suffix)")
        if not isinstance(loaded, dict):
            raise ValueError(f"--config {path} must hold a mapping of field: value pairs")
        overrides.update(loaded)
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{flag} expects field=value, got {item!r}")
        overrides[key.strip()] = _parse_value(value.strip())
    return overrides


def timestep_policy(settings: list[str]):
    """A :class:`~tqd_lite.tqd.sampler.TimestepPolicy` from ``--policy field=value`` items."""
    from tqd_lite.profiles import override_fields
    from tqd_lite.tqd.sampler import TimestepPolicy

    return override_fields(
        TimestepPolicy(), settings_overrides(None, settings, "--policy"), "timestep policy"
    )


def _train(profile, seed, split, overrides, out, progress, export=None, **run_options):
    """Train through :func:`~tqd_lite.diffusion.training_run.run_training` (``run_options``: its keywords)."""
    from tqd_lite.diffusion.checkpoints import export_weights
    from tqd_lite.diffusion.training_run import checkpoint_path, default_config, run_training
    from tqd_lite.provenance import provenance

    config = default_config(profile, seed, **overrides)
    block = provenance(profile.name, seed, _device(), split=split, train_config=config.to_dict())
    report = run_training(
        profile, config, out, split, provenance_block=block, progress=progress, **run_options
    )
    first, last = report["evaluations"][0], report["evaluations"][-1]
    print(
        f"trained {config.preset} on {split} ({report['train_clips']} clips): {config.steps} steps in "
        f"{report['train_seconds']:.0f} s; Fréchet distance to held-out golden "
        f"{first['frechet_distance']:.2f} -> {last['frechet_distance']:.2f} "
        f"(training clips: {report['frechet_distance_train_vs_heldout']:.2f})"
    )
    print(f"run: {out}")
    if export:
        keep = ("train_clips", "train_seconds", "evaluations", "frechet_distance_train_vs_heldout", "final")
        path = export_weights(
            checkpoint_path(out),
            export,
            block,
            {k: report[k] for k in keep},
            clip_shape=(profile.num_frames, profile.frame_size),
        )
        print(f"exported: {path}")
    return report


def cmd_train(args) -> None:
    profile = get_profile(args.profile)
    overrides = settings_overrides(args.config, args.set)
    out = Path(args.out) if args.out else Path("runs") / profile.name / f"{args.split}_seed{args.seed}"
    options = {"data": args.data, "eval_every": args.eval_every, "eval_clips": args.eval_clips}
    if args.policy:  # the policy draws the timesteps instead of the recipe's density
        options["policy"] = timestep_policy(args.policy)
        overrides.setdefault("timestep_logit_mean", None)
    split = args.split
    if args.world is not None and split != "renders":
        raise ValueError(f"--world applies to --split renders only, not to --split {split}")
    if split == "renders":
        if args.data is not None:
            raise ValueError(
                "--data names a scored folder to take a split from; --split renders draws fresh clips"
            )
        split, options["run_data"] = _renders(profile, args.world, args.seed)
    _train(profile, args.seed, split, overrides, out, not args.no_progress, args.export, **options)


def _renders(profile, world: str | None, seed: int):
    """(split name, run-data loader) of fresh golden renders of ``world`` (default: the project's),
    rendered only if the run still has steps to train."""
    from tqd_lite.diffusion.training_run import render_run_data, renders_split
    from tqd_lite.world.render import WORLD

    world = world or WORLD.name
    return renders_split(world), functools.partial(render_run_data, profile, world=world, seed=seed)


def cmd_sample(args) -> None:
    import torch

    from tqd_lite.diffusion.checkpoints import load_pipeline
    from tqd_lite.diffusion.pipeline import DDIM_STEPS, ancestral_scheduler
    from tqd_lite.provenance import provenance, write_result
    from tqd_lite.quality.metrics import evaluate_clips
    from tqd_lite.quality.targets import MIN_TARGET_CLIPS
    from tqd_lite.viz.plots import frame_strip, stamp
    from tqd_lite.world.video_io import write_video

    if args.targets and args.num_clips < MIN_TARGET_CLIPS:
        raise ValueError(
            f"--targets needs --num-clips {MIN_TARGET_CLIPS} or more, got {args.num_clips}: with fewer, "
            "even golden renders miss the motion target by chance"
        )
    device = _device()
    # a folder's own scheduler: DDIM, or LCM for students
    pipe = load_pipeline(args.checkpoint, use_ema=not args.raw_weights).to(device)
    classes = pipe.unet.config.num_classes
    labels = None
    if args.label is not None:
        if not 0 <= args.label < classes:
            raise ValueError(f"--label must be in [0, {classes}) for {args.checkpoint}")
        labels = torch.full((args.num_clips,), args.label)
    if args.ancestral:
        pipe.scheduler = ancestral_scheduler(pipe.scheduler)
    steps = args.steps or (4 if type(pipe.scheduler).__name__ == "LCMScheduler" else DDIM_STEPS)
    profile = get_profile(args.profile)
    recorded_size = pipe.unet.config.get("sample_size")  # models record their clip shape
    recorded = recorded_size is not None
    if args.targets and not args.profile:  # judged by its clip size: the record names that profile
        profile = profile_of_frame_size(args.size or recorded_size or profile.frame_size)
    options = {"weights": "raw"} if args.raw_weights else {}
    if args.ancestral:
        options["scheduler"] = type(pipe.scheduler).__name__
    block = provenance(
        profile.name, args.seed, device, checkpoint=str(args.checkpoint), sample_steps=steps, **options
    )
    explicit = args.num_frames is not None or args.size is not None
    clips = pipe(
        num_clips=args.num_clips,
        num_frames=args.num_frames or (None if recorded else profile.num_frames),
        size=args.size or (None if recorded else profile.frame_size),
        other_shape=explicit,
        num_inference_steps=steps,
        class_labels=labels,
        guidance_scale=args.guidance,
        seed=args.seed,
        progress=not args.no_progress,
    ).clips
    out = Path(args.out)
    for i, clip in enumerate(clips):
        write_video(out / f"sample_{i:03d}.mp4", clip)
    axes = frame_strip(clips[:16])
    stamp(axes[0, 0].figure, block)
    axes[0, 0].figure.savefig(out / "samples.png", dpi=110, bbox_inches="tight")
    metrics = evaluate_clips(clips)
    write_result(out / "samples.json", {"steps": steps, "guidance": args.guidance, **metrics}, block)
    print(f"{len(clips)} samples: {out} (dynamic degree {metrics['dynamic_degree']:.2f})")
    if args.targets:  # the distance target of the model's profile (by its clip size unless --profile)
        _check_targets(clips, profile.name, args.targets, block, out)


def _check_targets(clips, profile_name: str, world: str, block: dict, out: Path) -> dict:
    """Measure generated ``clips`` against the targets of a model that draws ``world``
    (:mod:`tqd_lite.quality.targets`); write the verdicts and the samples beside golden renders."""
    from tqd_lite.paths import display_path
    from tqd_lite.provenance import write_result
    from tqd_lite.quality.targets import measure_against_targets, target_golden, target_lines
    from tqd_lite.runs import save_figures
    from tqd_lite.viz.plots import beside_figure

    result = measure_against_targets(clips, profile=profile_name, world=world)
    path = write_result(out / "targets.json", result, block)
    golden = target_golden(8, size=clips.shape[-1], num_frames=clips.shape[2], world=world)
    titles = ("samples", f"golden renders ({world} world)")
    save_figures(out, {"targets.png": beside_figure(clips[:8], golden, titles)}, block)
    for line in target_lines(result["targets"]):
        print(f"  {line}")
    print(f"targets: {display_path(path)}")
    return result


def cmd_targets_curve(args) -> None:
    """Measure every evaluation's samples a run kept against the targets of a model that draws the world."""
    from tqd_lite.diffusion.training_run import EVALUATIONS_FILE, run_samples, world_of_split
    from tqd_lite.paths import display_path
    from tqd_lite.provenance import provenance, write_result
    from tqd_lite.quality.targets import target_lines, targets_curve
    from tqd_lite.runs import save_figures
    from tqd_lite.viz.plots import targets_curve_figure

    run = Path(args.run)
    samples = run_samples(run)
    if not samples:
        raise ValueError(f"{run} kept no samples of its evaluations: it was trained before runs kept them")
    world = args.world or world_of_split(
        load_json(run / EVALUATIONS_FILE, "evaluations file")["run_key"]["split"]
    )
    # the distance target of the run's profile, told by its clip size unless --profile says
    size = next(iter(samples.values())).shape[-1]
    profile = get_profile(args.profile) if args.profile else profile_of_frame_size(size)
    result = targets_curve(samples, profile=profile.name, world=world)
    block = provenance(profile.name, args.seed, "cpu", run=display_path(run), world=world)
    path = write_result(run / "targets_curve.json", result, block)
    save_figures(run, {"targets_curve.png": targets_curve_figure(result["curve"], result["rows"])}, block)
    print(f"{world} world, {profile.name} profile's targets; step {result['curve'][-1]['step']}:")
    for line in target_lines(result["curve"][-1]["targets"]):
        print(f"  {line}")
    print(f"curve: {display_path(path)}")


def cmd_distill(args) -> None:
    """Distil MCM's teacher (or ``--teacher``) into a few-step student: LCM or MCM, by DistillConfig."""
    import torch

    from tqd_lite.diffusion.checkpoints import check_clip_shape, load_denoiser, training_config_of
    from tqd_lite.diffusion.noise import make_noise_scheduler
    from tqd_lite.mcm.data import high_quality_images, load_teacher_bank
    from tqd_lite.mcm.distill import (
        CHECKPOINT_FILE,
        DistillConfig,
        distill,
        export_student,
        read_distill_checkpoint,
        student_pipeline,
    )
    from tqd_lite.mcm.experiments import IMAGE_SEEDS, ensure_teacher, teacher_path
    from tqd_lite.profiles import override_fields
    from tqd_lite.provenance import provenance
    from tqd_lite.runs import save_figures
    from tqd_lite.viz.plots import frame_strip

    profile = get_profile(args.profile)
    pool = get_profile(profile.mcm_pool)
    base = DistillConfig(steps=profile.mcm_steps, batch_size=profile.mcm_batch_size, seed=args.seed)
    config = override_fields(base, settings_overrides(args.config, args.set), "distillation")
    out = (
        Path(args.out)
        if args.out
        else Path("runs") / profile.name / f"distill_{config.representation}_seed{config.seed}"
    )
    if (out / CHECKPOINT_FILE).exists():  # a broken resume checkpoint is refused before any work
        read_distill_checkpoint(out / CHECKPOINT_FILE)
    device = _device()
    block = provenance(profile.name, config.seed, device, distill_config=config.to_dict())  # --set seed wins
    progress = not args.no_progress
    if args.teacher:
        teacher = load_denoiser(args.teacher)
        check_clip_shape(teacher, args.teacher, pool.num_frames, pool.frame_size)
    else:
        teacher = ensure_teacher(pool, block, progress)
    # the schedule the teacher was trained on (its SNR shift): the solver and the student step on it
    trained_as = training_config_of(args.teacher or teacher_path(pool))
    noise_scheduler = make_noise_scheduler(**trained_as.noise_schedule())
    bank = load_teacher_bank(pool, progress=progress)
    images, _ = high_quality_images(
        profile.mcm_images, pool.frame_size, pool.num_frames, IMAGE_SEEDS["train"]
    )
    result = distill(teacher.to(device), noise_scheduler, bank, images, config, out, progress=progress)
    result.student.register_to_config(num_frames=pool.num_frames, sample_size=pool.frame_size)
    folder = export_student(
        result,
        noise_scheduler=noise_scheduler,
        config=config,
        out=out / "student",
        record={"provenance": block},
    )
    pipe = student_pipeline(result.student, noise_scheduler, config)
    classes = teacher.config.num_classes
    labels = torch.arange(4) % classes if classes else None  # each class in turn
    rows = [
        pipe(
            num_clips=4,
            num_frames=pool.num_frames,
            size=pool.frame_size,
            num_inference_steps=k,
            class_labels=labels,
            seed=config.seed,
            progress=False,
        ).clips
        for k in (1, 2, 4)
    ]
    labels_of_rows = [f"{k} step{'s' if k > 1 else ''}" for k in (1, 2, 4) for _ in range(4)]
    save_figures(out, {"samples.png": frame_strip(torch.cat(rows), labels_of_rows)[0, 0].figure}, block)
    last = result.history[-1] if result.history else {}
    print(f"distilled {config.steps} steps ({config.representation}) in {result.seconds:.0f} s; last: {last}")
    print(
        f"student: {folder} (VideoPipeline.from_pretrained samples it in 1-8 steps); "
        f"samples: {out / 'samples.png'}"
    )


def _analyze_gradients(profile, seed, overrides, progress, checkpoints=None, out=None, **run_options):
    """Run :func:`~tqd_lite.tqd.gradient_run.run_gradient_analysis` (``run_options``: its keywords) and
    print what the grids show."""
    from tqd_lite.paths import results_dir
    from tqd_lite.provenance import provenance
    from tqd_lite.tqd.gradient_run import (
        default_analysis_config,
        default_checkpoints,
        run_gradient_analysis,
        summary_lines,
    )

    config = default_analysis_config(profile, seed, **overrides)
    checkpoints = checkpoints or default_checkpoints(profile)
    out = Path(out) if out else results_dir() / profile.name / "gradients"
    block = provenance(profile.name, seed, _device(), analysis_config=config.to_dict())
    start = time.perf_counter()
    grids = run_gradient_analysis(profile, config, checkpoints, out, block, progress=progress, **run_options)
    for line in summary_lines(grids):
        print(line)
    print(f"results: {out} ({time.perf_counter() - start:.0f} s)")


def cmd_analyze_gradients(args) -> None:
    if (args.checkpoint or args.data) and not args.out:
        raise ValueError(
            "with --checkpoint or --data, give --out too: results/PROFILE/gradients holds the grids "
            "of the profile's own golden models"
        )
    _analyze_gradients(
        get_profile(args.profile),
        args.seed,
        settings_overrides(args.config, args.set),
        not args.no_progress,
        args.checkpoint,
        args.out,
        data=args.data,
        preset=args.preset,
        force=args.force,
        method=args.method,
    )


def cmd_reproduce(args) -> None:
    from tqd_lite.tqd.dilemma import run_dilemma

    profile = get_profile(args.profile)
    progress = not args.no_progress
    start = time.perf_counter()
    stages = {  # in order; "all" runs every one but the sanity table
        "dilemma": lambda: _dilemma(run_dilemma(profile, args.seed, progress=progress)),
        # committed per profile; 5 minutes at quick would crowd `make reproduce`
        "sanity": lambda: _sanity(profile, args.seed, progress),
        "golden-model": lambda: _golden_model(profile, args.seed, progress, retrain=args.retrain),
        # the profile's committed golden models: a reproduction recomputes the v model's grid, the
        # one the recipe's golden model gives, and reads the epsilon model's (an older recipe's,
        # committed) when its file matches, which keeps `make reproduce` within 10 minutes
        "gradients": lambda: _analyze_gradients(profile, args.seed, {}, progress, force=("v_prediction",)),
        "tqd": lambda: _paper_experiments("tqd", profile, args.groups, progress),
        # the teacher comes from data/models/ (trained only if missing)
        "mcm": lambda: _paper_experiments("mcm", profile, args.groups, progress),
    }
    for name, stage in stages.items():
        if args.what == name or (args.what == "all" and name != "sanity"):
            begun = time.perf_counter()
            stage()
            print(f"[{name}: {time.perf_counter() - begun:.0f} s]")
    print(f"results: results/{profile.name}/ ({time.perf_counter() - start:.0f} s)")


def _dilemma(report: dict) -> None:
    d = report["dilemma"]
    print(
        f"dilemma: r(VQ, MQ) = {d['correlation_vq_mq']:.3f}, golden share = {d['golden_share']:.1%} "
        f"({d['num_clips']} clips)"
    )


def _paper_experiments(paper: str, profile, groups: str | None, progress: bool) -> None:
    if paper == "tqd":
        from tqd_lite.tqd import experiments, report

        seeds = profile.tqd_seeds
    else:
        from tqd_lite.mcm import experiments, report

        seeds = profile.mcm_seeds
    _experiments(experiments, report, profile, seeds, groups, progress)


def _golden_model(profile, seed: int, progress: bool, *, retrain: bool) -> None:
    """The profile's golden model, sampled and measured against the targets of a model that draws
    the world: the committed one (``data/models/golden_PROFILE``, which the gradient analysis reads),
    so that a reproduction shows this step instead of spending its minutes remaking the model; or,
    with ``retrain`` or none committed, one trained here with the profile's recipe."""
    from tqd_lite.diffusion.checkpoints import is_model_folder, load_pipeline, model_provenance
    from tqd_lite.diffusion.training_run import checkpoint_path, world_of_split
    from tqd_lite.paths import display_path, golden_model_path, results_dir
    from tqd_lite.provenance import provenance
    from tqd_lite.quality.targets import TARGET_SAMPLE_STEPS

    out = results_dir() / profile.name / "golden_model"
    committed = golden_model_path(profile.name)
    if not retrain and is_model_folder(committed):
        made = model_provenance(committed)["provenance"]
        print(
            f"golden model: the committed {display_path(committed)} (trained by `{made['command']}` at "
            f"commit {made['git_commit']}); `reproduce golden-model --retrain` trains one with the "
            "profile's recipe"
        )
        model, split = committed, made.get("split", "set_c")
    else:  # the recipe's data: fresh golden renders of the project's world
        split, run_data = _renders(profile, None, seed)
        _train(profile, seed, split, {}, out, progress, run_data=run_data)
        model = checkpoint_path(out)
        if not model.is_file():  # a finished run found through its report; checkpoints are not committed
            raise FileNotFoundError(
                f"{display_path(out)} holds a finished run's report but no checkpoint.pt to sample: "
                f"move {display_path(out)} aside to train it again"
            )
    block = provenance(
        profile.name, seed, _device(), model=display_path(model), sample_steps=TARGET_SAMPLE_STEPS
    )
    pipe = load_pipeline(model).to(_device())
    clips = pipe(
        num_clips=profile.metric_clips,
        num_frames=profile.num_frames,
        size=profile.frame_size,
        num_inference_steps=TARGET_SAMPLE_STEPS,
        seed=seed,
        progress=progress,
    ).clips  # (metric_clips, 3, F, H, W) on the CPU
    _check_targets(clips, profile.name, world_of_split(split), block, out)


def _sanity(profile, seed: int, progress: bool) -> None:
    """The metric sanity table of the profile's frame size, with the pool's Set-C as the real positive."""
    from tqd_lite.paths import pool_dir
    from tqd_lite.provenance import provenance
    from tqd_lite.quality.sanity import verdicts
    from tqd_lite.quality.sanity_run import TABLE_CLIPS, sanity_dir, sanity_table, save_table
    from tqd_lite.quality.splits import ensure_scored_pool, load_split

    table_of_pool = ensure_scored_pool(profile, seed, progress=progress)
    set_c = load_split(table_of_pool, "set_c", pool_dir(profile.name), profile, limit=TABLE_CLIPS)
    block = provenance(profile.name, seed, _device())
    table = sanity_table(
        profile, set_c=set_c, generated=_committed_samples(profile), seed=seed, progress=progress
    )
    path = save_table(table, block, sanity_dir(profile.name))
    fooled = {m: len(v) for m, v in verdicts(table, include_legacy=True).items()}
    print(f"sanity table: {path}; inputs that fool each metric: {fooled}")
    _refresh_summaries()


def _refresh_summaries() -> None:
    """Rewrite the committed MCM summaries' Markdown, whose reference rows come from the sanity
    tables, from their ``summary.json`` (nothing is rerun). TQD's runs are measured by the suite
    itself, so their summaries have no such rows."""
    from tqd_lite.mcm import experiments
    from tqd_lite.paths import results_dir

    for summary in sorted(results_dir().glob("*/mcm/summary.json")):
        profile, record = get_profile(summary.parent.parent.name), load_json(summary, "result file")
        print(f"rewrote {experiments.write_summary_markdown(summary.parent, record, profile)}")


def _committed_samples(profile, steps: int = 25, seed: int = 0) -> dict:
    """Samples (DDIM, ``steps`` steps) of every committed unconditional model of the profile's clip
    shape, as the sanity table's "generated" rows: the clips its metrics are for."""
    from tqd_lite.diffusion.checkpoints import is_model_folder, load_pipeline
    from tqd_lite.paths import data_dir
    from tqd_lite.quality.sanity_run import TABLE_CLIPS

    samples = {}
    for folder in sorted((data_dir() / "models").iterdir()):
        config = load_json(folder / "unet" / "config.json", "unet config") if is_model_folder(folder) else {}
        shape = (config.get("num_frames"), config.get("sample_size"))
        if shape == (profile.num_frames, profile.frame_size) and not config.get("num_classes"):
            pipe = load_pipeline(folder)
            clips = pipe(num_clips=TABLE_CLIPS, num_inference_steps=steps, seed=seed, progress=False).clips
            samples[f"samples of {folder.name} (DDIM {steps})"] = clips
    return samples


def _experiments(experiment, report, profile, seeds, groups: str | None, progress: bool) -> dict:
    """The runs of an experiment module (``tqd_lite.tqd.experiments``, ``tqd_lite.mcm.experiments``;
    resumable: finished runs are skipped) and its report's summary table."""
    from tqd_lite.provenance import provenance

    chosen = tuple(g.strip() for g in groups.split(",")) if groups else experiment.GROUPS
    block = provenance(profile.name, seeds[0], _device(), seeds=list(seeds))
    summary = experiment.run_experiments(profile, groups=chosen, provenance_block=block, progress=progress)
    print(report.markdown_table(summary))
    return summary


def _add_video_folder(parser: argparse.ArgumentParser, size_help: str, out_file: str) -> None:
    """The arguments of a command that reads a folder of videos: ``score`` and ``judge``."""
    _add_common(parser)
    parser.add_argument("folder", help="folder of video files (.mp4, .mkv, .avi, .mov, .webm)")
    parser.add_argument(
        "--num-frames", type=at_least(1), default=8, help="frames read from the start of each video"
    )
    parser.add_argument("--size", type=at_least(1), default=None, help=size_help)
    parser.add_argument(
        "--backend", choices=["decord", "pyav"], default=None, help="decoder (default: decord)"
    )
    parser.add_argument("--out", default=None, help=f"CSV path (default: FOLDER/{out_file})")


def _field_defaults(config_class) -> str:
    """``field=default, ...`` of a settings dataclass, for a command's help."""
    return ", ".join(f"{f.name}={f.default}" for f in dataclasses.fields(config_class))


def _add_settings_options(parser: argparse.ArgumentParser, config_class, example: str) -> None:
    """``--config FILE`` and ``--set FIELD=VALUE``: the one override syntax of every command."""
    name = config_class.__name__
    parser.add_argument("--config", default=None, metavar="FILE", help=f"JSON or YAML file of {name} fields")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=f"override one {name} field, e.g. --set {example} (repeatable; after --config)",
    )


def _epilog(config_class, profile_sets: str, examples: list[str]) -> str:
    """A command's help epilog: its settings' fields and defaults, then example command lines."""
    lines = [
        f"{config_class.__name__} fields and defaults ({profile_sets}):",
        f"  {_field_defaults(config_class)}",
    ]
    lines += ["", "examples:"] + [f"  python -m tqd_lite {example}" for example in examples]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tqd_lite", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("make-data", help="render and score the web-like pool of a profile")
    _add_common(p)
    p.add_argument("--num-clips", type=at_least(1), default=None, help="pool size (default: the profile's)")
    p.add_argument("--out", default=None, help="pool folder (default: data/pools/PROFILE)")
    p.set_defaults(func=cmd_make_data)

    p = sub.add_parser("make-sample", help="write the small committed sample, data/sample/")
    _add_common(p)
    p.set_defaults(func=cmd_make_sample)

    p = sub.add_parser("score", help="score a folder of videos; writes FOLDER/scores.csv")
    _add_video_folder(
        p,
        "required frame size (default: any; motion is measured in pixels per frame, so a folder "
        "mixing resolutions ranks MQ unfairly)",
        "scores.csv",
    )
    p.set_defaults(func=cmd_score)

    p = sub.add_parser(
        "judge",
        help="the quality judge and sprite tracker on a folder of videos; writes FOLDER/judgements.csv",
    )
    _add_video_folder(
        p,
        "frame size of the videos and of the judge (default: the profile's); other sizes are skipped",
        "judgements.csv",
    )
    p.set_defaults(func=cmd_judge)

    p = sub.add_parser(
        "train-teacher", help="train MCM's class-conditional teacher (skipped if data/models/ holds it)"
    )
    _add_common(p)
    p.set_defaults(func=cmd_train_teacher)

    p = sub.add_parser("train-encoder", help="train the Fréchet-distance encoder for one frame size")
    _add_common(p)
    p.add_argument("--size", type=at_least(1), default=None, help="frame size (default: the profile's)")
    p.add_argument("--steps", type=at_least(1), default=None, help="training steps (default: by size)")
    p.set_defaults(func=cmd_train_encoder)

    p = sub.add_parser(
        "freeze-samples",
        help="store samples of an undertrained model as a held-out sanity-table input (data/failures/)",
    )
    p.add_argument("model", type=Path, help="an unconditional model folder, such as data/models/golden_quick")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars (for logs)")
    p.set_defaults(func=cmd_freeze_samples)

    p = sub.add_parser(
        "train-metrics",
        help="train the sprite tracker and the quality judge for one frame size (data/metrics/)",
    )
    _add_common(p)
    p.add_argument("--size", type=at_least(1), default=None, help="frame size (default: the profile's)")
    p.add_argument("--only", nargs="+", choices=["tracker", "judge"], default=None, help="train only these")
    p.set_defaults(func=cmd_train_metrics)

    from tqd_lite.diffusion.train import TrainConfig
    from tqd_lite.world.render import WORLD, WORLD_STYLES

    p = sub.add_parser(
        "train",
        help="train a video denoiser on a split of the pool (resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_epilog(
            TrainConfig,
            "the profile's recipe, training_run.default_config, sets preset, steps, batch_size, "
            "frame_steps, learning_rate, lr_schedule=cosine, snr_gamma=None, snr_shift",
            [
                "train --profile quick --split set_a --set prediction_type=epsilon --set steps=500",
                "train --config my_run.yaml --out runs/my_run   # the same folder again resumes",
                "train --split set_b --policy sampler=tqd --policy dropout=hard   # TQD's timesteps",
                "train --profile quick --split renders --out runs/quick/golden "
                "--export data/models/golden_quick   # the committed golden model",
            ],
        ),
    )
    _add_common(p)
    p.add_argument(
        "--split",
        default="set_c",
        choices=["set_a", "set_b", "set_c", "renders"],
        help="training split (default: set_c, the golden clips); renders: fresh golden-distribution "
        "renders instead of the pool's",
    )
    p.add_argument(
        "--world",
        default=None,
        choices=sorted(WORLD_STYLES),
        help=f"with --split renders: the world style to render (default: {WORLD.name}, the project's)",
    )
    _add_settings_options(p, TrainConfig, "steps=500")
    p.add_argument(
        "--out",
        default=None,
        help="run folder (default: runs/PROFILE/SPLIT_seedSEED); "
        "an existing one with the same settings is resumed",
    )
    p.add_argument(
        "--export",
        default=None,
        metavar="PATH",
        help="also write the model here as a diffusers folder (for from_pretrained)",
    )
    p.add_argument(
        "--data",
        default=None,
        metavar="FOLDER",
        help="a scored folder (clips/ and scores.csv) instead of the profile's pool",
    )
    p.add_argument(
        "--eval-every",
        type=at_least(1),
        default=None,
        metavar="STEPS",
        help="steps between sample-quality evaluations (default: the profile's)",
    )
    p.add_argument(
        "--eval-clips",
        type=at_least(1),
        default=None,
        metavar="N",
        help="clips sampled per evaluation (default: the profile's eval_clips)",
    )
    p.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="timestep policy (tqd_lite.tqd.sampler.TimestepPolicy), repeatable, e.g. "
        "--policy sampler=tqd --policy dropout=hard (default: the recipe's timestep_logit_mean, "
        "a logit-normal draw, or uniform where it is unset)",
    )
    p.set_defaults(func=cmd_train)

    from tqd_lite.quality.targets import MIN_TARGET_CLIPS

    p = sub.add_parser("sample", help="sample clips from a trained denoiser")
    _add_common(p)
    p.add_argument(
        "checkpoint",
        help="a model folder (data/models/golden_quick, a distilled student) or a run's checkpoint.pt; "
        "sampled at the clip shape it was trained on (--profile's for checkpoints that record none)",
    )
    p.add_argument(
        "--num-frames", type=at_least(1), default=None, help="frames per clip, if not the model's own"
    )
    p.add_argument("--size", type=at_least(1), default=None, help="frame size, if not the model's own")
    p.add_argument("--num-clips", type=at_least(1), default=16)
    p.add_argument(
        "--steps",
        type=at_least(1),
        default=None,
        help="sampling steps (default: 50 with DDIM, 4 for a distilled student's LCMScheduler)",
    )
    p.add_argument("--guidance", type=float, default=1.0, help="classifier-free guidance scale (1: none)")
    p.add_argument("--label", type=at_least(0), default=None, help="class label (class-conditional models)")
    p.add_argument(
        "--raw-weights",
        action="store_true",
        help="sample a training checkpoint's raw weights, not its EMA (model folders hold the EMA only)",
    )
    p.add_argument(
        "--ancestral",
        action="store_true",
        help="sample a diffusion model with DDPM's ancestral steps, which draw fresh noise at every "
        "step, instead of its deterministic DDIM (same schedule and timesteps)",
    )
    p.add_argument("--out", default="samples", help="output folder (default: samples/)")
    p.add_argument(
        "--targets",
        choices=sorted(WORLD_STYLES),
        default=None,
        metavar="WORLD",
        help="also measure the samples against the targets of a model that draws the world "
        f"({', '.join(sorted(WORLD_STYLES))}): its golden renders, blurred, by the metric suite; "
        f"writes targets.json and targets.png (needs --num-clips {MIN_TARGET_CLIPS} or more)",
    )
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser(
        "targets-curve",
        help="a training run's quality-vs-steps curve against the targets of a model that draws the world",
    )
    _add_common(p)
    p.add_argument("run", help="a run folder whose evaluations kept their samples (samples/step_*.pt)")
    p.add_argument(
        "--world",
        choices=sorted(WORLD_STYLES),
        default=None,
        help="the world to measure against (default: the one the run was trained on)",
    )
    p.set_defaults(func=cmd_targets_curve)

    from tqd_lite.mcm.distill import DistillConfig

    p = sub.add_parser(
        "distill",
        help="distil MCM's teacher into a few-step student (LCM or MCM; resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_epilog(
            DistillConfig,
            "the profile sets steps, batch_size; --seed sets seed",
            [
                "distill --profile quick   # MCM: learned motion head, discriminator, mixed trajectories",
                "distill --profile quick --set representation=raw --set discriminator=false "
                "--set mixed_share=0   # plain LCM",
                "distill --config my_student.yaml --out runs/my_student   # the same folder again resumes",
            ],
        ),
    )
    _add_common(p)
    _add_settings_options(p, DistillConfig, "representation=temporal_difference")
    p.add_argument(
        "--teacher",
        default=None,
        metavar="PATH",
        help="a class-conditional teacher (model folder or checkpoint; default: the committed "
        "data/models/mcm_teacher_POOL, trained first if missing)",
    )
    p.add_argument(
        "--out",
        default=None,
        help="run folder (default: runs/PROFILE/distill_REPRESENTATION_seedSEED); the student is "
        "written to OUT/student as a model folder",
    )
    p.set_defaults(func=cmd_distill)

    from tqd_lite.tqd.gradient_analysis import GradientAnalysisConfig

    p = sub.add_parser(
        "analyze-gradients",
        help="gradient similarity of degraded to golden clips across timesteps (TQD's analysis)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_epilog(
            GradientAnalysisConfig,
            "the profile sets timesteps, pairs, batch_size, strengths; lists as JSON",
            [
                "analyze-gradients --profile quick",
                "analyze-gradients --profile quick --set pairs=10 --set timesteps=[5,100,500,950] "
                "--out results/mine",
                "analyze-gradients --profile full --method loop",
            ],
        ),
    )
    _add_common(p)
    p.add_argument(
        "--checkpoint",
        action="append",
        default=None,
        metavar="PATH",
        help="a trained denoiser, one per prediction type (repeatable; default: the profile's "
        "committed golden models, data/models/golden_PROFILE[_epsilon])",
    )
    p.add_argument("--preset", default=None, help="refuse checkpoints of another model preset")
    _add_settings_options(p, GradientAnalysisConfig, "pairs=2")
    p.add_argument("--data", default=None, metavar="FOLDER", help="a scored folder instead of the pool")
    p.add_argument("--out", default=None, help="result folder (default: results/PROFILE/gradients)")
    p.add_argument("--force", action="store_true", help="recompute grids already on disk")
    p.add_argument(
        "--method",
        choices=["vmap", "loop"],
        default="vmap",
        help="per-clip gradients by torch.func vmap (default) or one backward pass per clip; both "
        "exact (on 2 CPU cores the loop is faster for the full profile's 32x32 model)",
    )
    p.set_defaults(func=cmd_analyze_gradients)

    p = sub.add_parser("reproduce", help="run an experiment end to end; results under results/PROFILE/")
    _add_common(p)
    p.add_argument(
        "what",
        choices=["dilemma", "sanity", "golden-model", "gradients", "tqd", "mcm", "all"],
        help="which experiment ('all': every one so far except the metric sanity table, which is committed)",
    )
    p.add_argument(
        "--retrain",
        action="store_true",
        help="golden-model: train a golden model with the profile's recipe even if "
        "data/models/golden_PROFILE exists, whatever made it (by default that one is sampled and "
        "measured, not remade)",
    )
    p.add_argument(
        "--groups",
        default=None,
        help="tqd and mcm: comma-separated experiment groups (default all; tqd: main,ablation,"
        "controls,kappa,reading,gate; mcm: main,representation,discriminator,mixed)",
    )
    p.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
