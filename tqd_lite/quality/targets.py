"""Does a video model draw the toy world? The targets of "Models that generate the toy world".

A model's samples are measured by the metric suite (:mod:`tqd_lite.quality.suite`), beside golden
renders of the same world (fresh draws, not the suite's reference) and the same renders blurred,
and pass each target when:

* **sprites**: the tracker finds a sprite in at least ``SPRITE_SHARE_RATIO`` times as large a share
  of the samples as of the golden renders;
* **flicker**: their flicker index is at most golden's plus ``FLICKER_TOLERANCE``;
* **motion**: their coherent-motion dynamic degree is within ``DYNAMIC_TOLERANCE`` of golden's;
* **distance**: their Fréchet distance to the reference is below that of golden renders blurred at
  0.5 (quick profile), or below the upper end of the 95% interval of golden renders blurred at
  0.25 (full profile: "inside the interval").

Every row is computed here, from renders and samples; no threshold is a number read off a table.
"""

from __future__ import annotations

import torch

from tqd_lite.quality.sanity import golden_renders
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.world.degrade import VISUAL_DEGRADATIONS
from tqd_lite.world.render import WORLD

MIN_TARGET_CLIPS = 96  # fewer, and two sets of golden renders differ in dynamic degree by about 0.1 by chance
SPRITE_SHARE_RATIO = 0.9
DYNAMIC_TOLERANCE = 0.1
# luma change per frame away from sprites. Declared: smaller than what speckle at noise sigma 0.05
# or the committed mud samples add to golden's in the quick sanity table, larger than golden's spread
FLICKER_TOLERANCE = 0.0015
TARGET_SEED = 11  # the golden renders of the targets' rows (the suite's reference has its own seed)
# DDIM steps of the samples a model's targets judge: the sampler's default (VideoPipeline, `sample`).
# Fewer understate the model: the quick golden model's FD was 5.80 at 25 steps, 2.94 at 50 and 2.50
# at 100 (results/benchmarks/golden_quick/targets.json and sampling/); training runs' curves keep
# the profile's cheaper Profile.sample_steps
# equal to diffusion.pipeline.DDIM_STEPS, written out: quality may not import diffusion (test_layout)
TARGET_SAMPLE_STEPS = 50
# profile: (blur strength, the blurred set's number the samples' FD must not exceed)
DISTANCE_TARGETS = {"quick": (0.5, "fd"), "full": (0.25, "fd_high"), "gpu": (0.25, "fd_high")}


def measure(suite: MetricSuite, clips: torch.Tensor) -> dict[str, float]:
    """The suite's columns for generated clips (:meth:`MetricSuite.evaluate`: FD with its interval,
    ``sprite_share`` among them)."""
    return suite.evaluate(clips)


def target_golden(n: int, *, size: int, num_frames: int, world: str = WORLD.name) -> torch.Tensor:
    """The golden renders of the targets' rows ``(n, 3, F, H, W)``: the first ``n`` of any larger draw."""
    return golden_renders(n, size=size, num_frames=num_frames, seed=TARGET_SEED, world=world)


def reference_rows(suite: MetricSuite, *, num_clips: int, world: str = WORLD.name) -> dict[str, dict]:
    """The targets' rows: ``num_clips`` golden renders of ``world``, and the same blurred at 0.5
    and at 0.25."""
    golden = target_golden(num_clips, size=suite.size, num_frames=suite.num_frames, world=world)
    rows = {"golden renders": measure(suite, golden)}
    for strength in (0.5, 0.25):
        rows[f"blur {strength}"] = measure(suite, VISUAL_DEGRADATIONS["blur"](golden, strength))
    return rows


def _suite_and_rows(clips: torch.Tensor, world: str) -> tuple[MetricSuite, dict[str, dict]]:
    """The suite for the shape of ``clips`` and reference rows of as many golden renders of ``world``."""
    suite = MetricSuite.load(clips.shape[-1], clips.shape[2], world=world)
    return suite, reference_rows(suite, num_clips=len(clips), world=world)


def measure_against_targets(clips: torch.Tensor, *, profile: str, world: str = WORLD.name) -> dict:
    """Everything about generated ``clips`` ``(N, 3, F, H, W)``: ``{"world", "samples", "rows",
    "targets"}``, their row, the reference rows (as many golden renders as clips) and the verdicts."""
    suite, rows = _suite_and_rows(clips, world)
    samples = measure(suite, clips)
    targets = check_targets(samples, rows, profile=profile)
    return {"world": world, "samples": samples, "rows": rows, "targets": targets}


def check_targets(samples: dict, rows: dict[str, dict], *, profile: str) -> dict[str, dict]:
    """Each target's ``{"value", "bound", "passed"}`` for the samples' row ``samples`` (of
    :func:`measure`), against :func:`reference_rows`."""
    if profile not in DISTANCE_TARGETS:
        raise ValueError(
            f"no distance target for profile {profile!r}; expected one of {sorted(DISTANCE_TARGETS)}"
        )
    golden = rows["golden renders"]
    strength, bound_key = DISTANCE_TARGETS[profile]
    fd_bound = rows[f"blur {strength}"][bound_key]
    dynamic_gap = abs(samples["dynamic_degree"] - golden["dynamic_degree"])
    sprite_bound = SPRITE_SHARE_RATIO * golden["sprite_share"]
    flicker_bound = golden["flicker"] + FLICKER_TOLERANCE
    return {
        "sprites": _target(samples["sprite_share"], sprite_bound, samples["sprite_share"] >= sprite_bound),
        "flicker": _target(samples["flicker"], flicker_bound, samples["flicker"] <= flicker_bound),
        "motion": _target(dynamic_gap, DYNAMIC_TOLERANCE, dynamic_gap <= DYNAMIC_TOLERANCE),
        "distance": _target(samples["fd"], fd_bound, samples["fd"] < fd_bound),
    }


def _target(value: float, bound: float, passed: bool) -> dict:
    return {"value": float(value), "bound": float(bound), "passed": bool(passed)}


def target_lines(targets: dict[str, dict]) -> list[str]:
    """One sentence per target, generated from :func:`check_targets`'s result."""
    words = {
        "sprites": "share of samples with a sprite {value:.2f} (target >= {bound:.2f})",
        "flicker": "flicker index {value:.4f} (target <= {bound:.4f})",
        "motion": "dynamic degree off golden's by {value:.2f} (target <= {bound:.2f})",
        "distance": "Fréchet distance {value:.2f} (target < {bound:.2f})",
    }
    return [
        f"{name} target {'met' if t['passed'] else 'NOT met'}: " + words[name].format(**t)
        for name, t in targets.items()
    ]


def targets_curve(samples_by_step: dict[int, torch.Tensor], *, profile: str, world: str = WORLD.name) -> dict:
    """The quality-vs-steps curve: each saved evaluation's samples (``{step: clips}``, as
    :func:`tqd_lite.diffusion.training_run.run_samples` reads them) measured and checked, with the
    reference rows of as many golden renders: ``{"world", "rows", "curve"}``."""
    suite, rows = _suite_and_rows(next(iter(samples_by_step.values())), world)
    curve = []
    for step, clips in samples_by_step.items():
        row = measure(suite, clips)
        curve.append({"step": step, **row, "targets": check_targets(row, rows, profile=profile)})
    return {"world": world, "rows": rows, "curve": curve}
