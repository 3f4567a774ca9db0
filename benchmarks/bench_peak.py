"""The matrix-multiply peak in fp32 and bf16: the ceiling a training step is measured against.

    python benchmarks/bench_peak.py
    python benchmarks/bench_peak.py --out results/benchmarks/peak_cpu.json

Times a plain ``n x n @ n x n`` product (2 n^3 FLOP) at a few sizes, in fp32 and bf16, with the
threads torch uses, and keeps the best GFLOP/s of each dtype: the achieved peak that
``bench_train.py`` divides its step's GFLOP/s by. Also prints whether oneDNN has bf16 units here
(AVX-512 BF16 or AMX): without them bf16 is emulated and slower than fp32. A script, not a test.
"""

from __future__ import annotations

import argparse
import time

import torch

from tqd_lite.provenance import describe_device, provenance, write_result

SIZES = (256, 512, 1024, 2048)


def matmul_gflops(n: int, dtype: torch.dtype, device: torch.device, seconds: float = 1.0) -> float:
    """Best-of-repeats GFLOP/s of an n x n matrix product."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    a @ b  # warm-up: oneDNN picks and caches its kernel
    sync()
    best, spent = float("inf"), 0.0
    while spent < seconds:
        start = time.perf_counter()
        a @ b
        sync()
        elapsed = time.perf_counter() - start
        best, spent = min(best, elapsed), spent + elapsed
    return 2 * n**3 / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    device = torch.device(args.device)
    # private but the only direct probe: True when oneDNN runs bf16 on AVX-512 BF16 or AMX units
    units = device.type == "cuda" or bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    result = {
        "device": describe_device(device),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_units": units,
    }
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        by_size = {n: round(matmul_gflops(n, dtype, device), 1) for n in SIZES}
        result[f"{name}_gflops_by_size"] = by_size
        result[f"{name}_peak_gflops"] = max(by_size.values())
        print(f"{name}: {by_size} -> peak {result[f'{name}_peak_gflops']} GFLOP/s")
    print(f"bf16 units: {units} ({result['cpu_capability']}, {result['threads']} threads)")
    if args.out:
        write_result(args.out, result, provenance("benchmark", 0, device))


if __name__ == "__main__":
    main()
