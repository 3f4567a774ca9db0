"""Small statistics shared by the experiments: a mean, its 95% confidence interval, a verdict."""

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


def finite_or_none(x) -> float | None:
    """``float(x)``, or None for NaN/inf (JSON has no NaN)."""
    x = float(x)
    return x if np.isfinite(x) else None


def verdict(difference: float, half_width: float | None, sign: int) -> str:
    """When the 95% CI of the difference excludes 0: ``better``/``worse`` for a metric with a
    direction (``sign`` +1 or -1), ``higher``/``lower`` for one without (0); else ``no clear
    difference``."""
    if half_width is None:
        return "one seed: no interval"
    if abs(difference) <= half_width:
        return "no clear difference"
    if sign == 0:
        return "higher" if difference > 0 else "lower"
    return "better" if difference * sign > 0 else "worse"


def paired_difference(differences, sign: int) -> dict:
    """Seed-paired ``treated - reference`` values -> their mean, 95% CI half-width (None with one
    seed), the paired t-test's two-sided p-value (None with one seed) and :func:`verdict`
    (``sign``: +1 higher is better, -1 lower is better, 0 neither)."""
    mean, half = mean_ci(differences)
    half = finite_or_none(half)
    p = None
    if len(differences) > 1:
        # seeds that all differ by the same amount: no spread, t infinite (p 0), or nothing (p 1)
        p = finite_or_none(stats.ttest_1samp(differences, 0.0).pvalue)
        p = (1.0 if float(mean) == 0 else 0.0) if p is None else p
    return {"difference": float(mean), "ci95": half, "p": p, "verdict": verdict(float(mean), half, sign)}


def control_false_discoveries(family: list[tuple[dict, int]], alpha: float = 0.05) -> None:
    """Benjamini-Hochberg over a family of ``(paired_difference result, sign)``, in place: each
    result with a p-value gets its ``q`` (scipy's ``false_discovery_control``) and a verdict that
    calls a difference only where ``q < alpha``, so that, for independent or positively dependent
    tests, at most a share ``alpha`` of the differences called are false on average. A result
    without a p-value (one seed) keeps its verdict."""
    tested = [(test, sign) for test, sign in family if test.get("p") is not None]
    if not tested:
        return
    qs = stats.false_discovery_control([test["p"] for test, _ in tested], method="bh")
    for (test, sign), q in zip(tested, qs, strict=True):
        test["q"] = float(q)
        test["verdict"] = verdict(test["difference"], 0.0, sign) if q < alpha else "no clear difference"


def mean_cell(stat: dict, digits: int = 3) -> str:
    """``0.123 ± 0.045`` of one metric's mean over seeds (``mean``, ``ci95``; no interval: the mean)."""
    half = f" ± {stat['ci95']:.{digits}f}" if stat.get("ci95") is not None else ""
    return f"{stat['mean']:.{digits}f}{half}"


def difference_cell(difference: dict, digits: int = 3) -> str:
    """``+0.123 ± 0.045 (verdict)`` of one metric of a comparison (``difference``, ``ci95``, ``verdict``)."""
    half = f" ± {difference['ci95']:.{digits}f}" if difference["ci95"] is not None else ""
    return f"{difference['difference']:+.{digits}f}{half} ({difference['verdict']})"


def comparisons_table(comparisons: list[dict], labels: dict[str, str], digits: int = 3) -> list[str]:
    """Markdown lines: each comparison's seed-paired difference per metric of ``labels`` (metric ->
    column title), with how many of the intervals would exclude 0 by chance alone, or, where the
    verdicts were controlled (:func:`control_false_discoveries`), how."""
    tested = sum(c[m]["ci95"] is not None for c in comparisons for m in labels)
    controlled = any("q" in c[m] for c in comparisons for m in labels)
    rule = (
        "a verdict where the difference's Benjamini-Hochberg q-value, over every difference of the "
        "summary with a p-value, is below 0.05"
        if controlled
        else f"whether the CI excludes 0 (of {tested} intervals, about {tested / 20:.1f} would "
        "exclude 0 by chance alone)"
    )
    lines = [
        "",
        f"Seed-paired differences (treated - reference), mean ± 95% CI, and {rule}:",
        "",
        "| comparison | " + " | ".join(labels.values()) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for c in comparisons:
        lines.append(f"| {c['name']} | " + " | ".join(difference_cell(c[m], digits) for m in labels) + " |")
    return lines
