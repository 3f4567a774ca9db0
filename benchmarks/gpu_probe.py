"""One short GPU lease: how fast the denoisers train there, and does compute alone make them draw the world?

Beside the repository, name the commit that the copied tree comes from (the device's copy may
carry a git at another commit; ``tqd_lite.provenance`` checks every library file against this
manifest instead), and fetch diffusers' wheel (the device has torch and accelerate, not diffusers)::

    mkdir -p .device && { git rev-parse --short HEAD; git ls-files -s tqd_lite; } > .device/source.txt
    pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 -d .whl diffusers==0.42.1

On the GPU (the device tool, carrying ``.whl`` and ``.device``; one command, about 9 minutes)::

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD TQD_SOURCE_MANIFEST=.device/source.txt
    python3 benchmarks/gpu_probe.py throughput --out $OUT/throughput.json
    python3 benchmarks/gpu_probe.py train --size 16 --renders 16384 --budget 420 --out $OUT/p16 &
    python3 benchmarks/gpu_probe.py train --size 32 --renders 8192 --budget 420 --out $OUT/p32 &
    wait

At most 8 files come back from a lease: each ``train`` writes three.

``throughput``: clips per second and achieved TFLOP/s of a training step (``bench_train.measure``:
the library's batch, loss, AdamW and EMA) per preset, frame size, batch and precision, next to a
plain bf16 matrix product's rate (``bench_peak``).

``train``: the probe arm (``ARMS``: the clip-wide norms, the plain v loss, cosine decay) on
``--renders`` fresh golden renders, rendered on the CPU cores first, for as many steps as the
wall-clock ``--budget`` leaves at the measured step speed. At a quarter, half, three quarters and
the end it samples ``--clips`` clips (DDIM 25, seed 0) and measures them with the metric suite;
writes ``probe.json`` (rows as ``probe_golden_recipe.py`` writes them), ``strips.png`` (golden
renders on top, then each evaluation's samples) and the EMA weights ``model.safetensors`` after
every evaluation, so a lease that ends early still returns its last one. FD, judge_world and
precision were fooled by the CPU probes' mud (README): look at the strips first.
A script, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark scripts
from bench_peak import matmul_gflops  # noqa: E402
from bench_train import measure as measure_train_step  # noqa: E402
from bench_train import step_flops  # noqa: E402
from probe_golden_recipe import COSINE_2X_NOSNR  # noqa: E402
from probe_golden_recipe import measure as measure_samples  # noqa: E402

from tqd_lite.diffusion.pipeline import ddim_pipeline  # noqa: E402
from tqd_lite.diffusion.train import ClipBank, train  # noqa: E402
from tqd_lite.diffusion.training_run import default_config  # noqa: E402
from tqd_lite.profiles import get_profile  # noqa: E402
from tqd_lite.provenance import provenance, write_result  # noqa: E402
from tqd_lite.quality.sanity import golden_specs  # noqa: E402
from tqd_lite.quality.suite import MetricSuite  # noqa: E402
from tqd_lite.viz.plots import frame_strip  # noqa: E402
from tqd_lite.world.render import WORLD_STYLES, render_clip  # noqa: E402

# the arm: every spatial norm over the clip, plain v loss, cosine decay from 1e-3 (the best CPU
# probe at 600 steps, README), at a GPU's batch
ARMS = {
    16: {"preset": "tiny-clipnorm-all", "batch_size": 256},
    32: {"preset": "small-clipnorm-all", "batch_size": 128},
}
RECIPE = {**COSINE_2X_NOSNR, "warmup_steps": 200}
THROUGHPUT = [  # (preset, size, batch, precision)
    ("tiny-clipnorm-all", 16, 16, "fp32"),
    ("tiny-clipnorm-all", 16, 16, "bf16"),
    ("tiny-clipnorm-all", 16, 256, "fp32"),
    ("tiny-clipnorm-all", 16, 256, "bf16"),
    ("tiny-clipnorm-all", 16, 1024, "bf16"),
    ("small-clipnorm-all", 32, 128, "bf16"),
    ("small-clipnorm-all", 32, 512, "bf16"),
]
RESERVE_SECONDS = 45  # kept back from the budget for the evaluations and saving
SAFETY = 0.75  # of the measured speed: the other probe shares the GPU and the CPU


def cmd_throughput(args) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    # torch.compile last: the steps are bound by launching small kernels, which fusing may cut,
    # but compiling takes a minute or more per shape (opt-in, so a short lease keeps the rest)
    plan = [(*row, False) for row in THROUGHPUT]
    if args.compile:
        plan += [(*row, True) for row in THROUGHPUT if row[3] == "bf16" and row[2] in (256, 128)]
    for preset, size, batch, precision, compile_ in plan:
        spec = SimpleNamespace(
            preset=preset, size=size, batch=batch, precision=precision, compile=compile_, warmup=5, steps=20
        )
        row = measure_train_step(spec, device)
        row["achieved_tflops"] = step_flops(preset, size, batch) / row["seconds_per_step"] / 1e12
        print(
            f"{preset} {size}px batch {batch} {precision}{' compiled' * compile_}: "
            f"{row['seconds_per_step'] * 1000:.1f} ms/step, "
            f"{row['clips_per_second']:.0f} clips/s, {row['achieved_tflops']:.2f} TFLOP/s, "
            f"data {row['share']['data']:.0%}",
            flush=True,
        )
        rows.append(row)
    peak = {n: matmul_gflops(n, torch.bfloat16, device) / 1e3 for n in (4096, 8192)}
    print(f"bf16 matmul peak: {peak} TFLOP/s", flush=True)
    block = provenance("-", 0, device)
    write_result(args.out, {"train_steps": rows, "bf16_matmul_peak_tflops": max(peak.values())}, block)


def _render_array(spec, world: str):
    torch.set_num_threads(1)
    # a worker returns numpy: torch tensors travel back as shared-memory file descriptors, and
    # 24,576 of them broke the pool on the first lease ("received 0 items of ancdata")
    return render_clip(spec, WORLD_STYLES[world]).numpy()


def render_golden(n: int, *, size: int, seed: int, workers: int, world: str) -> torch.Tensor:
    """``n`` golden-distribution clips of the ``world`` style, rendered by ``workers`` processes."""
    specs = golden_specs(n, size=size, num_frames=8, seed=seed)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        arrays = pool.map(functools.partial(_render_array, world=world), specs, chunksize=64)
    return torch.from_numpy(np.stack(arrays))


def save_strips(rows: list[tuple[str, torch.Tensor]], path: Path) -> None:
    """Golden renders and each evaluation's samples, four clips each, labelled."""
    clips = torch.cat([c[:4] for _, c in rows])
    labels = [name for name, c in rows for _ in range(min(4, len(c)))]
    axes = frame_strip(clips, labels=labels, scale=0.7)
    axes[0, 0].figure.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(axes[0, 0].figure)


