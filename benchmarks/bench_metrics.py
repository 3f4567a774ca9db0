"""How fast do the learned metrics train, in fp32 and under bf16 autocast?

    python benchmarks/bench_metrics.py --size 16
    python benchmarks/bench_metrics.py --size 32 --out results/benchmarks/metrics_32_cpu.json

Times a training step (forward, backward, AdamW) of the sprite tracker (a batch of frames) and of
the quality judge (a batch of clips), each in fp32 and under bf16 autocast, and reports the
achieved GFLOP/s beside the step time (forward FLOPs counted with torch's FLOP counter, backward
taken as twice the forward). On our Xeons bf16 autocast sped the denoiser up 1.7x but slowed
these small convolutions down about tenfold, which is why both train in fp32.
A script, not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from tqd_lite.provenance import describe_device, provenance, write_result
from tqd_lite.quality.judge import QualityJudge, judge_loss
from tqd_lite.quality.tracker import SpriteTracker


def forward_flops(model: torch.nn.Module, inputs: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(inputs)
    return counter.get_total_flops()


def time_steps(model, loss_of, inputs, *, bf16: bool, steps: int, warmup: int = 2) -> float:
    """Mean seconds per training step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        with autocast:
            loss = loss_of(model, inputs)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--out", default=None, help="write the measurements as a result file")
    args = parser.parse_args()
    torch.manual_seed(0)
    cases = {
        "tracker": (
            SpriteTracker(),
            torch.rand(128 if args.size <= 16 else 64, 3, args.size, args.size),
            lambda m, x: m(x).float().pow(2).mean(),
        ),
        "judge": (
            QualityJudge(input_stride=max(1, args.size // 16)),
            torch.rand(64, 3, 8, args.size, args.size),
            lambda m, x: judge_loss(m, x, torch.rand(len(x), 3)),
        ),
    }
    results = {}
    for name, (model, inputs, loss_of) in cases.items():
        flops = 3 * forward_flops(model, inputs)  # forward + backward (about twice the forward)
        for precision in ("fp32", "bf16"):
            seconds = time_steps(model, loss_of, inputs, bf16=precision == "bf16", steps=args.steps)
            results[f"{name}_{precision}"] = {
                "batch": len(inputs),
                "seconds_per_step": round(seconds, 4),
                "gflop_per_step": round(flops / 1e9, 3),
                "achieved_gflops": round(flops / seconds / 1e9, 1),
            }
            gflops = flops / seconds / 1e9
            print(f"{name:8s} {precision}: {seconds * 1000:8.1f} ms/step, {gflops:6.1f} GFLOP/s")
    if args.out:
        write_result(args.out, {"size": args.size, "results": results}, provenance("-", 0, "cpu"))
        print(f"device {describe_device('cpu')}; written {args.out}")


if __name__ == "__main__":
    main()
