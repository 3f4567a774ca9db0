"""How fast is the data path? Rendering, writing, decoding (decord vs PyAV), loading, scoring.

    python benchmarks/bench_data.py --size 16 --clips 200
    python benchmarks/bench_data.py --size 32 --clips 200 --out results/benchmarks/data_32.json

Prints clips per second for each stage; with --out, also writes them as JSON with provenance.
A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.dataset import VideoClipDataset
from tqd_lite.quality.scores import motion_score, visual_score
from tqd_lite.world.render import ClipSpec, render_clip
from tqd_lite.world.video_io import read_clip, write_video


def clips_per_second(fn, count: int) -> float:
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--out", default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args()
    specs = [
        ClipSpec(seed=i, visual_quality=0.5, motion_intensity=0.5, num_frames=args.frames, size=args.size)
        for i in range(args.clips)
    ]
    render_clip(specs[0])  # one-off: the visual knob's calibration for this size (cached after)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips: list[torch.Tensor] = []
        results["render"] = clips_per_second(lambda: clips.extend(render_clip(s) for s in specs), args.clips)
        paths = [folder / f"clip_{i:05d}.mp4" for i in range(args.clips)]
        results["write_h264"] = clips_per_second(
            lambda: [write_video(p, c) for p, c in zip(paths, clips, strict=True)], args.clips
        )
        for backend in ("decord", "pyav"):
            results[f"read_{backend}"] = clips_per_second(
                lambda b=backend: [read_clip(p, args.frames, args.size, b) for p in paths], args.clips
            )
        dataset = VideoClipDataset(paths, args.frames, args.size)
        for workers in (0, 2):
            loader = DataLoader(dataset, batch_size=32, num_workers=workers)
            results[f"dataloader_{workers}_workers"] = clips_per_second(
                lambda ld=loader: list(ld), args.clips
            )
        batch = torch.stack(clips)
        with torch.no_grad():
            results["score_motion_and_visual"] = clips_per_second(
                lambda: (motion_score(batch), visual_score(batch)), args.clips
            )
    print(f"{args.clips} clips of {args.frames}x{args.size}x{args.size}, {torch.get_num_threads()} threads")
    for stage, rate in results.items():
        print(f"  {stage:<28} {rate:10.0f} clips/s")
    if args.out:
        block = provenance("benchmark", 0, "cpu", command=None, size=args.size, clips=args.clips)
        write_result(args.out, {"clips_per_second": results}, block)


if __name__ == "__main__":
    main()
