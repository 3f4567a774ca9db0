"""Evaluation metrics: the Fréchet distance in closed form, dynamic degree, and the encoder's sanity."""

import numpy as np
import pytest
import torch

from tqd_lite.degrade import DEGRADATIONS, blur, degrade, freeze
from tqd_lite.encoder import encoder_path, load_encoder
from tqd_lite.metrics import dynamic_degree, evaluate_clips, frechet_distance, frechet_video_distance
from tqd_lite.scores import PercentileNormaliser


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


def test_dynamic_degree_counts_moving_clips(sharp_moving_clip):
    still = sharp_moving_clip[:, :1].expand_as(sharp_moving_clip)
    assert dynamic_degree(torch.stack([sharp_moving_clip, still, still, still])) == 0.25


@pytest.fixture(scope="module")
def golden_sets(golden_and_heldout):
    if not encoder_path(16).exists():
        pytest.fail(
            "data/encoder/encoder_16.pt is missing: `python -m tqd_lite train-encoder --profile quick`"
        )
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
    assert distances[:4] == sorted(distances[:4]), distances
    # at full strength freeze and stutter saturate (one jump, then still: the same kind of clip
    # as at 0.75), so only ask that it stays clearly far from clean
    assert distances[4] > 20 * distances[0], distances


def test_evaluate_clips_reports_every_metric(golden_sets):
    golden, heldout = golden_sets
    norm = PercentileNormaliser(np.linspace(0, 2, 50))
    result = evaluate_clips(golden[:20], heldout, norm, norm)
    assert set(result) == {
        "num_clips",
        "dynamic_degree",
        "motion_raw",
        "visual_raw",
        "mq",
        "vq",
        "frechet_distance",
    }
    assert result["dynamic_degree"] == 1.0 and 0 <= result["mq"] <= 1
