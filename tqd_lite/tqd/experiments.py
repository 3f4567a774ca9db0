"""TQD's training experiments on the toy world (docs/papers.md section 1, "The experiments").

As the paper fine-tunes a pretrained video model (Wan-T2V 1.3B) on each data set, every run here
fine-tunes one **base image model** (the recipe's frame stage: single frames of Set-A, trained
once, :func:`ensure_base_model`) on whole clips of its split, with its arm's timestep policy, for
the same steps. Each run's final samples are measured by the sanity-tested metric suite
(:mod:`tqd_lite.quality.suite`), and where the profile asks, by the fixed-bucket validation loss
on held-out golden clips (:mod:`tqd_lite.diffusion.validation`).

    main      uniform baseline vs TQD (Beta sampler + quality dropout) on Set-A, Set-B and Set-C
    ablation  on Set-A: TQD's adaptive timestep only, quality dropout only (both: main's TQD)
    controls  on Set-A: TQD with its timesteps shuffled between the clips of a batch (the same
              marginal, per-clip assignment broken); SANA-Video 2.0's +-1.1 logit offset per
              quality class; Min-SNR-5 weights with uniform timesteps (a reweighting, not a resampling)
    kappa     on Set-A: TQD with kappa_max 4 and 16 (main: 8)
    reading   on Set-A: the SD3 logit-normal baseline, and TQD's reading B on that base (no dropout)
    gate      on Set-A: the hard-gate baseline (motion-rich clips only at high noise, ...; no dropout)

Every arm but Min-SNR's trains with the plain v loss (see :func:`_run_settings`).

A run is :func:`~tqd_lite.diffusion.training_run.run_training` with the arm's policy; its ``train.json``
is its result file. A run whose result file was made with the same settings is skipped and an
interrupted one resumes, so ``reproduce tqd`` can be stopped and started at will. Seeds pair
the arms: seed ``s`` fine-tunes every arm from the same base weights with the same draws of
clips and noise where the policies allow, and samples it from the same noise, so a comparison is
the mean over seeds of the per-seed difference, with its 95% CI and a Benjamini-Hochberg q-value
(:mod:`tqd_lite.tqd.report`).
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from tqd_lite.diffusion.train import TrainConfig, train
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
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.quality.targets import reference_rows
from tqd_lite.runs import SAMPLES_FILE, kept_samples, samples_strip, save_figures, select_groups
from tqd_lite.stats import paired_difference
from tqd_lite.tqd.report import METRICS, SPLIT_LABELS, SUMMARY_FILE, markdown_table, results_figure, summarise
from tqd_lite.tqd.sampler import TimestepPolicy
from tqd_lite.tqd.spectrum import (
    load_sample_measures,
    sample_measures,
    save_sample_measures,
    spectrum_matched_distances,
)

BASELINE = TimestepPolicy()
TQD = TimestepPolicy(sampler="tqd", dropout="hard")  # kappa_base 2, kappa_max 8, reading A


MIN_SNR_GAMMA = 5.0  # Hang et al.'s default, the Min-SNR arm's weighting


@dataclass(frozen=True)
class Arm:
    """One experimental condition: a split to train on, a timestep policy and a loss weighting
    (``snr_gamma``: Min-SNR-gamma; None, the plain v loss, in every arm but one control)."""

    group: str
    name: str
    split: str
    policy: TimestepPolicy
    snr_gamma: float | None = None

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
    # TQD's levels drawn from another clip's scores in the batch: its timestep distribution in
    # expectation, while no clip trains at its own; dropout still reads each clip's own scores
    Arm("controls", "tqd_shuffled", "set_a", dataclasses.replace(TQD, assignment="shuffled")),
    # SANA-Video 2.0's offsets on a logit-normal(0, 1) base: compare it with that base too
    Arm("controls", "sana_offset", "set_a", TimestepPolicy(sampler="logit_offset")),
    Arm("controls", "min_snr5", "set_a", BASELINE, snr_gamma=MIN_SNR_GAMMA),
    Arm("kappa", "kappa_max=4", "set_a", dataclasses.replace(TQD, kappa_max=4.0)),
    Arm("kappa", "kappa_max=16", "set_a", dataclasses.replace(TQD, kappa_max=16.0)),
    Arm("reading", "logit_normal", "set_a", TimestepPolicy(sampler="logit_normal")),
    # the samplers alone, without quality dropout, so they compare like with like
    Arm("reading", "tqd_B", "set_a", TimestepPolicy(sampler="tqd", reading="B", base="logit_normal")),
    Arm("gate", "hard_gate", "set_a", TimestepPolicy(sampler="hard_gate")),
)
GROUPS = ("main", "ablation", "controls", "kappa", "reading", "gate")
BASE_SPLIT = "set_a"  # the base image model learns on single frames of Set-A (golden clips among them)


def select_arms(groups=GROUPS) -> list[Arm]:
    """The arms of ``groups``, in the order of :data:`ARMS`."""
    return select_groups(ARMS, groups, GROUPS, "TQD")


def arm_seeds(arm: Arm, profile: Profile) -> tuple[int, ...]:
    """The seeds of an arm: all of the profile's for the main table and the ablation, the
    variant seeds for the controls and the kappa, reading and gate arms."""
    return profile.tqd_seeds if arm.group in ("main", "ablation") else profile.tqd_variant_seeds


def run_folder(out_dir: Path, arm: Arm, seed: int) -> Path:
    return Path(out_dir) / "runs" / f"{arm.split}-{arm.name}-seed{seed}"


def tqd_pool_profile(profile: Profile) -> Profile:
    """The profile the runs train with: ``profile.tqd_pool``'s clip size, model and recipe, a pool of
    ``profile.tqd_pool_size`` clips (its own folder when that is not the pool profile's size) and
    ``profile.tqd_validation_clips`` held-out clips for the fixed-bucket validation loss."""
    pool = get_profile(profile.tqd_pool)
    changes = {"validation_clips": profile.tqd_validation_clips}
    if profile.tqd_pool_size != pool.pool_size:
        changes |= {"name": f"{pool.name}-pool{profile.tqd_pool_size}", "pool_size": profile.tqd_pool_size}
    return pool.with_overrides(**changes)


def base_config(profile: Profile) -> TrainConfig:
    """The base image model's training: the pool profile's recipe (its timestep density, plain v
    loss, cosine decay), every step on single frames (the recipe's frame stage)."""
    pool = tqd_pool_profile(profile)
    return default_config(pool, 0, steps=profile.tqd_base_steps, frame_steps=profile.tqd_base_steps)


def ensure_base_model(
    profile: Profile, out_dir: Path, data: dict[str, RunData], block: dict, progress: bool = True
) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(record, EMA weights)`` of the base image model in ``out_dir/base``: loaded if finished
    with today's settings, else trained (resuming from its checkpoint) and saved as safetensors.
    ``data``: loaded splits (``{split: RunData}``), Set-A added if missing."""
    folder = Path(out_dir) / "base"
    config = base_config(profile)
    record = {"train_config": config.to_dict(), "split": BASE_SPLIT, "pool_size": profile.tqd_pool_size}
    weights, report = folder / "model.safetensors", folder / "base.json"
    if (
        weights.is_file()
        and report.is_file()
        and load_json(report, "base model report").get("record") == record
    ):
        return record, load_file(weights)
    pool = tqd_pool_profile(profile)
    if BASE_SPLIT not in data:
        data[BASE_SPLIT] = load_run_data(pool, BASE_SPLIT, data_seed=0, progress=progress)
    result = train(config, data[BASE_SPLIT].bank, folder, progress=progress)
    state = {k: v.contiguous() for k, v in result.model.state_dict().items()}
    save_file(state, weights)
    write_result(report, {"record": record, "train_seconds": round(result.total_seconds, 1)}, block)
    checkpoint_path(folder).unlink(missing_ok=True)
    return record, state


def _run_settings(profile: Profile, seed: int, arm: Arm | None = None):
    """(pool profile, training config) of one run: fine-tuning on clips with the recipe's learning
    rate and decay, the TQD sizes."""
    pool = tqd_pool_profile(profile)
    # The plain v loss (snr_gamma=None, as in the recipe) except in the Min-SNR control:
    # Min-SNR-gamma weighs both ends of the schedule down (v prediction: 0.14 at t = 100, 0.02 at
    # t = 900), exactly where TQD sends lopsided clips, so it would mute the policy under test.
    # No frame stage (the base model was it); each arm's policy draws the timesteps, not the
    # recipe's density (timestep_logit_mean).
    config = default_config(
        pool,
        seed,
        steps=profile.tqd_steps,
        batch_size=profile.tqd_batch_size,
        snr_gamma=arm.snr_gamma if arm is not None else None,
        frame_steps=0,
        timestep_logit_mean=None,
    )
    return pool, config


def _compact_samples(folder: Path, suite: MetricSuite) -> None:
    """Drop the checkpoint and the evaluation's stored clips (a finished run needs only its result
    file), keep 8 samples as uint8 and, of all of them, the measures the spectrum-matched control
    reads (:mod:`~tqd_lite.tqd.spectrum`)."""
    checkpoint_path(folder).unlink(missing_ok=True)
    shutil.rmtree(folder / "samples", ignore_errors=True)
    samples = folder / "samples.pt"
    if samples.exists():
        clips = load_tensors(samples, "stored samples")
        save_sample_measures(folder, sample_measures(clips, suite))
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
    pool = tqd_pool_profile(profile)
    data: dict[str, RunData] = {}  # loaded once per split, only if some run of it has work left
    started = time.perf_counter()
    init = ensure_base_model(profile, out_dir, data, block, progress)
    suite = MetricSuite.load(pool.frame_size, pool.num_frames)
    # seed by seed, so that an interrupted reproduction leaves whole seeds of paired arms
    seeds = sorted({seed for arm in arms for seed in arm_seeds(arm, profile)})
    jobs = [(arm, seed) for seed in seeds for arm in arms if seed in arm_seeds(arm, profile)]
    for arm, seed in tqdm(jobs, desc="TQD runs", disable=not progress):
        _, config = _run_settings(profile, seed, arm)
        folder = run_folder(out_dir, arm, seed)
        key = run_key(
            config,
            arm.policy,
            arm.split,
            config.steps,
            profile.tqd_eval_clips,
            False,
            init=init[0],
            suite=True,
        )
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
            init=init,
            suite=suite,
        )
        _compact_samples(folder, suite)
    runs = collect_runs(profile, out_dir, groups)
    policies = {arm.key: arm.policy.to_dict() for arm in ARMS if arm.key in runs}
    spectrum = spectrum_control(profile, out_dir, suite)
    summary = summarise(runs, summary_settings(profile), policies, spectrum)
    summary["reference"] = reference_metrics(profile, suite, data, progress)
    summary["draw_shares"] = {
        arm.key: draw_shares(data[arm.split].bank.mq, data[arm.split].bank.vq, arm.policy)
        for arm in ARMS
        if arm.key in runs
    }
    summary["wall_seconds_this_call"] = round(time.perf_counter() - started, 1)
    write_result(out_dir / SUMMARY_FILE, summary, block)
    (out_dir / "summary.md").write_text(markdown_table(summary))
    main_arms = [a for a in arms if a.group == "main"]
    figures = {
        "tqd_results.png": results_figure(summary),
        "samples.png": samples_figure(out_dir, profile.tqd_seeds[0], main_arms, real=_real_rows(data)),
    }
    save_figures(out_dir, figures, block)
    return summary


def samples_figure(
    out_dir: str | Path,
    seed: int,
    arms: list[Arm] | None = None,
    per_arm: int = 2,
    real: dict[str, torch.Tensor] | None = None,
):
    """The first samples of each arm's run with ``seed`` (the same noise in every arm), one row
    per clip, under the first clips of each of ``real`` (``{label: (N, 3, F, H, W) in [0, 1]}``);
    None if no run has samples."""
    found = []
    for arm in arms if arms is not None else select_arms(("main",)):
        path = run_folder(Path(out_dir), arm, seed) / SAMPLES_FILE
        if path.is_file():
            found.append((load_tensors(path, "stored samples"), arm.key))
    if not found:
        return None
    found += [(kept_samples(clips), f"real: {label}") for label, clips in (real or {}).items()]
    return samples_strip(found, per_arm)


def spectrum_control(profile: Profile, out_dir: str | Path, suite: MetricSuite) -> dict:
    """Per split: TQD against the baseline with both arms' samples cut down to one high-frequency
    energy and contrast (:func:`~tqd_lite.tqd.spectrum.spectrum_matched_distances`), per seed and
    as seed-paired differences ``TQD - baseline`` of the matched sets' FD and KID (lower: TQD's
    closer to golden). Seeds whose matched sets are too small are left out."""
    result = {}
    for split in SPLIT_LABELS:
        arms = {a.name: a for a in ARMS if a.group == "main" and a.split == split}
        per_seed = {}
        for seed in profile.tqd_seeds:
            treated = load_sample_measures(run_folder(Path(out_dir), arms["tqd"], seed))
            baseline = load_sample_measures(run_folder(Path(out_dir), arms["baseline"], seed))
            if treated is not None and baseline is not None:
                matched = spectrum_matched_distances(treated, baseline, suite.reference, seed=seed)
                if matched is not None:
                    per_seed[seed] = matched
        if per_seed:
            entry = {"per_seed": per_seed}
            for distance in ("fd", "kid"):
                differences = [
                    r[f"{distance}_treated_matched"] - r[f"{distance}_baseline_matched"]
                    for r in per_seed.values()
                ]
                entry[f"{distance}_difference"] = paired_difference(differences, -1)
            result[split] = entry
    return result


def _real_rows(data: dict[str, RunData]) -> dict[str, torch.Tensor]:
    """Real clips to show under the samples: held-out golden, and the first clips of Set-B."""
    rows = {"held-out golden": next(iter(data.values())).reference}
    if "set_b" in data:
        rows["Set-B"] = data["set_b"].bank.float_clips(torch.arange(2))
    return rows


def summary_settings(profile: Profile) -> dict:
    """What every run of ``profile`` is made with, for the summary."""
    pool, config = _run_settings(profile, profile.tqd_seeds[0])
    return {
        "pool_profile": pool.name,
        "pool_size": pool.pool_size,
        "frame_size": pool.frame_size,
        "num_frames": pool.num_frames,
        "preset": config.preset,
        "base_steps": profile.tqd_base_steps,
        "steps": profile.tqd_steps,
        "batch_size": profile.tqd_batch_size,
        "learning_rate": config.learning_rate,
        "eval_clips": profile.tqd_eval_clips,
        "validation_clips": profile.tqd_validation_clips,
        "sample_steps": pool.sample_steps,
        "seeds": list(profile.tqd_seeds),
        "variant_seeds": list(profile.tqd_variant_seeds),
    }


def collect_runs(profile: Profile, out_dir: str | Path, groups=GROUPS) -> dict[str, dict[int, dict]]:
    """``{arm key: {seed: final metrics}}`` of the finished runs found in ``out_dir`` (the suite's
    metrics of :data:`~tqd_lite.tqd.report.METRICS` that the run has)."""
    runs: dict[str, dict[int, dict]] = {}
    for arm in select_arms(groups):
        for seed in arm_seeds(arm, profile):
            path = run_folder(Path(out_dir), arm, seed) / "train.json"
            if path.is_file():
                report = load_json(path, "run report")
                metrics = {m: report["final"][m] for m in METRICS if m in report["final"]}
                runs.setdefault(arm.key, {})[seed] = {**metrics, "train_seconds": report["train_seconds"]}
    return runs


def reference_metrics(
    profile: Profile, suite: MetricSuite, data: dict[str, RunData] | None = None, progress: bool = False
) -> dict:
    """The suite's measures of real clips, to read the samples' numbers against: golden renders
    (sharp, and blurred at 0.5 and 0.25, the targets' rows), each training split and the held-out
    golden clips, ``profile.tqd_eval_clips`` of each (as many as a run's samples; all the held-out
    clips where there are fewer, so their FD carries a larger count bias).

    ``data``: splits already loaded (``{split: RunData}``); missing ones are loaded into it.
    """
    pool, n = tqd_pool_profile(profile), profile.tqd_eval_clips
    data = {} if data is None else data
    result = reference_rows(suite, num_clips=n)
    for split in SPLIT_LABELS:
        if split not in data:
            data[split] = load_run_data(pool, split, data_seed=0, progress=progress)
        bank = data[split].bank
        result[split] = suite.evaluate(bank.float_clips(torch.arange(min(n, len(bank)))))
    result["heldout_golden"] = suite.evaluate(data["set_a"].reference[:n])  # the same in every split
    return result


def draw_shares(mq, vq, policy: TimestepPolicy, seed: int = 0, draws_per_clip: int = 20) -> dict:
    """Where a policy's training signal goes on a split (clips' scores ``mq``, ``vq``): of the loss
    weight drawn in the cleaner half of the schedule (level < 0.5), the share on sharp clips
    (``vq >= 0.5``), and of that in the noisier half, the share on moving clips (``mq >= 0.5``).
    Uniform draws give each the split's own share; TQD moves both up."""
    generator = torch.Generator().manual_seed(seed)
    # each clip draws_per_clip times, in random order, so that a shuffled assignment (the whole
    # array as one batch) deals each draw another clip's scores
    order = torch.randperm(len(mq) * draws_per_clip, generator=generator)
    mq = torch.as_tensor(mq, dtype=torch.float64).repeat_interleave(draws_per_clip)[order]
    vq = torch.as_tensor(vq, dtype=torch.float64).repeat_interleave(draws_per_clip)[order]
    levels, weights = policy.draw(mq, vq, generator, dtype=torch.float64)
    weights = weights.double()
    clean, sharp, moving = levels < 0.5, vq >= 0.5, mq >= 0.5
    return {
        "clean_half_on_sharp": float((weights * clean * sharp).sum() / (weights * clean).sum()),
        "noisy_half_on_moving": float((weights * ~clean * moving).sum() / (weights * ~clean).sum()),
    }


def fd_plateau_step(evaluations: list[dict]) -> int:
    """Where a quality-vs-steps curve flattens on the suite's FD: the first evaluation after which
    every later FD lies inside its 95% interval (``fd_low``, ``fd_high``; the last one if none)."""
    for i, entry in enumerate(evaluations):
        if all(entry["fd_low"] <= later["fd"] <= entry["fd_high"] for later in evaluations[i + 1 :]):
            return entry["step"]
    raise ValueError("no evaluations")


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
