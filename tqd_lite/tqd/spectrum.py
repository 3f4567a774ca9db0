"""The spectrum-matched baseline: is a win over the baseline only sharper-looking output?

Issue "TQD on trustworthy ground" found the short runs' Fréchet distance tracking the samples'
high-frequency energy: TQD sends more low-noise draws to sharp clips, its samples end with more
fine grain, and a distance that rewards fine grain calls that a win. This control asks whether
a difference survives when both arms' samples are **selected** to one high-frequency energy and
contrast:

1. every run keeps, per sample, the judge's features (the space of the suite's FD and KID), its
   log high-frequency energy (the pool's visual score) and its contrast (the standard deviation of
   its luma), in ``sample_measures.safetensors`` (:func:`sample_measures`);
2. :func:`matched_indices` keeps, from both arms, the samples of their common spectrum: coarsened
   exact matching (Iacus, King and Porro, 2012) on a grid of (log energy, contrast) cells, as many
   of each side per cell as the sparser side has there;
3. :func:`spectrum_matched_distances` compares the FD and KID of the two kept sets against the
   suite's golden reference. Equal numbers of clips on both sides, since FD is biased by the count.

If TQD's difference from the baseline holds between the matched sets, it is not the spectrum alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from tqd_lite.quality.distances import kernel_inception_distance
from tqd_lite.quality.judge import judge_features
from tqd_lite.quality.metrics import frechet_distance
from tqd_lite.quality.scores import visual_score
from tqd_lite.quality.suite import MetricSuite
from tqd_lite.world.clips import luminance

MEASURES_FILE = "sample_measures.safetensors"
BINS = 6  # quantile cells per spectrum measure: 36 cells; a quarter to a half of 256 samples kept
MIN_MATCHED = 16  # samples of each arm below which the matched sets give no distance


def sample_measures(clips: torch.Tensor, suite: MetricSuite) -> dict[str, np.ndarray]:
    """Per sample of ``clips`` ``(N, 3, F, H, W)`` in [0, 1]: ``features`` ``(N, D)`` (the judge's),
    ``log_high_frequency`` ``(N,)`` and ``contrast`` ``(N,)``."""
    luma = luminance(clips)  # (N, F, H, W)
    with torch.no_grad():
        energy = visual_score(clips).double().numpy()
    return {
        "features": judge_features(clips, suite.judge).astype(np.float32),
        # log: the energy spans orders of magnitude between mud, sprites and speckle
        "log_high_frequency": np.log(energy + 1e-12),
        "contrast": luma.flatten(1).std(dim=1).double().numpy(),
    }


def save_sample_measures(folder: str | Path, measures: dict[str, np.ndarray]) -> Path:
    path = Path(folder) / MEASURES_FILE
    save_file({k: np.ascontiguousarray(v) for k, v in measures.items()}, str(path))
    return path


def load_sample_measures(folder: str | Path) -> dict[str, np.ndarray] | None:
    """A run's sample measures (safetensors hold arrays only: nothing is unpickled), or None."""
    path = Path(folder) / MEASURES_FILE
    return load_file(str(path)) if path.is_file() else None


def _spectrum(measures: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([measures["log_high_frequency"], measures["contrast"]], axis=1)  # (N, 2)


def matched_indices(
    treated: dict[str, np.ndarray], baseline: dict[str, np.ndarray], *, seed: int = 0, bins: int = BINS
) -> tuple[np.ndarray, np.ndarray]:
    """``(treated, baseline)`` indices of equally many samples from each side with the same
    spectrum: coarsened exact matching. Each measure is cut at the ``bins``-quantiles of both sides
    pooled; in every cell of the grid, as many samples of each side are kept (drawn at random) as
    the sparser side has there, so what is kept shares one histogram."""
    a, b = _spectrum(treated), _spectrum(baseline)
    pooled = np.concatenate([a, b])
    edges = [np.quantile(pooled[:, j], np.linspace(0, 1, bins + 1)[1:-1]) for j in range(pooled.shape[1])]

    def cells(x: np.ndarray) -> np.ndarray:  # (N,) one cell index per sample
        return np.ravel_multi_index(
            [np.digitize(x[:, j], e) for j, e in enumerate(edges)], (bins,) * len(edges)
        )

    rng = np.random.default_rng(seed)
    in_a, in_b = cells(a), cells(b)
    kept_a, kept_b = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)]
    for cell in np.intersect1d(in_a, in_b):
        members_a, members_b = np.flatnonzero(in_a == cell), np.flatnonzero(in_b == cell)
        m = min(len(members_a), len(members_b))
        kept_a.append(rng.permutation(members_a)[:m])
        kept_b.append(rng.permutation(members_b)[:m])
    return np.concatenate(kept_a), np.concatenate(kept_b)


def spectrum_matched_distances(
    treated: dict[str, np.ndarray], baseline: dict[str, np.ndarray], reference: np.ndarray, *, seed: int = 0
) -> dict[str, float] | None:
    """FD and KID to ``reference`` (the suite's golden features) of both arms' spectrum-matched
    samples (:func:`matched_indices`), with the gap in each spectrum measure's mean, treated minus
    baseline, before and after the matching; None where fewer than :data:`MIN_MATCHED` samples of
    each arm share a cell (too few for a distance: the quick profile's eight samples).

    KID is unbiased at any count, so it is the steadier of the two on the quarter or so of the
    samples that matching keeps; FD's covariance over 64 features is rank-deficient below 65."""
    kept_a, kept_b = matched_indices(treated, baseline, seed=seed)
    if len(kept_a) < MIN_MATCHED:
        return None
    a, b = _spectrum(treated), _spectrum(baseline)
    features = {"treated": treated["features"][kept_a], "baseline": baseline["features"][kept_b]}
    result = {"clips": len(kept_a)}
    for side, f in features.items():
        f = f.astype(np.float64)
        result[f"fd_{side}_matched"] = frechet_distance(f, reference)
        result[f"kid_{side}_matched"] = kernel_inception_distance(f, reference, subsets=20, seed=seed)["kid"]
    for j, measure in enumerate(("log_high_frequency", "contrast")):  # the columns of _spectrum
        result[f"gap_{measure}_before"] = float(a[:, j].mean() - b[:, j].mean())
        result[f"gap_{measure}_after"] = float(a[kept_a, j].mean() - b[kept_b, j].mean())
    return result
