"""Is it the video model or the world? Single frames of golden clips, learned for a fixed time.

    python benchmarks/probe_image_model.py --model unet2d --minutes 10
    python benchmarks/probe_image_model.py --model factorized --minutes 10

Issue 17's probes left every video model's samples as mud. This probe takes the video out: it
trains on the frames of freshly rendered golden clips (each frame an image), for ``--minutes`` of
wall time, with the golden probes' recipe (v prediction, cosine schedule, optionally shifted by
``--snr-shift``, AdamW at 1e-3 with cosine decay, plain v loss), and samples ``--images`` images with DDIM 25.

* ``unet2d``: diffusers' ``UNet2DModel`` with its usual DDPM layout (ResNet blocks and
  self-attention at the lowest level), as wide as the tiny preset.
* ``factorized``: tqd-lite's tiny video UNet on one-frame clips (its temporal layers see one frame).

If the image models draw sprites where the video model draws mud in the same CPU time, the video
model is what learns slowly; if they draw mud too, it is the world's variety or the budget.
A script, not a test. Writes a grid of samples and a JSON row (with provenance).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from diffusers import UNet2DModel
from diffusers.optimization import get_scheduler
from tqdm.auto import tqdm

from tqd_lite.diffusion.model import build_model, count_parameters
from tqd_lite.diffusion.noise import from_model_range, make_noise_scheduler, to_model_range
from tqd_lite.diffusion.pipeline import VideoPipeline, ddim_scheduler
from tqd_lite.diffusion.training_run import save_strip
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.sanity import golden_renders
from tqd_lite.world.render import WORLD_STYLES


class OneFrameClips(torch.nn.Module):
    """A video denoiser seen as an image denoiser: images are one-frame clips."""

    def __init__(self, video_model: torch.nn.Module):
        super().__init__()
        self.video_model = video_model

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.video_model(x[:, :, None], t)[:, :, 0]


def image_model(name: str) -> torch.nn.Module:
    if name == "unet2d":
        return UNet2DModel(
            in_channels=3,
            out_channels=3,
            block_out_channels=(32, 64, 128),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
            norm_num_groups=8,
        )
    return OneFrameClips(build_model("tiny-clipnorm-all"))


def predict(model: torch.nn.Module, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    out = model(x, t)
    return out.sample if hasattr(out, "sample") else out


@torch.no_grad()
def sample(model, scheduler, n: int, size: int, seed: int) -> torch.Tensor:
    """DDIM 25 from pure noise: ``(n, 3, H, W)`` in [0, 1]."""
    x = torch.randn((n, 3, size, size), generator=torch.Generator().manual_seed(seed))
    scheduler.set_timesteps(25)
    for t in scheduler.timesteps:
        x = scheduler.step(predict(model, x, torch.full((n,), int(t))), t, x).prev_sample
    return from_model_range(x)


def train_for(model, data: torch.Tensor, *, batch: int, seconds: float, snr_shift: float, label: str):
    """AdamW at 1e-3 on the plain v loss for ``seconds`` of wall time, with a cosine decay over the
    step count estimated after 20 steps; ``data`` in [-1, 1], batches drawn with replacement.
    Returns ``(steps, final loss)``."""
    noise_scheduler = make_noise_scheduler("v_prediction", snr_shift=snr_shift)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    lr_scheduler, steps, losses = None, 0, []
    generator = torch.Generator().manual_seed(1)
    begun = time.perf_counter()
    bar = tqdm(desc=label)
    while time.perf_counter() - begun < seconds:
        x0 = data[torch.randint(0, len(data), (batch,), generator=generator)]
        noise = torch.randn(x0.shape, generator=generator)
        t = torch.randint(0, 1000, (batch,), generator=generator)
        target = noise_scheduler.get_velocity(x0, noise, t)
        loss = (predict(model, noise_scheduler.add_noise(x0, noise, t), t) - target).pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        steps += 1
        if steps == 20:
            total = int(seconds / ((time.perf_counter() - begun) / steps))
            lr_scheduler = get_scheduler("cosine", optimizer, num_warmup_steps=0, num_training_steps=total)
        if lr_scheduler is not None:
            lr_scheduler.step()
        losses.append(loss.item())
        bar.update()
        bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.4f}")
    bar.close()
    return steps, sum(losses[-100:]) / len(losses[-100:])


def save_grid(images: torch.Tensor, path: Path, title: str) -> None:
    figure, axes = plt.subplots(4, len(images) // 4, figsize=(len(images) // 4, 4.2))
    for axis, image in zip(axes.flat, images, strict=True):
        axis.imshow(image.permute(1, 2, 0).numpy(), interpolation="nearest")
        axis.set_axis_off()
    figure.suptitle(title)
    figure.savefig(path, dpi=80)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=("unet2d", "factorized"), default="unet2d")
    parser.add_argument("--world", choices=sorted(WORLD_STYLES), default="simple")
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=128, help="images per step (16 clips of 8 frames)")
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--snr-shift", type=float, default=1.0, help="noise.shifted_betas (1: no shift)")
    parser.add_argument(
        "--clip-minutes", type=float, default=0.0,
        help="factorized only: then train the same model on whole clips for this long (image pretraining)",
    )  # fmt: skip
    parser.add_argument("--clip-batch", type=int, default=4, help="clips per step of the clip stage")
    parser.add_argument("--out", default="runs/probe_image_model")
    args = parser.parse_args()
    if args.clip_minutes and args.model != "factorized":
        parser.error("--clip-minutes needs --model factorized (a video model)")
    # the commit of the code that runs, taken before it runs (a commit made meanwhile is not it)
    block = provenance(
        "quick", 0, "cpu", world=args.world, size=args.size, snr_shift=args.snr_shift,
        clip_minutes=args.clip_minutes, clip_batch=args.clip_batch,
    )  # fmt: skip
    torch.manual_seed(0)
    clips = to_model_range(golden_renders(2048, size=args.size, num_frames=8, seed=7, world=args.world))
    frames = clips.permute(0, 2, 1, 3, 4).flatten(0, 1)  # (N * F, 3, H, W): every frame an image
    model = image_model(args.model)
    begun = time.perf_counter()
    steps, loss = train_for(
        model, frames, batch=args.batch, seconds=args.minutes * 60, snr_shift=args.snr_shift,
        label=f"{args.model} on frames",
    )  # fmt: skip
    noise_scheduler = make_noise_scheduler("v_prediction", snr_shift=args.snr_shift)
    model.eval()
    images = sample(model, ddim_scheduler(noise_scheduler), args.images, args.size, seed=0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shift = f", SNR x{args.snr_shift:g}" if args.snr_shift != 1 else ""
    name = f"{args.model}_{args.world}_{args.size}_b{args.batch}_shift{args.snr_shift:g}"
    title = f"{args.model}, {args.world} world, {steps} steps of {args.batch} frames{shift}"
    save_grid(images, out / f"{name}.png", title)
    row = {
        "model": args.model,
        "parameters": count_parameters(model),
        "steps": steps,
        "images_seen": steps * args.batch,
        "seconds": round(time.perf_counter() - begun, 1),
        "final_loss": loss,
    }
    if args.clip_minutes:
        video_model = model.video_model.train()
        clip_steps, clip_loss = train_for(
            video_model, clips, batch=args.clip_batch, seconds=args.clip_minutes * 60,
            snr_shift=args.snr_shift, label="then on clips",
        )  # fmt: skip
        pipe = VideoPipeline(unet=video_model.eval(), scheduler=ddim_scheduler(noise_scheduler))
        samples = pipe(num_clips=8, num_frames=8, size=args.size, num_inference_steps=25, progress=False)
        name += f"_then_clips_b{args.clip_batch}"
        save_strip(samples.clips, out / f"{name}.png", block)
        row |= {
            "clip_steps": clip_steps,
            "clips_seen": clip_steps * args.clip_batch,
            "clip_final_loss": clip_loss,
        }
        row["seconds"] = round(time.perf_counter() - begun, 1)
    print(json.dumps(row))
    write_result(out / f"{name}.json", row, block)


if __name__ == "__main__":
    main()
