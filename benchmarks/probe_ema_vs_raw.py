"""One training checkpoint sampled twice, with its EMA weights and with its raw weights, and both
measured with the sanity-tested suite (issue "Models that generate the toy world").

Early in a run the EMA (max decay 0.999) still averages most of the steps taken, so it can lag the
raw weights; this says by how much, on the same noise. Prints one JSON row per weight set and
writes ``OUT/step_{ema,raw}.png`` (8 clips each) to look at::

    run=runs/probe_golden_32/renders-cosine-2x-nosnr-clipnorm-all-small_32
    python benchmarks/probe_ema_vs_raw.py $run/checkpoint.pt --size 32 --frames 8
    # (that run began before checkpoints recorded their clip shape)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from probe_golden_recipe import measure

from tqd_lite.diffusion.checkpoints import load_denoiser, training_config_of
from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.training_run import save_strip
from tqd_lite.quality.suite import MetricSuite


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", type=Path, help="a run's checkpoint.pt")
    parser.add_argument("--size", type=int, default=None, help="frame size, if the checkpoint records none")
    parser.add_argument(
        "--frames", type=int, default=None, help="clip length, if the checkpoint records none"
    )
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--out", type=Path, default=None, help="where the strips go (default: beside it)")
    args = parser.parse_args()
    config = training_config_of(args.checkpoint)
    out = args.out or args.checkpoint.parent
    for name, use_ema in (("raw", False), ("ema", True)):
        model = load_denoiser(args.checkpoint, use_ema=use_ema)
        frames = model.config.get("num_frames") or args.frames
        size = model.config.get("sample_size") or args.size
        if frames is None or size is None:
            parser.error(f"{args.checkpoint} records no clip shape: pass --size and --frames")
        suite = MetricSuite.load(size, frames)
        start = time.perf_counter()
        clips = ddim_pipeline(model, config)(
            num_clips=args.clips, num_frames=frames, size=size, num_inference_steps=25, seed=0,
            noise_correlation=config.noise_correlation, progress=False,
        ).clips  # fmt: skip
        row = {"weights": name, "seconds": round(time.perf_counter() - start), **measure(suite, clips)}
        save_strip(clips[:8], out / f"step_{name}.png")
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)


if __name__ == "__main__":
    main()
