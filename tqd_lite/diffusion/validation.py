"""The fixed-bucket validation loss: the denoising loss of held-out clips at ten fixed noise levels,
with the same clips, the same noise and the same timesteps at every checkpoint.

SANA-Video 2.0 (appendix B.4; docs/papers.md, "SANA-Video 2.0") validates this way: with nothing
drawn afresh, two checkpoints' losses differ only by their weights, which cut the spread of
checkpoint-to-checkpoint differences 2.3x against i.i.d. timesteps there.
"""

from __future__ import annotations

import torch

from tqd_lite.diffusion.noise import NUM_TRAIN_TIMESTEPS, to_model_range
from tqd_lite.diffusion.train import diffusion_loss

NUM_BUCKETS = 10


def bucket_timesteps(
    num_buckets: int = NUM_BUCKETS, num_train_timesteps: int = NUM_TRAIN_TIMESTEPS
) -> list[int]:
    """The centre of each of ``num_buckets`` equal slices of [0, T): ``t_k = floor((k + 1/2) T / K)``."""
    if num_buckets < 1 or num_buckets > num_train_timesteps:
        raise ValueError(f"num_buckets must be in [1, {num_train_timesteps}], got {num_buckets}")
    return [int((k + 0.5) * num_train_timesteps / num_buckets) for k in range(num_buckets)]


@torch.no_grad()
def fixed_bucket_loss(
    model: torch.nn.Module,
    noise_scheduler,
    clips: torch.Tensor,
    *,
    num_buckets: int = NUM_BUCKETS,
    seed: int = 0,
    batch_size: int = 32,
) -> dict:
    """The plain (unweighted) denoising loss of ``clips`` ``(N, 3, F, H, W)`` in [0, 1] at each bucket.

    Every bucket noises the same clips with the same noise (drawn once from ``seed``), so the
    result is a pure function of the weights. The model predicts what it was trained to
    (``noise_scheduler.config.prediction_type``), unconditionally (``labels=None``).

    Returns ``{"timesteps": [K], "loss": [K], "mean": float}``: each bucket's mean over the clips,
    and the mean over the buckets.
    """
    if clips.ndim != 5 or len(clips) == 0:
        raise ValueError(f"clips must be a non-empty batch (N, 3, F, H, W), got shape {tuple(clips.shape)}")
    device = next(model.parameters()).device
    x0 = to_model_range(clips.float())  # (N, 3, F, H, W) in [-1, 1]
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))  # one draw for all buckets
    timesteps = bucket_timesteps(num_buckets, noise_scheduler.config.num_train_timesteps)
    losses = []
    for timestep in timesteps:
        total = 0.0
        for start in range(0, len(x0), batch_size):
            x, eps = x0[start : start + batch_size].to(device), noise[start : start + batch_size].to(device)
            batch = {
                "x0": x,
                "noise": eps,
                "timesteps": torch.full((len(x),), timestep, device=device, dtype=torch.long),
                "labels": None,
                "weights": torch.ones(len(x), device=device),
            }
            # the training loop's own loss, unweighted: the mean over the batch of |model(x_t) - target|^2
            total += diffusion_loss(model, noise_scheduler, batch).item() * len(x)
        losses.append(total / len(x0))
    return {"timesteps": timesteps, "loss": losses, "mean": sum(losses) / len(losses)}
