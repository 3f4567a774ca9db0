"""Pictures of MCM's pieces for notebook 05: the boundary scalings, what each motion
representation keeps of a clip, where the two kinds of trajectory start, what the
discriminator compares."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from tqd_lite.diffusion.noise import from_model_range, make_noise_scheduler, to_model_range
from tqd_lite.mcm.consistency import (
    MOTION_REPRESENTATIONS,
    MotionHead,
    boundary_scalings,
    motion_representation,
)
from tqd_lite.viz.plots import frame_strip


def boundary_scalings_figure(scalings=(4.0, 10.0)):
    """``c_skip`` and ``c_out`` against the timestep for each ``timestep_scaling`` (log x-axis):
    the boundary condition holds at t = 0, and f is the x0 estimate everywhere else."""
    scheduler = make_noise_scheduler()
    t = torch.arange(0, 1000)
    figure, ax = plt.subplots(figsize=(5.5, 3))
    for scaling, style in zip(scalings, ("-", ":"), strict=True):
        c_skip, c_out = boundary_scalings(scheduler, t, scaling)
        ax.plot(t[1:], c_skip[1:], "C0" + style, label=f"c_skip, timestep_scaling {scaling:g}")
        ax.plot(t[1:], c_out[1:], "C3" + style, label=f"c_out, timestep_scaling {scaling:g}")
    ax.set(
        xscale="log", xlabel="timestep t (log scale; t = 0 not shown: c_skip = 1, c_out = 0)", ylabel="scale"
    )
    ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def signed_for_display(z: torch.Tensor) -> torch.Tensor:
    """Map a signed tensor to [0, 1] for display: 0 is mid-grey, the largest |value| is 0 or 1."""
    return 0.5 + 0.5 * z / z.abs().max().clamp(min=1e-8)


def representations_figure(clip: torch.Tensor, head: MotionHead | None = None):
    """One row per motion representation of ``clip`` ``(3, F, H, W)`` in [0, 1]: what the
    consistency loss compares. Signed maps are shown around mid-grey."""
    z = to_model_range(clip)[None]  # (1, 3, F, H, W) in model range, as the loss sees it
    rows, labels = [], []
    for kind in MOTION_REPRESENTATIONS:
        rep = motion_representation(z, kind)
        if rep.shape[2] < z.shape[2]:  # temporal difference: one frame fewer, pad in front
            rep = torch.cat([torch.zeros_like(rep[:, :, :1]), rep], dim=2)
        rows.append(from_model_range(rep) if kind in ("raw", "low_pass") else signed_for_display(rep))
        labels.append(kind.replace("_", " "))
    if head is not None:
        with torch.no_grad():
            rows.append(from_model_range(head(z)))
        labels.append("learned head")
    return frame_strip(torch.cat(rows), labels)[0, 0].figure


def trajectories_figure(real, noisy_real, generated, noisy_generated, t: int):
    """Where the two kinds of trajectory start (``(3, F, H, W)`` clips in [0, 1]): a real clip
    and the student's one-step sample, each followed by its point at timestep ``t``."""
    clips = torch.stack([real, noisy_real, generated, noisy_generated])
    labels = ["real clip x0", f"its x_t, t={t}", "student sample x0", f"its x_t, t={t}"]
    return frame_strip(clips, labels)[0, 0].figure


def discriminator_figure(
    real: torch.Tensor,
    fake: torch.Tensor,
    real_logits,
    fake_logits,
    names: tuple[str, str] = ("real", "student"),
    columns: int = 8,
):
    """Two rows of images ``(N, 3, H, W)``: high-quality images and generated frames (``names``
    labels the rows), each titled with the discriminator's logit."""
    columns = min(columns, len(real), len(fake))
    figure, axes = plt.subplots(2, columns, figsize=(columns * 0.95, 2.4), squeeze=False)
    for row, (images, logits, name) in enumerate(
        ((real, real_logits, names[0]), (fake, fake_logits, names[1]))
    ):
        for col in range(columns):
            ax = axes[row, col]
            ax.imshow(images[col].permute(1, 2, 0).clamp(0, 1).numpy(), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{float(logits[col]):+.2f}", fontsize=7)
        axes[row, 0].set_ylabel(name, fontsize=8)
    figure.tight_layout()
    return figure


def history_figure(history: list[dict]):
    """Distillation losses against the step (and the head's output/input norm ratio, if learned)."""
    steps = np.array([h["step"] for h in history])
    keys = [k for k in history[0] if k != "step"]
    figure, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.6), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        ax.plot(steps, [h[key] for h in history], marker=".")
        ax.set(xlabel="step", title=key.replace("_", " "))
    figure.tight_layout()
    return figure
