"""The training loop the learned metrics share (the tracker and the judge): AdamW with a one-cycle
learning rate, random minibatches of a fixed, pre-rendered training set."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from tqdm.auto import tqdm


def fit(
    model: torch.nn.Module,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    num_examples: int,
    *,
    steps: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    desc: str,
    progress: bool = True,
) -> dict:
    """Train ``model`` for ``steps`` steps; ``loss_of(indices)`` is the loss of those examples.

    Returns ``{"losses": [...], "train_seconds": ...}``; the model is left in eval mode. fp32: bf16
    autocast made both metrics' small convolutions 12-19x slower per step on our CPUs
    (``results/benchmarks/metrics_16_cpu.json``), unlike the denoiser's matmuls.
    """
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, learning_rate, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    losses, start = [], time.perf_counter()
    for _ in tqdm(range(steps), desc=desc, disable=not progress):
        loss = loss_of(torch.randint(num_examples, (batch_size,), generator=generator))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    model.eval()
    return {"losses": losses, "train_seconds": time.perf_counter() - start}
