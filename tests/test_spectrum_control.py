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


def test_matching_keeps_equal_sets_with_one_spectrum():
    rng = np.random.default_rng(0)
    treated, baseline = synthetic_measures(rng, 256, 0.7), synthetic_measures(rng, 256, 0.0)
    kept_a, kept_b = matched_indices(treated, baseline, seed=0)
    assert len(kept_a) == len(kept_b) > 64  # equal counts: FD is biased by the count
    assert len(set(kept_a.tolist())) == len(kept_a) and len(set(kept_b.tolist())) == len(kept_b)
    reference = treated["features"].astype(np.float64)
    result = spectrum_matched_distances(treated, baseline, reference, seed=0)
    assert abs(result["gap_log_high_frequency_after"]) < 0.1 < 0.5 < result["gap_log_high_frequency_before"]
    # the features follow the energy: once matched, the two sets are about equally far from the
    # reference, while the whole baseline is much farther than the whole treated arm
    whole = {
        k: frechet_distance(m["features"].astype(np.float64), reference)
        for k, m in (("a", treated), ("b", baseline))
    }
    assert whole["b"] - whole["a"] > 0.3
    assert abs(result["fd_baseline_matched"] - result["fd_treated_matched"]) < 0.3 * (whole["b"] - whole["a"])


def test_too_few_matched_samples_give_no_distance():
    rng = np.random.default_rng(1)
    treated, baseline = (
        synthetic_measures(rng, 8, 0.7),
        synthetic_measures(rng, 8, 0.0),
    )  # the quick profile's 8
    assert spectrum_matched_distances(treated, baseline, treated["features"].astype(np.float64)) is None
