"""The spectrum-matched baseline: is a win over the baseline only sharper-looking output?

Issue "TQD on trustworthy ground" found the short runs' Fréchet distance tracking the samples'
high-frequency energy: TQD sends more low-noise draws to sharp clips, its samples end with more
fine grain, and a distance that rewards fine grain calls that a win. This control asks whether
the win survives when the baseline's samples are **selected** to TQD's high-frequency energy and
contrast:

1. every run keeps, per sample, the judge's features (the space of the suite's FD and KID), its
   log high-frequency energy (the pool's visual score) and its contrast (the standard deviation of
   its luma), in ``sample_measures.safetensors`` (:func:`sample_measures`);
2. :func:`matched_indices` picks, for a random half of the treated arm's samples, the baseline
   sample nearest in standardised (log energy, contrast), each used once;
3. :func:`spectrum_matched_distances` compares the FD of those baseline samples with the FD of
   the treated half they were matched to, against the suite's golden reference. Equal numbers of
   clips on both sides, since FD is biased by the count.

If TQD's advantage holds against the matched baseline, it is not the spectrum alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from tqd_lite.quality.judge import judge_features
from tqd_lite.quality.metrics import frechet_distance
from tqd_lite.quality.scores import visual_score
from tqd_lite.quality.suite import MetricSuite

MEASURES_FILE = "sample_measures.safetensors"
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights


def sample_measures(clips: torch.Tensor, suite: MetricSuite) -> dict[str, np.ndarray]:
    """Per sample of ``clips`` ``(N, 3, F, H, W)`` in [0, 1]: ``features`` ``(N, D)`` (the judge's),
    ``log_high_frequency`` ``(N,)`` and ``contrast`` ``(N,)``."""
    luma = torch.einsum("c,bcfhw->bfhw", torch.tensor(LUMA, dtype=clips.dtype), clips)  # (N, F, H, W)
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
    treated: dict[str, np.ndarray], baseline: dict[str, np.ndarray], *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(treated half, matched baseline)``: indices of a random half of the treated samples and,
    for each in turn, the nearest unused baseline sample in (log energy, contrast), both standardised
    by the pooled spread (greedy nearest-neighbour matching without replacement)."""
    a, b = _spectrum(treated), _spectrum(baseline)
    pooled = np.concatenate([a, b])
    scale = pooled.std(axis=0) + 1e-12
    a, b = (a - pooled.mean(axis=0)) / scale, (b - pooled.mean(axis=0)) / scale
    half = np.random.default_rng(seed).permutation(len(a))[: len(a) // 2]
    free = np.ones(len(b), dtype=bool)
    matched = []
    for i in half:
        distance = np.where(free, np.linalg.norm(b - a[i], axis=1), np.inf)
        j = int(distance.argmin())
        free[j] = False
        matched.append(j)
    return half, np.asarray(matched)


def spectrum_matched_distances(
    treated: dict[str, np.ndarray], baseline: dict[str, np.ndarray], reference: np.ndarray, *, seed: int = 0
) -> dict[str, float]:
    """FD to ``reference`` (the suite's golden features) of a treated half and of the baseline
    samples matched to it (:func:`matched_indices`), with the matching's remaining gap: the mean of
    each spectrum measure, treated minus matched baseline, and before matching, treated minus all."""
    half, matched = matched_indices(treated, baseline, seed=seed)
    a, b = _spectrum(treated), _spectrum(baseline)
    return {
        "clips": len(half),
        "fd_treated": frechet_distance(treated["features"][half].astype(np.float64), reference),
        "fd_baseline_matched": frechet_distance(baseline["features"][matched].astype(np.float64), reference),
        "gap_log_high_frequency_before": float(a[:, 0].mean() - b[:, 0].mean()),
        "gap_log_high_frequency_after": float(a[half, 0].mean() - b[matched, 0].mean()),
        "gap_contrast_before": float(a[:, 1].mean() - b[:, 1].mean()),
        "gap_contrast_after": float(a[half, 1].mean() - b[matched, 1].mean()),
    }
