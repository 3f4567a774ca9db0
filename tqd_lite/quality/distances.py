"""Distances between a set of generated clips and the golden reference, with their uncertainty.

All three work on the learned judge's features (:func:`tqd_lite.quality.judge.judge_features`):

* **Fréchet distance** (Heusel et al., 2017) with a bootstrap interval: the samples are resampled
  with replacement, the reference kept fixed.
* **KID** (Binkowski et al., 2018): the unbiased MMD^2 with the cubic polynomial kernel
  ``k(x, y) = (x . y / d + 1)^3``, averaged over random subsets; the interval is the 2.5-97.5%
  range of the subset estimates' mean under a normal approximation. Unlike FD it is unbiased,
  so small sets compare fairly.
* **precision and recall** (Kynkäänniemi et al., 2019): each set's manifold is the union of balls
  around its points reaching their k-th nearest neighbour; precision is the share of samples inside
  the reference manifold (are samples realistic?), recall the share of reference clips inside the
  samples' manifold (is the reference's variety covered?).

These few lines are written here rather than taken from torch-fidelity or clean-fid because both
compute them on Inception features of images; ours are video features of a toy world.
"""

from __future__ import annotations

import numpy as np
import torch

from tqd_lite.quality.metrics import frechet_distance

PR_NEIGHBOURS = 3  # k of the k-NN manifolds (Kynkäänniemi et al. use 3)


def frechet_with_interval(
    samples: np.ndarray, reference: np.ndarray, *, boots: int = 50, seed: int = 0
) -> dict[str, float]:
    """FD of ``samples`` to ``reference`` and a 95% bias-corrected bootstrap interval over the samples.

    A resample drawn with replacement repeats clips, which narrows its spread and adds to its FD, so
    the resamples' FDs sit above the estimate; near FD 0 (golden clips against golden references)
    that bias exceeded their spread and the plain percentile interval left the estimate out. The
    interval is therefore shifted back by the bias, ``mean(resampled FD) - FD``, and kept at >= 0.
    """
    rng = np.random.default_rng(seed)
    values = np.array(
        [
            frechet_distance(samples[rng.integers(len(samples), size=len(samples))], reference)
            for _ in range(boots)
        ]
    )
    point = frechet_distance(samples, reference)
    low, high = np.percentile(values - (values.mean() - point), [2.5, 97.5])
    return {"fd": point, "fd_low": float(max(low, 0.0)), "fd_high": float(max(high, 0.0))}


def _polynomial_kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # k(x, y) = (x . y / d + 1)^3
    return (a @ b.T / a.shape[1] + 1.0) ** 3


def kernel_inception_distance(
    samples: np.ndarray, reference: np.ndarray, *, subsets: int = 50, subset_size: int = 100, seed: int = 0
) -> dict[str, float]:
    """KID (unbiased MMD^2, cubic kernel) averaged over ``subsets`` random subsets, with a 95% interval."""
    rng = np.random.default_rng(seed)
    m = min(subset_size, len(samples), len(reference))
    if m < 2:
        raise ValueError(
            f"KID needs at least 2 samples and 2 reference clips, got {len(samples)} and {len(reference)}"
        )
    estimates = []
    for _ in range(subsets):
        x = samples[rng.choice(len(samples), m, replace=False)]
        y = reference[rng.choice(len(reference), m, replace=False)]
        k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
        # MMD^2_u = sum_{i != j} (k_xx + k_yy) / (m (m - 1)) - 2 sum k_xy / m^2
        off_diagonal = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        estimates.append(off_diagonal - 2 * k_xy.mean())
    mean, half = float(np.mean(estimates)), 1.96 * float(np.std(estimates, ddof=1)) / np.sqrt(subsets)
    return {"kid": mean, "kid_low": mean - half, "kid_high": mean + half}


def _radii(points: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point."""
    distances = torch.cdist(points, points)
    return distances.kthvalue(k + 1, dim=1).values  # the 0th neighbour is the point itself


def precision_recall(
    samples: np.ndarray, reference: np.ndarray, *, k: int = PR_NEIGHBOURS
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019) of ``samples`` against ``reference``."""
    s, r = torch.from_numpy(np.asarray(samples)), torch.from_numpy(np.asarray(reference))
    cross = torch.cdist(s, r)  # (S, R)
    # precision: sample i lies within some reference ball, |s_i - r_j| <= radius_k(r_j)
    precision = (cross <= _radii(r, k).view(1, -1)).any(dim=1).double().mean().item()
    # recall: reference j lies within some sample ball, |r_j - s_i| <= radius_k(s_i)
    recall = (cross <= _radii(s, k).view(-1, 1)).any(dim=0).double().mean().item()
    return {"precision": precision, "recall": recall}


def distribution_distances(samples: np.ndarray, reference: np.ndarray, *, seed: int = 0) -> dict[str, float]:
    """FD (with interval), KID (with interval), precision and recall of two feature sets.

    Precision and recall compare equal-sized sets (as Kynkäänniemi et al. do): a random subset of
    the reference as large as ``samples``, since recall grows with the number of samples.
    """
    rng = np.random.default_rng(seed)
    subset = reference[rng.choice(len(reference), min(len(samples), len(reference)), replace=False)]
    return {
        **frechet_with_interval(samples, reference, seed=seed),
        **kernel_inception_distance(samples, reference, seed=seed),
        **precision_recall(samples, subset),
    }
