"""Experiment profiles: one code path, three sizes.

``quick`` runs on a CPU in CI (seconds to minutes); ``full`` is the real reproduction
(at most about two hours on two CPU cores); ``gpu`` is ``full`` with the golden model sized for
about 30 minutes on one modern GPU. Every experiment takes a
:class:`Profile` and reads its sizes from it, so the two profiles never diverge in logic.

The active profile comes from the ``--profile`` flag of the CLI, or, in notebooks and
tests, from the environment variable ``TQD_PROFILE`` (default ``quick``).
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass, replace

from tqd_lite.fields import check_field_types, check_ranges

PROFILE_ENV_VAR = "TQD_PROFILE"


OPTIONAL_SIZES = ("validation_clips", "tqd_validation_clips")  # integer fields for which 0 means "not done"


@dataclass(frozen=True)
class Profile:
    """Sizes of every experiment for one profile."""

    name: str
    # The toy video world.
    frame_size: int  # H = W of every clip, in pixels
    num_frames: int  # F
    pool_size: int  # clips in the raw web-like pool
    # The Fréchet-distance encoder (trained on rendered clips, see tqd_lite.quality.encoder).
    encoder_train_clips: int
    encoder_steps: int
    # How many clips the metric demonstrations use per set.
    metric_clips: int
    # The video diffusion model (tqd_lite.diffusion.model presets, tqd_lite.diffusion.train) and
    # its recipe (issue 17): the first train_frame_share of the steps learn on single frames, then
    # clips; plain v loss, cosine decay from train_learning_rate, the schedule's SNR times
    # train_snr_shift, timesteps from a logit-normal of mean train_logit_mean (None: uniform)
    model_preset: str
    train_steps: int
    train_batch_size: int
    train_frame_share: float
    train_learning_rate: float
    train_snr_shift: float
    train_logit_mean: float | None
    eval_every: int  # steps between sample-quality evaluations of a training run
    eval_clips: int  # clips sampled per evaluation (at least the targets' 96, quality.targets)
    # held-out clips each evaluation scores by the fixed-bucket validation loss
    # (diffusion.validation); 0: none
    validation_clips: int
    sample_steps: int  # DDIM steps when sampling for evaluation
    # The gradient-similarity analysis (tqd_lite.tqd.gradient_analysis).
    grad_timesteps: tuple[int, ...]
    grad_pairs: int  # independent pairs of golden batches per timestep
    grad_batch_size: int
    grad_strengths: tuple[float, ...]
    # TQD's training experiments (tqd_lite.tqd.experiments): a base image model pretrained once on
    # the frames of Set-A, then fine-tuned on clips once per arm and seed, as the paper fine-tunes
    # a pretrained video model.
    tqd_pool: str  # the profile whose clip size, model and recipe the runs use
    tqd_pool_size: int  # clips in TQD's pool (that profile's pool if equal to its pool_size)
    tqd_base_steps: int  # frame-stage steps of the base image model
    tqd_steps: int  # fine-tuning steps of each run, on whole clips
    tqd_batch_size: int
    tqd_eval_clips: int  # clips sampled to measure each run (by the metric suite)
    tqd_validation_clips: int  # held-out golden clips of the fixed-bucket validation loss; 0: none
    tqd_seeds: tuple[int, ...]  # seeds of the main table and the ablation
    tqd_variant_seeds: tuple[int, ...]  # seeds of the controls and the kappa, reading and gate arms
    # MCM's distillation experiments (tqd_lite.mcm.experiments): a teacher trained once on the
    # pool profile's motion-rich clips, then short distillation runs, one per arm and seed.
    mcm_pool: str  # the profile whose pool, clip size and model the teacher and students use
    mcm_steps: int  # distillation steps per run
    mcm_batch_size: int
    mcm_images: int  # high-quality images the discriminator sees as real
    mcm_eval_clips: int  # clips sampled per step count to measure a sampler
    mcm_seeds: tuple[int, ...]  # seeds of the main rows (teacher, LCM, MCM)
    mcm_variant_seeds: tuple[int, ...]  # seeds of the other arms

    def __post_init__(self):
        check_field_types(self)
        hints = typing.get_type_hints(Profile)
        sizes = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if hints[f.name] is int}
        # every size at least 1, the optional ones (0: off) at least 0
        check_ranges(self, {name: value >= int(name not in OPTIONAL_SIZES) for name, value in sizes.items()})
        seeds = ("tqd_seeds", "tqd_variant_seeds", "mcm_seeds", "mcm_variant_seeds")
        check_ranges(
            self, {name: len(getattr(self, name)) >= 1 and min(getattr(self, name)) >= 0 for name in seeds}
        )
        check_ranges(
            self,
            {
                "train_frame_share": 0 <= self.train_frame_share < 1,
                "train_learning_rate": self.train_learning_rate > 0,
                "train_snr_shift": self.train_snr_shift > 0,
            },
        )

    def with_overrides(self, **changes) -> Profile:
        """A copy with some sizes changed (for experiments and tests)."""
        return replace(self, **changes)


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick",
        frame_size=16,
        num_frames=8,
        pool_size=800,
        encoder_train_clips=3072,
        encoder_steps=600,
        metric_clips=96,
        # about 15 minutes on 2 CPU cores (0.18 s per step of 4 clips, benchmarks/bench_train.py)
        model_preset="tiny-clipnorm-all",
        train_steps=4500,
        train_batch_size=4,
        train_frame_share=0.5,
        train_learning_rate=1e-3,
        train_snr_shift=4.0,  # measured at 16 px (README, "Steps are the lever")
        # toward high noise: flicker, sprite count and distance nearer golden's than uniform draws
        # (README, "More levers at the quick size"; golden_quick_highnoise15)
        train_logit_mean=1.5,
        eval_every=1125,
        eval_clips=96,
        # none: 32 clips cost 5.6 s per evaluation at 16 px on 2 cores, and TQD's runs, which train
        # this profile's model in every profile, make 22 evaluations in make reproduce
        validation_clips=0,
        sample_steps=25,
        grad_timesteps=(5, 25, 100, 250, 500, 750, 950),
        grad_pairs=3,
        grad_batch_size=8,
        grad_strengths=(1.0,),
        tqd_pool="quick",
        tqd_pool_size=800,
        tqd_base_steps=8,
        tqd_steps=8,
        tqd_batch_size=8,
        tqd_eval_clips=8,  # quick: 8-step runs, their numbers only show the table works
        tqd_validation_clips=0,
        tqd_seeds=(0,),
        tqd_variant_seeds=(0,),
        mcm_pool="quick",
        mcm_steps=6,
        mcm_batch_size=8,
        mcm_images=256,
        mcm_eval_clips=16,
        mcm_seeds=(0,),
        mcm_variant_seeds=(0,),
    ),
    "full": Profile(
        name="full",
        frame_size=32,
        num_frames=8,
        pool_size=4000,
        encoder_train_clips=8192,
        encoder_steps=2000,
        metric_clips=256,
        # measured on 2 CPU cores (results/full/golden_model/train.json): 0.67 s a step of the clip
        # stage run alone, so 8,000 steps take about 90 minutes of the 2 hours. An evaluation of
        # 256 clips took about 10.5 minutes, so the five of a run sample 96 clips each instead
        # (about 4 minutes each, the targets' minimum), about 20 minutes in all
        model_preset="small-clipnorm-all",
        train_steps=8000,
        train_batch_size=4,
        train_frame_share=0.5,
        train_learning_rate=1e-3,
        train_snr_shift=1.0,  # the size rule: the SNR of a frame grows with its pixels, 4x from 16 to 32 px
        train_logit_mean=None,  # uniform: the logit-normal draw is measured at 16 px only
        eval_every=2000,
        eval_clips=96,
        validation_clips=32,
        sample_steps=25,  # 50 steps would double each evaluation's CPU time
        # 20 golden batches per timestep; the v model only (the epsilon comparison is quick's):
        # 82 min on 2 CPU cores with --method loop (results/full/gradients/), not yet timed on a GPU
        grad_timesteps=(5, 25, 100, 250, 400, 550, 700, 850, 950),
        grad_pairs=10,
        grad_batch_size=8,
        grad_strengths=(0.5, 1.0),
        # the quick profile's 16x16 clips, model and recipe, on a pool of 4,000 clips (Set-C: 644
        # golden clips, not the quick pool's 124, so runs do not memorise it). The base image model
        # is the recipe's frame stage (2,250 steps); the fine-tuning length is where the baseline's
        # quality-vs-steps curve flattens (benchmarks/tqd_convergence.py, README "TQD on
        # trustworthy ground")
        tqd_pool="quick",
        tqd_pool_size=4000,
        tqd_base_steps=2250,
        tqd_steps=1125,
        tqd_batch_size=4,
        tqd_eval_clips=256,
        tqd_validation_clips=32,
        tqd_seeds=(0, 1, 2, 3, 4),
        tqd_variant_seeds=(0, 1, 2),
        # the quick pool's 16x16 clips and its tiny model, like TQD's runs. Measured on 2 CPU
        # cores: a plain LCM step of 16 clips takes 1.14 s (two guided teacher passes, student
        # forward and backward, target); the teacher's guided DDIM 1.5 s per clip at 50 steps.
        # With the guidance sweep (12 min) and the teacher's rows (20 min), 200 steps keep the
        # 13 distillations within about 2 h; 300 would not
        mcm_pool="quick",
        mcm_steps=200,
        mcm_batch_size=16,
        mcm_images=2048,
        mcm_eval_clips=256,
        mcm_seeds=(0, 1, 2),
        mcm_variant_seeds=(0,),
    ),
}

# gpu: the full profile's clips, pool and experiments, with the golden model sized for one modern
# GPU, about 30 minutes in all. Estimated, not yet run: the H200 lease measured small-clipnorm-all
# at 32 px and batch 128 under bf16 at 0.124 s a step (results/benchmarks/gpu_probe/throughput.json;
# small batches are launch-bound there, 0.07 s a step at 16), so 10,000 steps take about 21 minutes,
# plus four evaluations; accelerate picks the GPU and bf16 by itself (diffusion.train). The
# experiments after it keep the full profile's sizes, made for 2 CPU cores (TQD's tiny-model runs
# are launch-bound on a GPU: README, "How long TQD's runs fine-tune").
PROFILES["gpu"] = PROFILES["full"].with_overrides(
    name="gpu", train_steps=10000, train_batch_size=128, eval_every=2500
)


def override_fields(base, overrides: dict, what: str):
    """A copy of the dataclass ``base`` with ``overrides`` (``--set`` values, config files) applied.

    Unknown names are a clear error naming the ``what`` settings and the known ones; a list given
    for a tuple field becomes a tuple, and a single value there is an error.
    """
    known = {f.name: f for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {unknown}; known: {list(known)}")
    values = {}
    for name, value in overrides.items():
        if "tuple" in str(known[name].type):
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"{name} must be a list, e.g. --set {name}=[{value}], got {value!r}")
            value = tuple(value)
        values[name] = value
    return replace(base, **values)


def profile_of_frame_size(size: int) -> Profile:
    """The profile whose clips are ``size`` pixels wide (what a model trained at that size was made for)."""
    found = [p for p in PROFILES.values() if p.frame_size == size]
    if not found:
        sizes = sorted({p.frame_size for p in PROFILES.values()})
        raise ValueError(f"no profile has {size}x{size} clips; the profiles' sizes are {sizes}")
    return found[0]


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, or the one named by ``$TQD_PROFILE`` (default ``quick``)."""
    name = name if name is not None else os.environ.get(PROFILE_ENV_VAR, "quick")
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from argument or ${PROFILE_ENV_VAR}); "
            f"expected one of {sorted(PROFILES)}"
        )
    return PROFILES[name]
