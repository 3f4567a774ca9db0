"""What survives the noise? Layout, motion and detail of a clip, recovered from x_t.

A clip splits into three parts:

* ``layout``: each frame blurred (Gaussian, sigma = ``size / 8`` pixels): where the colours
  and the sprites are, without texture;
* ``motion``: how the layout changes from frame to frame (temporal differences of ``layout``);
* ``detail``: each frame minus its blurred copy: stripes, checkers, sharp edges.

:func:`recovery_errors` noises clips to each timestep, asks a trained model for its guess of the
clean clip ``x0_hat``, and measures for each part how far the guess is from the truth, relative
to the part's own size (0: recovered exactly; 1: as wrong as guessing nothing, i.e. the clip's
mean). The timestep where a part's error passes 1/2 is where the model can no longer learn that
part from the noisy clip: TQD's premise (docs/papers.md section 1) is that detail goes first and
coarse structure last.
"""

from __future__ import annotations

import torch

from tqd_lite.diffusion.noise import guess_x0
from tqd_lite.world.clips import check_clip
from tqd_lite.world.degrade import blur_frames

PARTS = ("layout", "motion", "detail")


def decompose(clips: torch.Tensor) -> dict[str, torch.Tensor]:
    """``{"layout", "motion", "detail"}`` of clips ``(B, 3, F, H, W)`` (see the module doc)."""
    check_clip(clips, batched=True, name="clips")
    blurred = blur_frames(clips, sigma=clips.shape[-1] / 8)  # (B, 3, F, H, W)
    return {
        "layout": blurred,
        "motion": blurred[:, :, 1:] - blurred[:, :, :-1],  # (B, 3, F-1, H, W)
        "detail": clips - blurred,
    }


def recovery_errors(
    model, noise_scheduler, clips: torch.Tensor, timesteps: list[int], seed: int = 0
) -> dict[str, list[float]]:
    """Relative error of each part of ``x0_hat`` for clips ``(B, 3, F, H, W)`` at each timestep.

    ``|part(x0_hat) - part(x0)| / |part(x0) - mean|``, summed over the batch, where ``mean`` is
    each clip's mean colour for the layout and 0 for motion and detail. The same noise is used at
    every timestep. Returns ``{"t": timesteps, "layout": [...], "motion": [...], "detail": [...]}``.
    """
    true = decompose(clips)
    true["layout"] = true["layout"] - true["layout"].mean(dim=(2, 3, 4), keepdim=True)
    noise = torch.randn(clips.shape, generator=torch.Generator().manual_seed(seed))
    errors = {"t": list(timesteps), **{part: [] for part in PARTS}}
    for t in timesteps:
        guess = decompose(guess_x0(model, noise_scheduler, clips, noise, torch.full((len(clips),), t)))
        guess["layout"] = guess["layout"] - clips.mean(dim=(2, 3, 4), keepdim=True)
        for part in PARTS:
            errors[part].append(((guess[part] - true[part]).norm() / true[part].norm()).item())
    return errors
