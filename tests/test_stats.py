"""The shared statistics: the t interval, verdicts and the comparisons table."""

import numpy as np
import pytest

from tqd_lite.stats import (
    comparisons_table,
    control_false_discoveries,
    difference_cell,
    mean_ci,
    paired_difference,
    verdict,
)


def test_the_interval_is_the_student_t_half_width():
    mean, half = mean_ci([1.0, 2.0, 3.0])  # sd 1, n 3: t(0.975, 2) = 4.3027
    assert mean == pytest.approx(2.0) and half == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    assert np.isnan(mean_ci([5.0])[1])  # one value: no interval


def test_verdicts_follow_the_interval_and_the_metric_direction():
    assert verdict(-1.0, 0.5, -1) == "better" and verdict(1.0, 0.5, -1) == "worse"
    assert verdict(1.0, 0.5, 0) == "higher" and verdict(-1.0, 0.5, 0) == "lower"
    assert verdict(0.2, 0.5, -1) == "no clear difference" and verdict(0.2, 0.1, +1) == "better"
    assert verdict(1.0, None, -1) == "one seed: no interval"


def test_the_comparisons_table_counts_its_intervals():
    row = {"name": "A vs B", "fd": {"difference": -1.2345, "ci95": 0.5, "verdict": "better"}}
    one_seed = {"name": "C vs B", "fd": {"difference": 0.5, "ci95": None, "verdict": "one seed: no interval"}}
    lines = comparisons_table([row, one_seed], {"fd": "FD"}, digits=2)
    assert "(of 1 intervals, about 0.1 would exclude 0 by chance alone)" in lines[1]
    assert lines[3:] == [
        "| comparison | FD |",
        "|---|---|",
        "| A vs B | -1.23 ± 0.50 (better) |",
        "| C vs B | +0.50 (one seed: no interval) |",
    ]
    assert difference_cell(row["fd"]) == "-1.234 ± 0.500 (better)"


def test_a_paired_difference_has_its_mean_interval_and_verdict():
    result = paired_difference([-1.9, -2.0, -2.1], sign=-1)
    assert result["difference"] == pytest.approx(-2.0)
    assert result["ci95"] == pytest.approx(mean_ci([-1.9, -2.0, -2.1])[1])
    assert result["verdict"] == "better"
    one_seed = paired_difference([0.4], sign=0)
    assert one_seed == {"difference": 0.4, "ci95": None, "p": None, "verdict": "one seed: no interval"}


def test_benjamini_hochberg_q_values_and_verdicts():
    # p-values 0.01, 0.04, 0.03, 0.2 of four differences (all lower = better here)
    tests = [{"difference": -1.0, "ci95": 0.5, "p": p, "verdict": "better"} for p in (0.01, 0.04, 0.03, 0.2)]
    control_false_discoveries([(test, -1) for test in tests])
    # q of the i-th smallest p: min over j >= i of m p_(j) / j
    expected = [min(0.01 * 4 / 1, 0.03 * 4 / 2, 0.04 * 4 / 3, 0.2), 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2]
    assert [t["q"] for t in tests] == pytest.approx(expected)
    # 0.03 would pass alone at 0.05; among four tests only the smallest p is called
    assert [t["verdict"] for t in tests] == [
        "better",
        "no clear difference",
        "no clear difference",
        "no clear difference",
    ]
    one_seed = {"difference": -1.0, "ci95": None, "p": None, "verdict": "one seed: no interval"}
    control_false_discoveries([(one_seed, -1)])
    assert "q" not in one_seed and one_seed["verdict"] == "one seed: no interval"


def test_seeds_that_differ_by_one_amount_enter_the_family_as_certain():
    # no spread: the t statistic is infinite (p 0) for a nonzero difference, undefined for none (p 1)
    assert paired_difference([0.5, 0.5, 0.5], sign=-1)["p"] == 0.0
    assert paired_difference([0.1, 0.1, 0.1], sign=-1)["p"] < 1e-12  # a spread of rounding errors
    assert paired_difference([0.0, 0.0, 0.0], sign=-1)["p"] == 1.0
