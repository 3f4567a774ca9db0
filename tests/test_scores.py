"""The clip scores measure what they claim, and normalisation is a percentile rank."""

import math

import numpy as np
import pytest
import torch

from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world.degrade import blur, downsample, quantise, slow_down
from tqd_lite.world.render import ClipSpec, render_clip


def test_blurred_clip_scores_lower_on_visual_quality_than_its_sharp_twin(sharp_moving_clip):
    for degraded in (
        blur(sharp_moving_clip, 0.6),
        downsample(sharp_moving_clip, 0.3),
        quantise(sharp_moving_clip, 0.6),
    ):
        assert visual_score(degraded) < 0.5 * visual_score(sharp_moving_clip)


def test_frozen_clip_scores_zero_on_motion(sharp_moving_clip):
    frozen = sharp_moving_clip[:, :1].expand_as(sharp_moving_clip)
    assert motion_score(frozen).item() == pytest.approx(0.0, abs=1e-6)
    assert motion_score(sharp_moving_clip).item() > 0.5


def _translating_grating(period: float, speed: float, size: int = 32, frames: int = 8) -> torch.Tensor:
    """A sinusoidal grating moving ``speed`` pixels per frame (supersampled 4x)."""
    fine = torch.arange(size * 4.0) / 4
    y, x = torch.meshgrid(fine, fine, indexing="ij")
    t = torch.arange(frames).view(-1, 1, 1)
    image = 0.5 + 0.4 * torch.sin(
        2 * math.pi * (math.cos(0.3) * (x - speed * t) + math.sin(0.3) * y) / period
    )
    return image.view(frames, size, 4, size, 4).mean((2, 4)).expand(3, -1, -1, -1)


def test_motion_score_reads_pixels_per_frame_for_small_motions_and_never_explodes():
    for speed in (0.25, 0.5, 1.0, 2.0):
        assert motion_score(_translating_grating(16, speed)).item() == pytest.approx(speed, rel=0.1)
    for period, speed in ((4, 2.0), (8, 4.0), (4, 1.0)):  # half-period jumps once made the ratio explode
        assert motion_score(_translating_grating(period, speed)).item() <= 1.25 * speed


def test_motion_score_ignores_blur_and_visual_score_ignores_motion():
    # averaged over scenes: the normal-flow estimate is invariant to blur up to sampling effects
    specs = [ClipSpec(seed=s, motion_intensity=0.6) for s in range(12)]
    sharp = torch.stack([render_clip(s) for s in specs])
    ratio = motion_score(blur(sharp, 0.6)).mean() / motion_score(sharp).mean()
    assert 0.8 < ratio < 1.2
    # and the detail score to repeated frames, averaged over scenes (a clip's frames differ in detail
    # as coarse textures move across the pixel grid, so one clip's repeats can shift its mean)
    ratio = visual_score(slow_down(sharp, 0.8)).mean() / visual_score(sharp).mean()
    assert 0.9 < ratio < 1.1
    assert visual_score(blur(sharp, 0.6)).mean() / visual_score(sharp).mean() < 0.5  # what it does see


def test_percentile_normaliser_ranks_and_places_new_values():
    norm = PercentileNormaliser(np.array([3.0, 1.0, 2.0, 4.0]))
    np.testing.assert_allclose(norm.transform([1.0, 2.0, 3.0, 4.0]), [0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(norm.transform([0.0, 2.5, 9.0]), [0.0, 0.5, 1.0])
    ties = PercentileNormaliser(np.array([1.0, 1.0, 2.0, 2.0]))
    np.testing.assert_allclose(ties.transform([1.0, 2.0]), [0.25, 0.75])


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")]])
def test_percentile_normaliser_rejects_empty_or_nan(bad):
    with pytest.raises(ValueError, match="non-empty reference of finite scores"):
        PercentileNormaliser(np.array(bad))
    with pytest.raises(ValueError, match="NaN or infinite scores"):
        PercentileNormaliser(np.arange(3.0)).transform([0.5, float("inf")])
