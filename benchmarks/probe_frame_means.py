"""Where does a sample's flicker come from? The frames' mean colours along a DDIM trajectory.

    python benchmarks/probe_frame_means.py runs/probe_golden/renders-cosine_16/checkpoint.pt \
        --out results/benchmarks/frame_means/renders-cosine_600.json

For ``--clips`` seeded samples of a checkpoint (or model folder), at every DDIM step it records
the *frame-mean spread*: the standard deviation over frames of each frame's mean colour, averaged
over channels and clips, in the model's [-1, 1] range, for the noisy clip x_t and for the model's
guess x0_hat. Pure noise has a spread of 1/H per channel (the mean of H x W unit normals), so a
denoiser must learn to take every frame's own noise mean away; real golden clips' spread is the
target row. A model that cannot, keeps the noise's frame means to the end: flicker.
A script, not a test (seconds per checkpoint).
"""

from __future__ import annotations

import argparse

import torch

from tqd_lite.diffusion.checkpoints import load_denoiser, training_config_of
from tqd_lite.diffusion.noise import make_noise_scheduler, predicted_x0, to_model_range
from tqd_lite.diffusion.pipeline import ddim_scheduler
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.sanity import golden_specs, render_specs


def frame_mean_spread(x: torch.Tensor) -> float:
    """Std over frames of each frame's mean, averaged over clips and channels: ``x`` (B, C, F, H, W)."""
    return x.mean(dim=(3, 4)).std(dim=2).mean().item()


@torch.no_grad()
def trajectory(model, config, *, clips: int, size: int, frames: int, steps: int, seed: int) -> list[dict]:
    """The frame-mean spread of x_t and x0_hat at every DDIM step from seeded noise."""
    noise_scheduler = make_noise_scheduler(**config.noise_schedule())
    scheduler = ddim_scheduler(noise_scheduler)
    scheduler.set_timesteps(steps)
    x = torch.randn(clips, 3, frames, size, size, generator=torch.Generator().manual_seed(seed))
    rows = []
    for t in scheduler.timesteps:
        batch_t = torch.full((clips,), int(t))
        output = model(x, batch_t)
        x0 = predicted_x0(noise_scheduler, x, batch_t, output)
        rows.append({"t": int(t), "x_t": frame_mean_spread(x), "x0_hat": frame_mean_spread(x0)})
        x = scheduler.step(output, t, x).prev_sample
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint")
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    model, config = load_denoiser(args.checkpoint), training_config_of(args.checkpoint)
    golden = render_specs(golden_specs(64, size=args.size, num_frames=args.frames, seed=11))
    rows = trajectory(
        model, config, clips=args.clips, size=args.size, frames=args.frames, steps=args.steps, seed=0
    )
    summary = {
        "checkpoint": args.checkpoint,
        "golden_renders": frame_mean_spread(to_model_range(golden)),
        "pure_noise": 1 / args.size,
        "trajectory": rows,
    }
    for row in rows:
        print(f"t={row['t']:4d}  x_t {row['x_t']:.4f}  x0_hat {row['x0_hat']:.4f}")
    print(f"golden renders {summary['golden_renders']:.4f}, pure noise {summary['pure_noise']:.4f}")
    if args.out:
        block = provenance("quick" if args.size == 16 else "full", 0, "cpu", checkpoint=args.checkpoint)
        write_result(args.out, summary, block)


if __name__ == "__main__":
    main()
