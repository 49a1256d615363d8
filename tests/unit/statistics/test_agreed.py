"""A rater's scores against agreed scores: mean difference, exact share, confused levels."""

import pytest
from scipy.stats import t as student_t

from moderation.statistics.agreed import Confusion, confusions, mean_difference, share


def test_mean_difference_has_students_t_interval():
    result = mean_difference([1, 1, 1, 1, 0])
    assert result.n == 5 and result.mean == pytest.approx(0.8)
    half = student_t.ppf(0.975, 4) * (0.2 ** 0.5) / (5 ** 0.5)  # sd^2 = 0.2
    assert result.ci95 == pytest.approx((0.8 - half, 0.8 + half))


def test_one_score_or_none_gives_no_interval():
    assert mean_difference([2]).ci95 is None and mean_difference([2]).mean == 2
    assert mean_difference([]) == mean_difference([]).__class__(None, None, 0)


def test_share_is_wilsons_interval_and_stays_within_0_and_1():
    # Agresti & Coull (1998): 0 of 10 has the Wilson interval 0 to .278.
    none = share(0, 10)
    assert none.share == 0 and none.ci95[0] == 0 and none.ci95[1] == pytest.approx(0.2775, abs=1e-3)
    every = share(10, 10)
    assert every.ci95[1] == pytest.approx(1) and every.ci95[0] == pytest.approx(0.7225, abs=1e-3)
    assert share(0, 0).ci95 is None


def test_confusions_group_both_ways_round_most_frequent_first():
    pairs = [(4, 3), (3, 4), (4, 3), (2, 3), (3, 3)]
    assert confusions(pairs) == [Confusion(3, 4, 3, 2), Confusion(2, 3, 1, 0)]
