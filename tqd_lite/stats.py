"""Small statistics shared by the experiments: a mean and its 95% confidence interval."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last axis and the half-width of its 95% Student-t confidence interval."""
    values = np.asarray(values, dtype=float)
    n = values.shape[-1]
    mean = values.mean(axis=-1)
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    half = stats.t.ppf(0.975, n - 1) * values.std(axis=-1, ddof=1) / math.sqrt(n)
    return mean, half
