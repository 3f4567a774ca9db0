"""A training run as an experiment: a profile's split, periodic evaluation, result files.

:func:`run_training` trains a denoiser on one split of a profile's scored pool (Set-C, the
golden clips, by default; or fresh golden renders, :func:`render_run_data`) in chunks of
``eval_every`` steps. After each chunk it samples clips from the EMA weights and measures their
Fréchet distance to the held-out golden clips, so the run's report shows sample quality falling
over training, not only the loss. Each chunk resumes from the checkpoint the previous one wrote,
exactly as an interrupted run would; the evaluations done so far are kept in
``evaluations.json``, so an interrupted run repeats none of them, and a finished run (its
``train.json`` made by the same settings) is returned without work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from tqd_lite.diffusion.model import build_model, count_parameters
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.train import (
    CHECKPOINT_FILE,
    ClipBank,
    Policy,
    TrainConfig,
    atomic_save,
    policy_record,
    read_checkpoint,
    recorded_train_config,
    resolve_policy,
    train,
)
from tqd_lite.diffusion.validation import fixed_bucket_loss
from tqd_lite.files import load_json, load_tensors
from tqd_lite.profiles import Profile, override_fields
from tqd_lite.provenance import write_result
from tqd_lite.quality.metrics import evaluate_clips, frechet_video_distance
from tqd_lite.quality.sanity import golden_renders
from tqd_lite.quality.scores import PercentileNormaliser
from tqd_lite.quality.splits import corpus_normalisers, load_split, scored_folder
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.viz.plots import mosaic_figure, stamp
from tqd_lite.world.render import WORLD

REPORT_FILE = "train.json"
EVALUATIONS_FILE = "evaluations.json"
RENDER_CLIPS = 4096  # fresh golden renders a "renders" run draws its batches from


def default_config(profile: Profile, seed: int = 0, **overrides) -> TrainConfig:
    """The profile's training recipe (issue 17: frames first, plain v loss, cosine decay, SNR shift,
    timestep density), with any field overridden; the frame stage keeps its share of the steps
    unless set itself."""
    steps = overrides.get("steps", profile.train_steps)
    base = TrainConfig(
        preset=profile.model_preset,
        steps=steps,
        batch_size=profile.train_batch_size,
        frame_steps=round(profile.train_frame_share * steps) if isinstance(steps, int) else 0,
        learning_rate=profile.train_learning_rate,
        lr_schedule="cosine",
        snr_gamma=None,
        snr_shift=profile.train_snr_shift,
        timestep_logit_mean=profile.train_logit_mean,
        seed=seed,
    )
    return override_fields(base, overrides, "training")


def load_bank(table: dict, folder: Path, profile: Profile, split: str) -> ClipBank:
    """The clips of ``split`` in memory, with their scores."""
    keep = table[split]
    clips = load_split(table, split, folder, profile)
    return ClipBank.from_float(clips, table["mq"][keep], table["vq"][keep])


def evaluate(
    model,
    config: TrainConfig,
    profile: Profile,
    reference: torch.Tensor,
    num_clips: int | None = None,
    normalisers: tuple[PercentileNormaliser, PercentileNormaliser] | None = None,
    suite: MetricSuite | None = None,
) -> tuple[dict, torch.Tensor]:
    """Sample ``num_clips`` seeded clips (default: the profile's) and measure them against ``reference``.

    ``normalisers``: (motion, visual) percentile scales of the training corpus, to report the
    samples' mq and vq on it. ``suite``: measure the samples with the sanity-tested suite instead
    (:meth:`~tqd_lite.quality.suite.MetricSuite.evaluate`: the judge, the tracker, distances with
    intervals and floor, against the suite's own golden renders). Where ``profile.validation_clips``
    is not 0, the metrics include the fixed-bucket validation loss of that many held-out clips
    (:mod:`~tqd_lite.diffusion.validation`: its mean, each bucket's, the buckets' timesteps and the
    clips scored). They include
    ``eval_seconds``, the wall-clock time of the whole evaluation: a run's evaluations cost
    sampling time on top of its training, which the profiles' budgets must count.
    """
    start = time.perf_counter()
    clips = ddim_pipeline(model, config)(
        num_clips=num_clips or profile.eval_clips,
        num_frames=profile.num_frames,
        size=profile.frame_size,
        num_inference_steps=profile.sample_steps,
        seed=config.seed,
        progress=False,
    ).clips
    if suite is not None:
        metrics = suite.evaluate(clips, seed=config.seed)
    else:
        motion, visual = normalisers or (None, None)
        metrics = evaluate_clips(clips, reference, motion, visual)
    if profile.validation_clips:
        # the same held-out clips and noise at every evaluation of a run: it moves with the weights alone
        scheduler = make_noise_scheduler(**config.noise_schedule())
        scored = reference[: profile.validation_clips]
        validation = fixed_bucket_loss(model, scheduler, scored)
        metrics |= {
            "fixed_bucket_loss": validation["mean"],
            "fixed_bucket_losses": validation["loss"],
            "fixed_bucket_timesteps": validation["timesteps"],
            "fixed_bucket_clips": len(scored),
        }
    return {"eval_seconds": round(time.perf_counter() - start, 1), **metrics}, clips


@dataclass
class RunData:
    """What a run trains and is measured on: one split's clips, the held-out golden clips, the
    corpus's score scales. Load it once (:func:`load_run_data`) to share it between runs."""

    split: str
    bank: ClipBank
    reference: torch.Tensor  # (N, 3, F, H, W) held-out golden clips in [0, 1]
    normalisers: tuple[PercentileNormaliser, PercentileNormaliser] | None  # None: no corpus


def load_run_data(
    profile: Profile, split: str, data_seed: int = 0, data: str | Path | None = None, progress: bool = True
) -> RunData:
    """The clips of ``split`` of the profile's pool (seeded by ``data_seed``), or of ``data``."""
    table, folder = scored_folder(profile, data_seed, data, progress)
    reference = load_split(table, "heldout_golden", folder, profile)
    return RunData(split, load_bank(table, folder, profile, split), reference, corpus_normalisers(table))


def render_run_data(
    profile: Profile, *, world: str = WORLD.name, clips: int = RENDER_CLIPS, seed: int = 0
) -> RunData:
    """Fresh golden-distribution renders of ``world`` to train on, instead of the pool's fixed Set-C
    (issue "Models that generate the toy world", its data lever: the knob distribution itself),
    and ``profile.metric_clips`` further renders, drawn with another seed, as the held-out reference.

    The split is called ``renders:WORLD``; it has no scored corpus, so the samples' motion and
    visual scores are reported raw.
    """
    shape = {"size": profile.frame_size, "num_frames": profile.num_frames, "world": world}
    train_clips = golden_renders(clips, seed=2 * seed, **shape)  # (clips, 3, F, H, W)
    reference = golden_renders(profile.metric_clips, seed=2 * seed + 1, **shape)
    return RunData(renders_split(world), ClipBank.from_float(train_clips), reference, None)


def renders_split(world: str) -> str:
    """The split name of :func:`render_run_data`'s clips of ``world``."""
    return f"renders:{world}"


def world_of_split(split: str) -> str:
    """The world style a split's clips show: ``renders:WORLD``'s, else the pool's (the project's world)."""
    return split.removeprefix("renders:") if split.startswith("renders:") else WORLD.name


def run_key(
    config: TrainConfig,
    policy,
    split: str,
    eval_every: int,
    eval_clips: int | None,
    start: bool,
    *,
    init: dict | None = None,
    suite: bool = False,
) -> dict:
    """What decides a run's evaluations: a saved one is reused only for the same key.

    ``init``: a record of the pretrained weights the run starts from; ``suite``: whether the suite
    measures its samples. Each enters the key only when set, so keys saved before they existed
    still match.
    """
    key = {
        "train_config": config.to_dict(),
        # a plain function has no fields: its repr (with its address) never matches a saved key
        "timestep_policy": policy_record(policy) or repr(policy),
        "split": split,
        "eval_every": eval_every,
        "eval_clips": eval_clips,
        "evaluate_start": start,
    }
    if init is not None:
        key["init"] = init
    if suite:
        key["metrics"] = "suite"
    return key


def finished_report(out_dir: str | Path, key: dict) -> dict | None:
    """The report of a finished run in ``out_dir`` made with ``key``, else None."""
    path = Path(out_dir) / REPORT_FILE
    if not path.is_file():
        return None
    report = load_json(path, "training report")
    return report if _same_key(report.get("run_key"), key) else None


def _same_key(saved: dict | None, key: dict) -> bool:
    """Whether a saved run key is ``key``, its training config's later fields filled in as the
    code then behaved (a run made before a field existed is still finished)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("train_config"), dict):
        return False
    return {**saved, "train_config": recorded_train_config(saved["train_config"])} == key


def _saved_evaluations(out_dir: Path, key: dict) -> list[dict]:
    path = out_dir / EVALUATIONS_FILE
    if not path.is_file():
        return []
    saved = load_json(path, "evaluations file")
    return saved["evaluations"] if _same_key(saved.get("run_key"), key) else []


def _checkpoint_step(out_dir: Path) -> int:
    """The step of the checkpoint in ``out_dir`` (0 if none)."""
    path = checkpoint_path(out_dir)
    return read_checkpoint(path)["step"] if path.is_file() else 0


def run_training(
    profile: Profile,
    config: TrainConfig,
    out_dir: str | Path,
    split: str = "set_c",
    data: str | Path | None = None,
    provenance_block: dict | None = None,
    eval_every: int | None = None,
    max_train_seconds: float | None = None,
    eval_clips: int | None = None,
    progress: bool = True,
    policy: Policy | None = None,
    run_data: RunData | Callable[[], RunData] | None = None,
    evaluate_start: bool = True,
    init: tuple[dict, dict[str, torch.Tensor]] | None = None,
    suite: MetricSuite | None = None,
) -> dict:
    """Train on ``split`` with evaluations every ``eval_every`` steps; write the report and figures.

    ``data``: a scored folder to train on instead of the profile's pool (see :func:`scored_folder`).
    ``max_train_seconds``: stop at the first evaluation after this much training time (benchmarks).
    ``eval_clips``: clips sampled per evaluation (default ``profile.eval_clips``).
    ``policy``: each clip's timestep and loss weight from its scores (:mod:`tqd_lite.tqd.sampler`;
    default: the config's own draw, ``TrainConfig.timestep_logit_mean``).
    ``run_data``: the clips, already loaded, or a function that loads them, called only if the run
    is not finished yet (default: ``split`` of the pool seeded by ``config.seed``).
    ``evaluate_start``: also evaluate the untrained model (step 0).
    ``init``: ``(record, state dict)``, pretrained weights to fine-tune (see
    :func:`~tqd_lite.diffusion.train.train`) and what identifies them in the run key.
    ``suite``: measure every evaluation's samples with it (see :func:`evaluate`).

    Resumable: run it again with the same arguments and it continues from ``out_dir``.
    """
    out_dir = Path(out_dir)
    eval_every = profile.eval_every if eval_every is None else eval_every
    for name, value in (("eval_every", eval_every), ("eval_clips", eval_clips)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    policy = resolve_policy(config, policy)
    init_record, init_weights = init if init is not None else (None, None)
    key = run_key(
        config,
        policy,
        split,
        eval_every,
        eval_clips,
        evaluate_start,
        init=init_record,
        suite=suite is not None,
    )
    if max_train_seconds is None and (report := finished_report(out_dir, key)) is not None:
        return report
    trained = _checkpoint_step(out_dir)  # a broken checkpoint is refused before the data is loaded
    if run_data is None:
        run_data = load_run_data(profile, split, config.seed, data, progress)
    elif callable(run_data):
        run_data = run_data()
    if run_data.split != split:
        raise ValueError(f"run_data holds {run_data.split!r}, not the split {split!r} asked for")
    bank, reference, normalisers = run_data.bank, run_data.reference, run_data.normalisers
    evaluations = _saved_evaluations(out_dir, key)

    def record(entry: dict) -> None:
        evaluations.append(entry)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / EVALUATIONS_FILE).write_text(json.dumps({"run_key": key, "evaluations": evaluations}))

    if not evaluations and evaluate_start:
        torch.manual_seed(config.seed)
        initial = build_model(config.preset, config.num_classes).eval()
        if init_weights is not None:
            initial.load_state_dict(init_weights)
        metrics, clips = evaluate(initial, config, profile, reference, eval_clips, normalisers, suite)
        save_samples(clips, samples_path(out_dir, 0))
        record({"step": 0, "train_seconds": 0.0, **metrics})
    start = time.perf_counter()
    stops = [min(stop, config.steps) for stop in range(eval_every, config.steps + eval_every, eval_every)]
    for stop in stops:
        if stop != stops[-1] and stop <= trained:
            # evaluated before an interruption (or, if the process died between checkpoint and
            # evaluation, lost: those weights are gone); the last one is redone for its samples
            continue
        evaluations[:] = [e for e in evaluations if e["step"] < stop]
        result = train(
            config,
            bank,
            out_dir,
            policy=policy,
            stop_after=stop,
            progress=progress,
            init_weights=init_weights,
        )
        metrics, clips = evaluate(result.model, config, profile, reference, eval_clips, normalisers, suite)
        title = f"step {stop} of {config.steps}"
        save_strip(clips[:8], out_dir / "samples" / f"step_{stop:06d}.png", provenance_block, title=title)
        save_samples(clips, samples_path(out_dir, stop))  # for curves measured later (run_samples)
        record({"step": stop, "train_seconds": round(result.total_seconds, 1), **metrics})
        if max_train_seconds is not None and result.total_seconds >= max_train_seconds:
            break
    # the floor: how far the training clips themselves are from the held-out ones
    floor = frechet_video_distance(bank.float_clips(torch.arange(len(bank))), reference)
    report = {
        "split": split,
        "train_clips": len(bank),
        "parameters": count_parameters(result.model),
        "train_config": config.to_dict(),
        "timestep_policy": key["timestep_policy"],
        "run_key": key,
        "train_seconds": round(result.total_seconds, 1),
        "mixed_precision": result.mixed_precision,  # of the last chunk (a resumed run may have changed it)
        "wall_seconds": round(time.perf_counter() - start, 1),
        "evaluations": evaluations,
        "frechet_distance_train_vs_heldout": floor,
        "final": evaluations[-1],
        "loss_history": result.history,
    }
    block = provenance_block or {}
    write_result(out_dir / REPORT_FILE, report, block)
    figure = training_figure(report)
    if block:
        stamp(figure, block)
    figure.savefig(out_dir / "training.png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    save_strip(clips[:8], out_dir / "samples.png", block)
    torch.save(clips, out_dir / "samples.pt")
    return report


def samples_path(out_dir: str | Path, step: int) -> Path:
    return Path(out_dir) / "samples" / f"step_{step:06d}.pt"


def save_samples(clips: torch.Tensor, path: Path) -> None:
    """Save an evaluation's samples ``(N, 3, F, H, W)`` in [0, 1] as 8-bit (what a video file keeps)."""
    atomic_save({"clips": (clips.clamp(0, 1) * 255).round().to(torch.uint8)}, path)


def run_samples(out_dir: str | Path) -> dict[int, torch.Tensor]:
    """The samples a run saved at each of its evaluations (those ``evaluations.json`` lists: files
    left by earlier evaluation settings are not read), ``{step: (N, 3, F, H, W) in [0, 1]}`` in step
    order: measure them with any metric (``tqd_lite.quality.targets.measure``) after the fact."""
    out_dir = Path(out_dir)
    if not (out_dir / EVALUATIONS_FILE).is_file():
        raise FileNotFoundError(f"{out_dir} is not a training run folder (no {EVALUATIONS_FILE})")
    steps = [e["step"] for e in load_json(out_dir / EVALUATIONS_FILE, "evaluations file")["evaluations"]]
    found = {}
    for step in steps:
        path = samples_path(out_dir, step)
        if not path.is_file():
            continue  # evaluated before runs kept their samples
        state = load_tensors(path, "run samples file")  # tensors only: no code runs
        if not isinstance(state, dict) or not isinstance(state.get("clips"), torch.Tensor):
            raise ValueError(f"{path} is not a samples file (expected a dict with a uint8 'clips' tensor)")
        found[step] = state["clips"].float() / 255
    return found


def save_strip(clips: torch.Tensor, path: Path, block: dict | None = None, title: str | None = None) -> None:
    """Save clips as a frame strip (one row per clip), stamped with the provenance if given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = mosaic_figure(clips)
    if title:
        figure.suptitle(title, fontsize=8)
    if block:
        stamp(figure, block)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def training_figure(report: dict):
    """Loss (left: training, and the fixed-bucket validation loss where the evaluations have it) and
    the samples' Fréchet distance to held-out golden clips (right), over steps."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.2))
    steps = [h["step"] for h in report["loss_history"]]
    left.plot(steps, [h["loss"] for h in report["loss_history"]], lw=1, label="training")
    evals = report["evaluations"]
    validated = [e for e in evals if "fixed_bucket_loss" in e]  # reports from before it have none
    if validated:
        left.plot(
            [e["step"] for e in validated],
            [e["fixed_bucket_loss"] for e in validated],
            "o-",
            ms=3,
            label="fixed-bucket validation",
        )
    left.set(xlabel="step", ylabel="loss", yscale="log", title="loss")
    left.legend(fontsize=8)
    if "fd" in evals[-1]:  # measured by the suite: its FD against golden renders, beside its floor
        right.plot([e["step"] for e in evals], [e["fd"] for e in evals], "o-")
        right.axhline(evals[-1]["floor_fd"], color="0.5", ls="--", label="golden renders (floor)")
        title = "samples vs golden renders (suite)"
    else:
        right.plot([e["step"] for e in evals], [e["frechet_distance"] for e in evals], "o-")
        right.axhline(
            report["frechet_distance_train_vs_heldout"], color="0.5", ls="--", label="training clips"
        )
        title = "samples vs held-out golden"
    right.set(xlabel="step", ylabel="Fréchet distance", yscale="log", title=title)
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure


def loss_curve(history: list[dict], ax=None):
    """The loss history of a :class:`~tqd_lite.diffusion.train.TrainResult`, on a log scale."""
    ax = ax or plt.subplots(figsize=(5, 3))[1]
    ax.plot([h["step"] for h in history], [h["loss"] for h in history], lw=1)
    ax.set(xlabel="step", ylabel="loss", yscale="log")
    return ax


def checkpoint_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / CHECKPOINT_FILE
