"""Why do the golden models draw mud? Short training probes measured by the metric suite.

    python benchmarks/probe_golden_recipe.py --arms committed renders --steps 1200
    python benchmarks/probe_golden_recipe.py --size 16 --arms renders renders-cosine \
        --out results/benchmarks/golden_recipe_16.json

Each arm trains the profile's denoiser with one recipe (``ARMS``: the data and the
``TrainConfig`` fields it changes) for ``--steps`` steps, resumably in ``runs/probe_golden/ARM``,
and every ``--eval-every`` steps samples ``--clips`` clips (DDIM 25, seed 0) from the EMA weights
and measures them with the committed metric suite (``tqd_lite.quality.suite``) against the targets
of "Models that generate the toy world": the share of samples in which the tracker finds a
sprite (against golden renders'), flicker, coherent-motion dynamic degree, judge_world, and the
Fréchet distance (against golden clips blurred at strength 0.5). Golden renders and their blurred
twins are measured the same way, as the targets' rows. Saves a frame strip per evaluation, and
one of golden renders: look at them side by side before believing a number (FD, judge_world and
precision rate the 1,500-step clip-norm probe's mud near golden; README).
A script, not a test: each arm takes minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.train import ClipBank, train
from tqd_lite.diffusion.training_run import default_config, load_run_data, save_strip
from tqd_lite.profiles import get_profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.sanity import golden_renders
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.quality.tracker import tracker_measures
from tqd_lite.world.degrade import VISUAL_DEGRADATIONS

RENDERS = 4096  # fresh golden-distribution clips for the "renders" arms
COSINE = {"learning_rate": 5e-4, "lr_schedule": "cosine"}
# twice the rate, plain v loss: the best 600-step recipe, which gpu_probe.py also trains
COSINE_2X_NOSNR = {**COSINE, "learning_rate": 1e-3, "snr_gamma": None}
SIMPLE_B4 = {  # the GPU lease's recipe on the simpler world, at a batch of 4 clips
    "data": "renders",
    "world": "simple",
    **COSINE_2X_NOSNR,
    "preset": "tiny-clipnorm-all",
    "batch_size": 4,
}
ARMS = {
    # the committed golden models' recipe: Set-C, AdamW at 2e-3 held constant, Min-SNR 5
    "committed": {"data": "set_c"},
    "renders": {"data": "renders"},
    "renders-cosine": {"data": "renders", **COSINE},
    "renders-cosine-nosnr": {"data": "renders", **COSINE, "snr_gamma": None},
    # the output norm, or every spatial norm, over the whole clip (model.FactorizedVideoUNet, clip_norms)
    "renders-cosine-nosnr-clipnorm": {
        "data": "renders",
        **COSINE,
        "snr_gamma": None,
        "preset": "tiny-clipnorm",
    },
    "renders-cosine-clipnorm": {"data": "renders", **COSINE, "preset": "tiny-clipnorm"},
    "renders-cosine-2x-nosnr-clipnorm": {
        "data": "renders",
        **COSINE_2X_NOSNR,
        "preset": "tiny-clipnorm",
    },
    "renders-cosine-nosnr-clipnorm-all": {
        "data": "renders",
        **COSINE,
        "snr_gamma": None,
        "preset": "tiny-clipnorm-all",
    },
    "renders-cosine-attn": {"data": "renders", **COSINE, "preset": "tiny-attn"},
    # the GPU lease's recipe (benchmarks/gpu_probe.py) at 32 px on the CPU's batch: does the full
    # profile learn the world in its CPU budget? (run with --size 32; resumable across sessions)
    "renders-cosine-2x-nosnr-clipnorm-all-small": {
        "data": "renders",
        **COSINE_2X_NOSNR,
        "preset": "small-clipnorm-all",
    },
    # the GPU lease's recipe (benchmarks/gpu_probe.py) on the simpler world, on the CPU
    "simple-cosine-2x-nosnr-clipnorm-all": {
        "data": "renders",
        "world": "simple",
        **COSINE_2X_NOSNR,
        "preset": "tiny-clipnorm-all",
    },
    # the same with a quarter of the batch: four times the optimizer steps per CPU second
    # (benchmarks/probe_image_model.py: image models learned more from 1,734 steps of 32 frames
    # than from 508 steps of 128 in the same ten minutes)
    "simple-cosine-2x-nosnr-clipnorm-all-b4": SIMPLE_B4,
    # the same with the cosine schedule's SNR times 4 or 16 at every t (noise.shifted_betas): the
    # size shift of Chen 2023 / simple diffusion for frames 2-4 times smaller than the schedule's
    **{
        f"simple-cosine-2x-nosnr-clipnorm-all-b4-shift{shift}": {**SIMPLE_B4, "snr_shift": float(shift)}
        for shift in (4, 16)
    },
    # the world's variety: coarser axis-aligned textures and a palette (world.render.SIMPLE)
    "simple-cosine-attn": {"data": "renders", "world": "simple", **COSINE, "preset": "tiny-attn"},
    # correlated frame noise (PYoCo mixed prior, noise.mixed_noise), in training and sampling
    "renders-cosine-attn-mixed": {
        "data": "renders",
        **COSINE,
        "preset": "tiny-attn",
        "noise_correlation": 0.5,
    },
}
RECIPE_KEYS = ("data", "world")  # the rest of an arm are TrainConfig fields


def measure(suite: MetricSuite, clips: torch.Tensor) -> dict[str, float]:
    """The suite's columns, and the share of clips in which the tracker finds a sprite."""
    tracked = tracker_measures(clips, suite.tracker)
    return {**suite.measure(clips), "sprite_share": float((tracked["sprite_count"] >= 0.5).mean())}


