"""The clip scores measure what they claim, and normalisation is a percentile rank."""

import numpy as np
import pytest
import torch

from tqd_lite.degrade import blur, downsample, quantise, slow_down
from tqd_lite.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world import ClipSpec, render_clip


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


def test_motion_score_ignores_blur_and_visual_score_ignores_motion():
    # averaged over scenes: the normal-flow estimate is invariant to blur up to sampling effects
    specs = [ClipSpec(seed=s, motion_intensity=0.6) for s in range(12)]
    sharp = torch.stack([render_clip(s) for s in specs])
    ratio = motion_score(blur(sharp, 0.6)).mean() / motion_score(sharp).mean()
    assert 0.8 < ratio < 1.2
    assert torch.allclose(visual_score(slow_down(sharp, 0.8)), visual_score(sharp), rtol=0.3)


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
