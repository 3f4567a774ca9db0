"""Clip scores: measurable stand-ins for TQD's motion quality (MQ) and visual quality (VQ).

The TQD authors score clips with a video reward model (docs/papers.md, section 1). We use two
measurements that need no trained model [our choice]:

* **motion score**: a normal-flow motion index, about pixels per frame. Brightness constancy
  ``I_x u + I_y v + I_t = 0`` only fixes the flow component along the image gradient,
  ``|I_t| / |grad I|``. Averaging it with weights ``|grad I|^2`` gives
  ``sum |I_t| |grad I| / sum |grad I|^2``, which does not change when the frames are blurred
  (``I_t`` and ``grad I`` shrink together), so it measures movement, not texture.
  Frames are low-passed first so that motions of a few pixels stay within the linear range.
  Per clip it still moves a little with heavy visual damage; over a corpus that coupling washes out.
* **visual score**: the high-frequency energy of each frame, the mean squared difference
  between the luma and a blurred copy of it. Blur, downsampling and coarse quantisation all
  remove it; movement does not change it.

Raw scores are normalised per corpus to [0, 1] by percentile rank (:class:`PercentileNormaliser`);
generated clips are normalised against the training corpus the same way.
"""

from __future__ import annotations

import numpy as np
import torch

from tqd_lite.world.clips import batchwise, check_clip, luminance
from tqd_lite.world.degrade import gaussian_blur_images

MOTION_PREFILTER_SIGMA = 1.0  # px; low-pass before the flow estimate
DETAIL_SIGMA = 1.0  # px; what "high frequency" means for the visual score
EPS = 1e-8


def _blur_luma(luma: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``(B, F, H, W)`` luma frames."""
    b, f, h, w = luma.shape
    return gaussian_blur_images(luma.reshape(b * f, 1, h, w), sigma).reshape(b, f, h, w)


@batchwise
def motion_score(clips: torch.Tensor) -> torch.Tensor:
    """Normal-flow motion index of each clip: ``(B, C, F, H, W)`` -> ``(B,)``.

    About pixels per frame while the motion is small against the texture's scale (a test checks
    this on translating gratings); larger motions read lower, never higher.
    """
    luma = _blur_luma(luminance(clips), MOTION_PREFILTER_SIGMA)  # (B, F, H, W)
    i_t = luma[:, 1:] - luma[:, :-1]  # (B, F-1, H, W)
    i_y, i_x = torch.gradient(luma, dim=(2, 3))
    grad_sq = i_x**2 + i_y**2
    # |grad I| of a frame pair: RMS of the two frames' own gradients. (The gradient of their
    # average would cancel when a texture moves by half its period, and the ratio would explode.)
    grad_norm = torch.sqrt(0.5 * (grad_sq[:, 1:] + grad_sq[:, :-1]))
    # speed ~ sum |I_t| |grad I| / sum |grad I|^2, summed over pixels and frame pairs
    return (i_t.abs() * grad_norm).sum(dim=(1, 2, 3)) / (grad_norm.pow(2).sum(dim=(1, 2, 3)) + EPS)


def frame_visual_scores(clips: torch.Tensor) -> torch.Tensor:
    """High-frequency energy of every frame: ``(B, C, F, H, W)`` -> ``(B, F)`` (or ``(F,)`` for one clip)."""
    check_clip(clips)
    luma = luminance(clips if clips.ndim == 5 else clips.unsqueeze(0))  # (B, F, H, W)
    scores = (luma - _blur_luma(luma, DETAIL_SIGMA)).pow(2).mean(dim=(2, 3))  # (B, F)
    return scores if clips.ndim == 5 else scores.squeeze(0)


def visual_score(clips: torch.Tensor) -> torch.Tensor:
    """Mean high-frequency energy over frames: ``(B, C, F, H, W)`` -> ``(B,)``."""
    return frame_visual_scores(clips).mean(dim=-1)


class PercentileNormaliser:
    """Map raw scores to [0, 1] by their percentile rank in a reference corpus.

    ``transform(x)`` is the mid-rank empirical CDF of the reference at ``x``: the share of
    reference values below ``x`` plus half the share equal to it. Applied to the reference
    itself it gives ranks ``(i + 0.5) / n``; applied to new clips (for example generated
    ones) it places them on the corpus's scale.
    """

    def __init__(self, reference: np.ndarray | torch.Tensor):
        reference = np.asarray(reference, dtype=np.float64).ravel()
        if reference.size == 0 or not np.all(np.isfinite(reference)):
            raise ValueError("PercentileNormaliser needs a non-empty reference of finite scores")
        self.reference = np.sort(reference)

    def transform(self, raw: np.ndarray | torch.Tensor) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if not np.all(np.isfinite(raw)):
            raise ValueError("PercentileNormaliser.transform got NaN or infinite scores (a diverged sample?)")
        below = np.searchsorted(self.reference, raw, side="left")
        below_or_equal = np.searchsorted(self.reference, raw, side="right")
        return (below + below_or_equal) / (2.0 * self.reference.size)