def timed_steps(config, bank: ClipBank, folder: Path, steps: int) -> float:
    """Seconds per step of ``config`` measured on a throwaway run (its first steps excluded)."""
    short = dataclasses.replace(config, steps=5 + steps)
    train(short, bank, folder / "warmup", stop_after=5, progress=False, checkpoint_every=10**9)
    start = time.perf_counter()
    train(short, bank, folder / "warmup", progress=False, checkpoint_every=10**9)
    return (time.perf_counter() - start) / steps


def cmd_train(args) -> None:
    begun = time.perf_counter()
    device = "cuda" if torch.cuda.is_available() else "cpu"  # a CPU only to try the script out
    deadline = begun + args.budget
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.renders is None:
        args.renders = 32768 if args.size == 16 else 8192
    bank = ClipBank.from_float(
        render_golden(args.renders, size=args.size, seed=7, workers=args.workers, world=args.world)
    )
    golden = render_golden(args.clips, size=args.size, seed=11, workers=args.workers, world=args.world)
    print(f"{args.size}px: {args.renders} renders in {time.perf_counter() - begun:.0f} s", flush=True)
    torch.set_num_threads(max(1, args.workers))
    profile = get_profile("quick" if args.size == 16 else "full")
    suite = MetricSuite.load(args.size, profile.num_frames)
    work = Path(args.work) / f"gpu_probe_{args.size}"
    probe_config = default_config(profile, steps=1000, **ARMS[args.size], **RECIPE)
    seconds_per_step = timed_steps(probe_config, bank, work, args.timed_steps)
    left = deadline - time.perf_counter() - RESERVE_SECONDS
    steps = max(4, int(SAFETY * left / seconds_per_step) // 4 * 4)
    config = dataclasses.replace(probe_config, steps=steps)
    print(
        f"{args.size}px: {seconds_per_step * 1000:.0f} ms/step measured, training {steps} steps", flush=True
    )
    block = provenance(
        profile.name, 0, device, world=args.world, renders=args.renders, clips=args.clips, budget=args.budget
    )
    result = {
        "size": args.size,
        "train_config": config.to_dict(),
        "seconds_per_step_measured": seconds_per_step,
    }
    result["targets"] = {"golden renders": measure_samples(suite, golden)}
    strips, rows = [("golden", golden)], []
    for stop in (steps // 4, steps // 2, 3 * steps // 4, steps):
        trained = train(config, bank, work / "run", stop_after=stop, progress=False, checkpoint_every=10**9)
        pipeline = ddim_pipeline(trained.model, config).to(device)
        clips = pipeline(num_clips=args.clips, num_frames=8, size=args.size, num_inference_steps=25,
                         seed=0, batch_size=args.clips, progress=False).clips  # fmt: skip
        row = {
            "step": stop,
            "train_seconds": round(trained.total_seconds, 1),
            **measure_samples(suite, clips),
        }
        row["loss_last"] = trained.history[-1]["loss"]
        print(
            f"{args.size}px",
            json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}),
        )
        rows.append(row)
        strips.append((f"step {stop}", clips))
        save_strips(strips, out / "strips.png")
        weights = {k: v.to(torch.bfloat16).contiguous() for k, v in trained.model.state_dict().items()}
        save_file(weights, out / "model.safetensors")  # bf16: the lease returns files of at most 16 MB
        write_result(out / "probe.json", {**result, "evaluations": rows}, block)
    print(f"{args.size}px: done in {time.perf_counter() - begun:.0f} s of {args.budget}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("throughput")
    p.add_argument("--out", required=True)
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd steps (slow to start)")
    p.set_defaults(func=cmd_throughput)
    p = commands.add_parser("train")
    p.add_argument("--size", type=int, choices=sorted(ARMS), required=True)
    p.add_argument("--budget", type=float, default=450, help="wall-clock seconds for the whole probe")
    p.add_argument(
        "--renders", type=int, default=None, help="fresh golden clips (default 32768 at 16px, 8192 at 32)"
    )
    p.add_argument("--clips", type=int, default=64, help="samples per evaluation")
    p.add_argument("--world", default="classic", choices=sorted(WORLD_STYLES), help="world.render style")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    p.add_argument("--timed-steps", type=int, default=30, help="steps timed to size the run")
    p.add_argument("--work", default="/tmp", help="where the resumable run lives")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_train)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
