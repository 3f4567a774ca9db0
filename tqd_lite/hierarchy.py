"""When does a sampler decide what? Layout, motion and detail along a sampling trajectory.

A clip splits into three parts that add up to it (or, for motion, that it determines):

* ``layout``: each frame blurred (Gaussian, sigma = ``size / 8`` pixels): where the colours
  and the sprites are, without texture;
* ``motion``: how the layout changes from frame to frame (temporal differences of ``layout``);
* ``detail``: each frame minus its blurred copy: stripes, checkers, sharp edges.

During DDIM sampling the model's x0 prediction ``x0_hat(t)`` changes at every step until it
becomes the sample. For each part, :func:`commitment_curves` measures how far ``x0_hat(t)`` still
is from the final sample, as a share of its distance at the first step: 1 means "not decided
yet", 0 means "settled". TQD's premise (papers.md section 1) is that the layout and motion
curves fall at high noise and the detail curve only at low noise.
"""

from __future__ import annotations

import torch

from tqd_lite.clips import check_clip
from tqd_lite.degrade import gaussian_blur_images

PARTS = ("layout", "motion", "detail")


def decompose(clips: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"layout", "motion", "detail"}`` of clips ``(B, 3, F, H, W)`` (see the module doc)."""
    check_clip(clips, batched=True, name="clips")
    b, c, f, h, w = clips.shape
    frames = clips.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)  # (B*F, 3, H, W)
    blurred = gaussian_blur_images(frames, sigma=w / 8).reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4)
    return {
        "layout": blurred,
        "motion": blurred[:, :, 1:] - blurred[:, :, :-1],  # (B, 3, F-1, H, W)
        "detail": clips - blurred,
    }


def commitment_curves(trajectory: list[tuple[int, torch.Tensor]]) -> dict[str, list[float]]:
    """For ``[(t, x0_hat), ...]`` in sampling order (noisiest first): per part, the distance
    still to go, ``|part(x0_hat(t)) - part(final)|`` divided by its value at the first step.

    Returns ``{"t": [...], "layout": [...], "motion": [...], "detail": [...]}``.
    """
    if len(trajectory) < 2:
        raise ValueError("a trajectory needs at least two steps")
    final = decompose(trajectory[-1][1])
    distances = {part: [] for part in PARTS}
    for _, x0_hat in trajectory:
        parts = decompose(x0_hat)
        for part in PARTS:
            distances[part].append((parts[part] - final[part]).norm().item())
    curves = {"t": [t for t, _ in trajectory]}
    for part in PARTS:
        first = distances[part][0] or 1.0
        curves[part] = [d / first for d in distances[part]]
    return curves
