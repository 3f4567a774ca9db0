"""How fast does a denoiser train, and how much of a step is not the model?

    python benchmarks/bench_train.py --preset tiny --size 16 --batch 16
    python benchmarks/bench_train.py --preset small --size 32 --batch 32 --precision bf16 --compile
    python benchmarks/bench_train.py --preset tiny --out results/benchmarks/train_tiny_cpu.json
    python benchmarks/bench_train.py --preset tiny --peak results/benchmarks/peak_cpu.json

Times each part of a training step with the library's own pieces (``make_batch``,
``diffusion_loss``, AdamW, diffusers' ``EMAModel``), synchronising the GPU between parts:
data (drawing clips, noise and timesteps, copying to the device), forward, backward, the
optimiser and EMA update, and logging. Prints clips per second and the share of the step spent
outside the model's forward and backward, and the achieved GFLOP/s (the step's FLOPs counted by
torch's ``FlopCounterMode``); with ``--peak`` (a ``bench_peak.py`` file made on the same machine)
also the fraction of its fp32 and (with bf16 units) bf16 matrix-multiply peaks. A script, not a
test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
from diffusers.training_utils import EMAModel
from torch.utils.flop_counter import FlopCounterMode

from tqd_lite.diffusion.model import build_model, count_parameters
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.train import ClipBank, TrainConfig, diffusion_loss, make_batch
from tqd_lite.files import load_json
from tqd_lite.provenance import describe_device, provenance, write_result
from tqd_lite.world.render import ClipSpec, render_clips

PARTS = ("data", "forward", "backward", "optimizer_ema", "logging")


def step_flops(preset: str, size: int, batch: int) -> int:
    """FLOPs of one training step: forward counted by torch's counter, backward about twice that."""
    model = build_model(preset)
    x = torch.zeros(1, 3, 8, size, size)  # one clip, counted on the CPU: FLOPs scale with the batch
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x, torch.zeros(1, dtype=torch.long))
    return 3 * counter.get_total_flops() * batch


def measure(args, device: torch.device) -> dict:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    bank = ClipBank.from_float(render_clips([ClipSpec(seed=i, size=args.size) for i in range(64)]))
    config = TrainConfig(preset=args.preset, batch_size=args.batch)
    torch.manual_seed(0)
    model = build_model(args.preset).to(device)
    forward_model = torch.compile(model) if args.compile else model
    scheduler = make_noise_scheduler()
    scheduler.alphas_cumprod = scheduler.alphas_cumprod.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ema = EMAModel(model.parameters(), decay=0.999, use_ema_warmup=True, power=2 / 3)
    ema.to(device)
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if args.precision == "bf16"
        else contextlib.nullcontext()
    )
    seconds = dict.fromkeys(PARTS, 0.0)
    running = []
    for step in range(args.warmup + args.steps):
        marks = [time.perf_counter()]
        batch = make_batch(bank, config, step)
        batch = {k: (v.to(device) if v is not None else None) for k, v in batch.items()}
        sync()
        marks.append(time.perf_counter())
        with autocast:
            loss = diffusion_loss(forward_model, scheduler, batch, config.snr_gamma)
        sync()
        marks.append(time.perf_counter())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        sync()
        marks.append(time.perf_counter())
        optimizer.step()
        ema.step(model.parameters())
        sync()
        marks.append(time.perf_counter())
        running.append(loss.detach())
        if (step + 1) % 10 == 0:  # the training loop's logging: one host sync every 10 steps
            torch.stack(running).mean().item()
            running = []
        marks.append(time.perf_counter())
        if step >= args.warmup:
            for part, start, end in zip(PARTS, marks[:-1], marks[1:], strict=True):
                seconds[part] += end - start
    total = sum(seconds.values())
    return {
        "preset": args.preset,
        "parameters": count_parameters(model),
        "clip_shape": [3, 8, args.size, args.size],
        "batch_size": args.batch,
        "precision": args.precision,
        "compiled": args.compile,
        "device": describe_device(device),
        "steps_timed": args.steps,
        "seconds_per_step": total / args.steps,
        "clips_per_second": args.batch * args.steps / total,
        "share": {part: seconds[part] / total for part in PARTS},
        "share_outside_model": (seconds["data"] + seconds["logging"]) / total,
        "share_outside_forward_backward": 1 - (seconds["forward"] + seconds["backward"]) / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--size", type=int, default=16, help="frame size (16: quick, 32: full)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (and compilation)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--cpu", action="store_true", help="stay on the CPU even with a GPU")
    parser.add_argument("--peak", default=None, help="a bench_peak.py JSON file of this machine")
    parser.add_argument("--out", default=None, help="also write the numbers to this JSON file")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    block = provenance("-", 0, device)
    result = measure(args, device)
    flops = step_flops(args.preset, args.size, args.batch)
    result["achieved_gflops"] = flops / result["seconds_per_step"] / 1e9
    if args.peak:
        peak = load_json(args.peak, "matrix-multiply peak file")
        # without bf16 units (AVX-512 BF16, AMX) bf16 is emulated: its "peak" is no ceiling of a step
        for dtype in ("fp32", "bf16") if peak["bf16_units"] else ("fp32",):
            result[f"fraction_of_{dtype}_peak"] = result["achieved_gflops"] / peak[f"{dtype}_peak_gflops"]
        result["peak_file"] = args.peak
    print(
        f"{result['preset']} ({result['parameters']:,} parameters), batch {result['batch_size']} of "
        f"{'x'.join(map(str, result['clip_shape']))}, {result['precision']}"
        f"{', compiled' if result['compiled'] else ''}, {result['device']}"
    )
    print(f"  {result['seconds_per_step'] * 1000:.0f} ms/step, {result['clips_per_second']:.1f} clips/s")
    print("  " + ", ".join(f"{part} {share:.1%}" for part, share in result["share"].items()))
    fractions = [f"{value:.1%} of the {k.split('_')[2]} peak" for k, value in result.items() if "_peak" in k]
    print(f"  {result['achieved_gflops']:.1f} GFLOP/s" + (f" ({', '.join(fractions)})" if fractions else ""))
    print(
        f"  outside the model (data + logging): {result['share_outside_model']:.1%}; "
        f"outside forward and backward: {result['share_outside_forward_backward']:.1%}"
    )
    if args.out:
        print(f"  written: {write_result(args.out, result, block)}")


if __name__ == "__main__":
    main()
