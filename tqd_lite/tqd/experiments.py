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
import time
from dataclasses import dataclass
from pathlib import Path

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
from tqd_lite.files import load_json, load_tensors
from tqd_lite.paths import results_dir
from tqd_lite.profiles import Profile, get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.metrics import evaluate_clips
from tqd_lite.quality.sanity_run import write_old_metrics_summary
from tqd_lite.runs import SAMPLES_FILE, kept_samples, samples_strip, save_figures, select_groups
from tqd_lite.tqd.report import METRICS, SPLIT_LABELS, SUMMARY_FILE, markdown_table, results_figure, summarise
from tqd_lite.tqd.sampler import TimestepPolicy

BASELINE = TimestepPolicy()
TQD = TimestepPolicy(sampler="tqd", dropout="hard")  # kappa_base 2, kappa_max 8, reading A


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


def select_arms(groups=GROUPS) -> list[Arm]:
    """The arms of ``groups``, in the order of :data:`ARMS`."""
    return select_groups(ARMS, groups, GROUPS, "TQD")


def arm_seeds(arm: Arm, profile: Profile) -> tuple[int, ...]:
    """The seeds of an arm: all of the profile's for the main table and the ablation, the
    variant seeds for the kappa, reading and gate arms (the full profile's time budget)."""
    return profile.tqd_seeds if arm.group in ("main", "ablation") else profile.tqd_variant_seeds


def run_folder(out_dir: Path, arm: Arm, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{arm.split}-{arm.name}-seed{seed}"


def _run_settings(profile: Profile, seed: int):
    """(pool profile, training config) of one run: the pool profile's model, the TQD sizes."""
    pool = get_profile(profile.tqd_pool)
    # The plain v loss (snr_gamma=None, as in the recipe): Min-SNR-gamma weighs both ends of
    # the schedule down (v prediction: 0.14 at t = 100, 0.02 at t = 900), exactly where TQD sends
    # lopsided clips, so it would mute the policy under test.
    # No frame stage: TQD's timesteps act on clips, and its runs are shorter than the recipe's
    # frame stage ("TQD on trustworthy ground" sizes them anew).
    # Each arm's policy draws the timesteps, not the recipe's density (timestep_logit_mean).
    config = default_config(
        pool,
        seed,
        steps=profile.tqd_steps,
        batch_size=profile.tqd_batch_size,
        snr_gamma=None,
        frame_steps=0,
        timestep_logit_mean=None,
    )
    return pool, config


def _compact_samples(folder: Path) -> None:
    """Drop the checkpoint (a finished run needs only its result file) and keep 8 samples as uint8."""
    checkpoint_path(folder).unlink(missing_ok=True)
    samples = folder / "samples.pt"
    if samples.exists():
        clips = load_tensors(samples, "stored samples")
        torch.save(kept_samples(clips), folder / SAMPLES_FILE)
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
    runs = collect_runs(profile, out_dir, groups)
    policies = {arm.key: arm.policy.to_dict() for arm in ARMS if arm.key in runs}
    summary = summarise(runs, summary_settings(profile), policies)
    summary["reference"] = reference_metrics(get_profile(profile.tqd_pool), data, progress)
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    write_result(out_dir / SUMMARY_FILE, summary, block)
    write_summary_markdown(out_dir, summary, profile)
    main_arms = [a for a in arms if a.group == "main"]
    figures = {
        "tqd_results.png": results_figure(summary),
        "samples.png": samples_figure(out_dir, profile.tqd_seeds[0], main_arms),
    }
    save_figures(out_dir, figures, block)
    return summary


def write_summary_markdown(out_dir: str | Path, summary: dict, profile: Profile) -> Path:
    """``summary.md``: the summary's table, then the note that these runs were measured with the old
    metrics (until "TQD on trustworthy ground" reruns them), with the sanity table's reference rows;
    ``reproduce sanity`` rewrites it when the table changes."""
    return write_old_metrics_summary(
        out_dir, markdown_table(summary), get_profile(profile.tqd_pool).frame_size
    )


def samples_figure(out_dir: str | Path, seed: int, arms: list[Arm] | None = None, per_arm: int = 2):
    """The first samples of each arm's run with ``seed`` (the same noise in every arm), one row
    per clip; None if no run has samples."""
    found = []
    for arm in arms if arms is not None else select_arms(("main",)):
        path = run_folder(Path(out_dir), arm, seed) / SAMPLES_FILE
        if path.is_file():
            found.append((load_tensors(path, "stored samples"), arm.key))
    return samples_strip(found, per_arm)


def summary_settings(profile: Profile) -> dict:
    """What every run of ``profile`` is made with, for the summary."""
    pool, config = _run_settings(profile, profile.tqd_seeds[0])
    return {
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
    }


def collect_runs(profile: Profile, out_dir: str | Path, groups=GROUPS) -> dict[str, dict[int, dict]]:
    """``{arm key: {seed: final metrics}}`` of the finished runs found in ``out_dir``."""
    runs: dict[str, dict[int, dict]] = {}
    for arm in select_arms(groups):
        for seed in arm_seeds(arm, profile):
            path = run_folder(Path(out_dir), arm, seed) / "train.json"
            if path.is_file():
                report = load_json(path, "run report")
                metrics = {m: report["final"][m] for m in METRICS}
                runs.setdefault(arm.key, {})[seed] = {**metrics, "train_seconds": report["train_seconds"]}
    return runs


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


def policy_on_corpus(table: dict, policy: TimestepPolicy, seed: int = 0, draws_per_clip: int = 20) -> dict:
    """Per clip category of a scored corpus: the policy's mean noise level, the share of draws
    above 0.5 (the noisier half) and the share of draws that quality dropout keeps."""
    generator = torch.Generator().manual_seed(seed)
    mq = torch.as_tensor(table["mq"], dtype=torch.float64).repeat_interleave(draws_per_clip)
    vq = torch.as_tensor(table["vq"], dtype=torch.float64).repeat_interleave(draws_per_clip)
    levels, weights = policy.draw(mq, vq, generator, dtype=torch.float64)
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
