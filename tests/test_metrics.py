"""Evaluation metrics: the Fréchet distance in closed form, dynamic degree, and the encoder's sanity."""

import numpy as np
import pytest
import torch
from scipy import linalg

from tqd_lite.quality.encoder import encoder_path, load_encoder
from tqd_lite.quality.metrics import dynamic_degree, evaluate_clips, frechet_distance, frechet_video_distance
from tqd_lite.quality.scores import PercentileNormaliser, motion_score
from tqd_lite.world.degrade import DEGRADATIONS, blur, degrade, freeze


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4))
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert frechet_distance(x, x + shift) == pytest.approx(np.sum(shift**2), rel=1e-8)  # same covariance
    # 1-D: (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2, with sample moments
    a, b = rng.normal(0, 1, (400, 1)), rng.normal(3, 2, (400, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(x, x[:, :3])


def test_frechet_distance_cross_term_matches_scipy_for_non_commuting_covariances():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5))
    b = rng.normal(size=(300, 5)) @ rng.normal(size=(5, 5)) + 0.5
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    assert not np.allclose(cov_a @ cov_b, cov_b @ cov_a)
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(
        cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real
    )
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)


def test_dynamic_degree_counts_moving_clips(sharp_moving_clip):
    still = sharp_moving_clip[:, :1].expand_as(sharp_moving_clip)
    assert dynamic_degree(torch.stack([sharp_moving_clip, still, still, still])) == 0.25


@pytest.fixture(scope="module")
def golden_sets(golden_and_heldout):
    if not encoder_path(16).exists():
        pytest.fail("data/encoder/encoder_16/ is missing: `python -m tqd_lite train-encoder --profile quick`")
    return golden_and_heldout


def test_golden_vs_heldout_golden_is_small_and_degraded_clips_are_clearly_farther(golden_sets):
    golden, heldout = golden_sets
    clean = frechet_video_distance(golden, heldout)
    for degraded in (blur(golden, 0.75), freeze(golden, 0.75)):
        assert frechet_video_distance(degraded, heldout) > 10 * clean


@pytest.mark.parametrize("kind", sorted(DEGRADATIONS))
def test_distance_grows_with_degradation_strength(golden_sets, kind):
    golden, heldout = golden_sets
    encoder = load_encoder(16)
    distances = [
        frechet_video_distance(degrade(golden, kind, s), heldout, encoder)
        for s in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    # grows with strength, up to differences below the metric's noise floor: two golden samples
    # already differ by distances[0], so a dip smaller than twice that is not evidence of anything
    noise_floor = 2 * distances[0]
    # stutter at 0.75 and at 1 is the same kind of clip (a hold, then one jump): no order expected there
    compared = distances[:4] if kind == "stutter" else distances
    for weaker, stronger in zip(compared, compared[1:], strict=False):
        assert stronger > weaker - noise_floor, distances
    assert distances[-1] > 20 * distances[0], distances


def test_evaluate_clips_reports_every_metric(golden_sets):
    golden, heldout = golden_sets
    still = golden[:10, :, :1].expand(-1, -1, golden.shape[2], -1, -1)
    clips = torch.cat([golden[:10], still])  # half moving, half still
    motion_scale = PercentileNormaliser(np.linspace(0, 2, 50))
    result = evaluate_clips(clips, heldout, motion_scale, PercentileNormaliser(np.linspace(0, 0.01, 50)))
    assert set(result) == {
        "num_clips",
        "dynamic_degree",
        "motion_raw",
        "visual_raw",
        "mq",
        "vq",
        "frechet_distance",
    }
    assert result["num_clips"] == 20 and result["dynamic_degree"] == 0.5
    # the still half scores 0 on motion; mq is the mean of the two halves' ranks
    moving_mq = motion_scale.transform(motion_score(golden[:10]).numpy()).mean()
    still_mq = motion_scale.transform(np.zeros(1)).item()
    assert result["mq"] == pytest.approx((moving_mq + still_mq) / 2)
    assert result["frechet_distance"] > frechet_video_distance(golden[:20], heldout)