def training_bank(arm: dict, profile, size: int) -> ClipBank:
    if arm["data"] == "set_c":
        return load_run_data(profile, "set_c", progress=False).bank
    clips = golden_renders(RENDERS, size=size, num_frames=profile.num_frames, seed=7, world=world_of(arm))
    return ClipBank.from_float(clips)


def world_of(arm: dict) -> str:
    return arm.get("world", "classic")


def targets(suite: MetricSuite, args, num_frames: int, world: str) -> dict[str, dict[str, float]]:
    """The targets' rows in ``world``: golden renders, and the same blurred at 0.5 and 0.25."""
    golden = golden_renders(args.clips, size=args.size, num_frames=num_frames, seed=11, world=world)
    rows = {"golden renders": measure(suite, golden)}
    save_strip(golden[:8], Path(args.runs) / f"golden_{world}_{args.size}.png")  # to look at beside the arms'
    for strength in (0.5, 0.25):
        rows[f"blur {strength}"] = measure(suite, VISUAL_DEGRADATIONS["blur"](golden, strength))
    for name, row in rows.items():
        print(world, name, json.dumps({k: round(v, 4) for k, v in row.items()}))
    return rows


def run_arm(name: str, args, profile, suite: MetricSuite) -> list[dict]:
    arm = ARMS[name]
    config = default_config(
        profile, steps=args.steps, **{k: v for k, v in arm.items() if k not in RECIPE_KEYS}
    )
    bank = training_bank(arm, profile, args.size)
    out = Path(args.runs) / f"{name}_{args.size}"
    rows = []
    for stop in range(args.eval_every, (args.stop_after or args.steps) + 1, args.eval_every):
        result = train(config, bank, out, stop_after=stop, progress=False, mixed_precision=args.precision)
        start = time.perf_counter()
        clips = ddim_pipeline(result.model, config)(
            num_clips=args.clips, num_frames=profile.num_frames, size=args.size,
            num_inference_steps=25, seed=0, noise_correlation=config.noise_correlation, progress=False,
        ).clips  # fmt: skip
        row = {"step": stop, "train_seconds": round(result.total_seconds, 1), **measure(suite, clips)}
        row["sample_seconds"] = round(time.perf_counter() - start, 1)
        save_strip(clips[:8], out / f"samples_{stop:06d}.png")
        print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}))
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=16, choices=(16, 32))
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--eval-every", type=int, default=300)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--runs", default="runs/probe_golden")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--stop-after", type=int, default=None, help="stop at this step of the --steps schedule (comparisons)"
    )
    parser.add_argument(
        "--precision", choices=["no", "bf16"], default="no", help="training autocast (sampling stays fp32)"
    )
    args = parser.parse_args()
    profile = get_profile("quick" if args.size == 16 else "full")
    block = provenance(
        profile.name, 0, "cpu", steps=args.steps, stop_after=args.stop_after, clips=args.clips,
        precision=args.precision,
    )  # fmt: skip
    suite = MetricSuite.load(args.size, profile.num_frames)
    worlds = sorted({world_of(ARMS[name]) for name in args.arms})
    rows = {world: targets(suite, args, profile.num_frames, world) for world in worlds}
    arms = {}
    for name in args.arms:  # the file is rewritten after each arm: an interrupted probe keeps its arms
        arms[name] = run_arm(name, args, profile, suite)
        if args.out:
            summary = {
                "size": args.size,
                "targets": rows,
                "arms": arms,
                "recipes": {a: ARMS[a] for a in arms},
            }
            write_result(args.out, json.loads(json.dumps(summary, default=float)), block)


if __name__ == "__main__":
    main()
