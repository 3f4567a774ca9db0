"""The spectrum-matched baseline (tqd_lite.tqd.spectrum): measures, matching, distances."""

import numpy as np
import pytest

from tqd_lite.quality.metrics import frechet_distance
from tqd_lite.quality.sanity import golden_renders
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.tqd.spectrum import (
    load_sample_measures,
    matched_indices,
    sample_measures,
    save_sample_measures,
    spectrum_matched_distances,
)
from tqd_lite.world.degrade import VISUAL_DEGRADATIONS


def synthetic_measures(rng, n, energy_mean):
    """Samples whose features depend on their energy only: matching the energy matches the features."""
    energy = rng.normal(energy_mean, 1.0, n)
    contrast = rng.normal(0.2, 0.01, n)
    features = np.stack([energy, 0.5 * energy, rng.normal(0, 0.1, n)], axis=1).astype(np.float32)
    return {"features": features, "log_high_frequency": energy, "contrast": contrast}


def test_blur_lowers_the_measured_high_frequency_energy_and_measures_round_trip(tmp_path):
    golden = golden_renders(8, size=16, num_frames=8, seed=3)
    suite = MetricSuite.with_reference(golden)
    sharp = sample_measures(golden, suite)
    blurred = sample_measures(VISUAL_DEGRADATIONS["blur"](golden, 1.0), suite)
    assert (blurred["log_high_frequency"] < sharp["log_high_frequency"]).all()
    luma = 0.299 * golden[:, 0] + 0.587 * golden[:, 1] + 0.114 * golden[:, 2]
    assert sharp["contrast"] == pytest.approx(luma.flatten(1).std(dim=1).double().numpy())
    assert sharp["features"].shape == (8, suite.reference.shape[1])
    save_sample_measures(tmp_path, sharp)
    loaded = load_sample_measures(tmp_path)
    assert all(np.array_equal(loaded[k], v) for k, v in sharp.items())
    assert load_sample_measures(tmp_path / "missing") is None


def test_matching_selects_baseline_samples_with_the_treated_spectrum():
    rng = np.random.default_rng(0)
    treated, baseline = synthetic_measures(rng, 200, 0.5), synthetic_measures(rng, 200, 0.0)
    half, matched = matched_indices(treated, baseline, seed=0)
    assert len(half) == len(matched) == 100 and len(set(matched.tolist())) == 100  # each used once
    result = spectrum_matched_distances(treated, baseline, treated["features"].astype(np.float64), seed=0)
    assert abs(result["gap_log_high_frequency_after"]) < 0.15 < 0.35 < result["gap_log_high_frequency_before"]
    # the features follow the energy, so the matched baseline is about as close as the treated half,
    # while the whole baseline is far
    reference = treated["features"].astype(np.float64)
    unmatched = frechet_distance(baseline["features"][:100].astype(np.float64), reference)
    assert result["fd_baseline_matched"] < 0.3 * unmatched
    assert result["fd_baseline_matched"] == pytest.approx(result["fd_treated"], abs=0.15)
