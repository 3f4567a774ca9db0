"""Per-sample gradients: torch.func (vmap over grad) against a loop of single backward passes.

    python benchmarks/bench_gradients.py --batch 16
    python benchmarks/bench_gradients.py --batch 16 --out results/benchmarks/per_sample_grads_cpu

The same work three ways, on the same clips, noise and timesteps (spread over the schedule):

* ``looped``: one forward and backward pass per clip (:func:`tqd_lite.tqd.gradients.looped_gradients`);
* ``vmap``: all clips at once (:func:`tqd_lite.tqd.gradients.per_sample_gradients`);
* ``batch_backward``: one backward pass of the *summed* loss. It does not give per-sample
  gradients; it is the floor any exact per-sample method pays (its forward and backward).

Prints ms per clip, the speed-up of vmap over the loop, and the largest difference between the
two methods' gradients relative to their size. A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import time

import torch

from tqd_lite.diffusion.checkpoints import load_denoiser
from tqd_lite.diffusion.model import build_model, count_parameters
from tqd_lite.diffusion.noise import make_noise_scheduler, training_target
from tqd_lite.paths import golden_model_path
from tqd_lite.provenance import describe_device, provenance, write_result
from tqd_lite.tqd.gradients import looped_gradients, per_sample_gradients


def timed(fn, repeats: int, sync) -> tuple[float, object]:
    """Best-of-``repeats`` seconds of ``fn()`` (after one warm-up call) and its last result."""
    result = fn()
    best = float("inf")
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        result = fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(args, device: torch.device) -> dict:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    path = golden_model_path("quick") if args.checkpoint is None and args.preset is None else args.checkpoint
    torch.manual_seed(0)
    model = load_denoiser(path).float() if path else build_model(args.preset)
    model = model.to(device).eval()
    scheduler = make_noise_scheduler()
    g = torch.Generator().manual_seed(0)
    x0 = (torch.rand(args.batch, 3, args.frames, args.size, args.size, generator=g) * 2 - 1).to(device)
    noise = torch.randn(x0.shape, generator=g).to(device)
    t = torch.linspace(5, 950, args.batch).long().to(device)

    def batch_backward():
        model.zero_grad(set_to_none=True)
        x_t = scheduler.add_noise(x0, noise, t)
        (model(x_t, t) - training_target(scheduler, x0, noise, t)).pow(2).mean().backward()

    looped_s, looped = timed(lambda: looped_gradients(model, scheduler, x0, noise, t), args.repeats, sync)
    vmap_s, vmapped = timed(
        lambda: per_sample_gradients(model, scheduler, x0, noise, t, args.chunk_size), args.repeats, sync
    )
    floor_s, _ = timed(batch_backward, args.repeats, sync)
    # per clip, over all weights (a per-parameter ratio would divide round-off by round-off for
    # parameters whose gradient is zero in exact arithmetic, like a bias just before a GroupNorm)
    flat = [torch.cat([g[k].flatten(1) for k in looped], dim=1) for g in (vmapped, looped)]
    error = ((flat[0] - flat[1]).norm(dim=1) / flat[1].norm(dim=1)).max().item()
    per_clip = {
        k: 1000 * s / args.batch
        for k, s in (("looped", looped_s), ("vmap", vmap_s), ("batch_backward", floor_s))
    }
    return {
        "model": str(path) if path else f"{args.preset} (untrained)",
        "parameters": count_parameters(model),
        "batch": args.batch,
        "clip_shape": [3, args.frames, args.size, args.size],
        "chunk_size": args.chunk_size,
        "ms_per_clip": {k: round(v, 2) for k, v in per_clip.items()},
        "speedup_vmap_over_loop": round(looped_s / vmap_s, 2),
        "speedup_floor_over_loop": round(looped_s / floor_s, 2),
        "max_relative_difference": error,
        "device": describe_device(device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--checkpoint", default=None, help="denoiser (default: data/models/golden_quick)")
    parser.add_argument("--preset", default=None, help="a freshly initialised preset instead of a checkpoint")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--chunk-size", type=int, default=None, help="clips per vmap chunk (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even if a GPU is present")
    parser.add_argument("--out", default=None, help="write OUT.json with provenance")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    result = measure(args, device)
    for name, ms in result["ms_per_clip"].items():
        print(f"{name:>15}: {ms:8.1f} ms per clip")
    print(
        f"vmap is {result['speedup_vmap_over_loop']}x the loop's speed "
        f"(the batched-backward floor: {result['speedup_floor_over_loop']}x); "
        f"largest relative difference {result['max_relative_difference']:.1e} ({result['device']})"
    )
    if args.out:
        block = provenance("n/a", 0, device, script="benchmarks/bench_gradients.py")
        print(f"wrote {write_result(args.out + '.json', result, block)}")


if __name__ == "__main__":
    main()
