"""Agreement matrices per criterion: rater x agreed score on anchors, first x second reading,
and the weighted kappa of the readings against sklearn and statsmodels."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa

from moderation.statistics import analyze
from moderation.statistics.agreement import (
    agreement_matrix,
    criterion_matrices,
    first_second_readings,
    weighted_kappa,
)
from moderation.statistics.levels import ScoreLevels
from moderation.statistics.table import encode_blind, validate_ratings

DAY = "2025-10-0{}T09:00:00Z"


def hand_table() -> pd.DataFrame:
    """Anchor A (agreed 3 on C1, 2 on C2) and B (agreed 1 on C1), and work W1, W2.

    On C1 the blind scores of the anchors are: A by r1 3, r2 2 (revised from 4), r3 2;
    B by r1 1, r2 2. Readings on C1: W1 by r2 (day 1) then r1 (day 2) then r3 (day 3),
    W2 by r3 at an unknown time (first) then r1 (day 1); A, B as timed below.
    """
    rows = [
        # rater, sample, criterion, score, scored_at, kind
        (None, "A", "C1", 3, None, "reference"),
        (None, "A", "C2", 2, None, "reference"),
        (None, "B", "C1", 1, None, "reference"),
        ("r1", "A", "C1", 3, DAY.format(1), "blind"),
        ("r2", "A", "C1", 4, DAY.format(1), "blind"),
        ("r2", "A", "C1", 2, DAY.format(5), "blind"),   # the revision counts, at day 5
        ("r3", "A", "C1", 2, DAY.format(2), "blind"),
        ("r1", "A", "C2", 2, DAY.format(1), "blind"),
        ("r2", "A", "C2", 1, DAY.format(2), "blind"),
        ("r1", "B", "C1", 1, DAY.format(3), "blind"),
        ("r2", "B", "C1", 2, DAY.format(4), "blind"),
        ("r2", "W1", "C1", 4, DAY.format(1), "blind"),
        ("r1", "W1", "C1", 3, DAY.format(2), "blind"),
        ("r3", "W1", "C1", 1, DAY.format(3), "blind"),
        ("r3", "W2", "C1", 2, None, "blind"),
        ("r1", "W2", "C1", 2, DAY.format(1), "blind"),
        ("r1", "W2", "C2", 3, DAY.format(1), "local"),    # not a reading
    ]
    frame = pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score", "scored_at",
                                        "kind"])
    return validate_ratings(frame)


def test_confusion_counts_the_latest_blind_scores_against_the_agreed_ones():
    ratings = hand_table()
    matrices = criterion_matrices(ratings, encode_blind(ratings), ScoreLevels.parse("1,2,3,4"))

    c1 = matrices["C1"]["confusion"]
    assert c1["levels"] == [1, 2, 3, 4]
    # rows rater score, columns agreed: (3,3), (2,3) twice, (1,1), (2,1).
    assert c1["counts"] == [[1, 0, 0, 0], [1, 0, 2, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    assert c1["n"] == 5
    assert c1["exact"] == pytest.approx(2 / 5)
    assert c1["most_confused"] == [{"score": 2, "agreed": 3, "n": 2},
                                   {"score": 2, "agreed": 1, "n": 1}]
    c2 = matrices["C2"]["confusion"]
    assert (c2["n"], c2["exact"], c2["most_confused"]) == (
        2, 0.5, [{"score": 1, "agreed": 2, "n": 1}])


def test_readings_pair_each_units_first_and_second_score_by_time():
    ratings = hand_table()
    matrices = criterion_matrices(ratings, encode_blind(ratings), ScoreLevels.parse("1,2,3,4"))

    readings = matrices["C1"]["readings"]
    # C1 firsts -> seconds: A r1 3 (day 1) -> r3 2 (day 2; r2's revision is day 5);
    # B r1 1 -> r2 2; W1 r2 4 -> r1 3 (r3 is third); W2 r3 2 (unknown time) -> r1 2.
    expected = np.zeros((4, 4), dtype=int)
    for first, second in [(3, 2), (1, 2), (4, 3), (2, 2)]:
        expected[first - 1, second - 1] += 1
    assert readings["counts"] == expected.tolist()
    assert (readings["n"], readings["exact"], readings["adjacent"]) == (4, 0.25, 1.0)
    assert matrices["C2"]["readings"]["counts"] == [[0, 0, 0, 0], [1, 0, 0, 0],
                                                    [0, 0, 0, 0], [0, 0, 0, 0]]


def test_without_levels_the_matrices_use_the_observed_scores():
    ratings = hand_table()
    matrices = criterion_matrices(ratings, encode_blind(ratings), None)

    assert matrices["C1"]["confusion"]["levels"] == [1, 2, 3, 4]
    assert matrices["C2"]["confusion"]["levels"] == [1, 2]     # the local 3 is not a reading
    assert matrices["C2"]["confusion"]["counts"] == [[0, 1], [0, 1]]


def test_first_second_readings_order_equals_a_plain_lexsort_with_ties_and_unknown_times():
    rng = np.random.default_rng(5)
    n = 400
    times = pd.Series(pd.to_datetime(rng.integers(0, 5, n), unit="D", utc=True))
    times[rng.uniform(size=n) < 0.2] = pd.NaT
    frame = pd.DataFrame({"rater": [f"r{i}" for i in range(n)],
                          "sample": rng.integers(0, 60, n).astype(str),
                          "criterion": rng.choice(["C1", "C2"], n),
                          "score": rng.integers(1, 5, n), "scored_at": times})
    ratings = validate_ratings(frame)
    codes = encode_blind(ratings)

    criterion, first, second = first_second_readings(codes, ratings["scored_at"])

    time = pd.DatetimeIndex(ratings["scored_at"]).as_unit("us").asi8[codes.rows]
    order = np.lexsort((codes.rows, time, codes.unit))
    unit, score = codes.unit[order], codes.score[order]
    starts = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    pairs = starts[(starts + 1 < n) & (unit[np.minimum(starts + 1, n - 1)] == unit[starts])]
    np.testing.assert_array_equal(first, score[pairs])
    np.testing.assert_array_equal(second, score[pairs + 1])
    np.testing.assert_array_equal(criterion, codes.unit_criterion[unit[pairs]])


@pytest.mark.parametrize("seed", range(4))
def test_weighted_kappa_and_its_se_equal_sklearn_and_statsmodels(seed):
    rng = np.random.default_rng(seed)
    levels = np.arange(1, int(rng.integers(3, 7)))
    truth = rng.choice(levels, 250)
    first = np.clip(truth + rng.integers(-1, 2, 250), levels[0], levels[-1])
    second = np.clip(truth + rng.integers(-1, 2, 250), levels[0], levels[-1])
    counts = np.array(agreement_matrix(first, second, levels)["counts"])

    kappa, se = weighted_kappa(counts)

    assert kappa == pytest.approx(cohen_kappa_score(first, second, labels=levels,
                                                    weights="quadratic"), abs=1e-12)
    peer = cohens_kappa(counts, wt="quadratic")
    assert kappa == pytest.approx(peer.kappa, abs=1e-12)
    assert se == pytest.approx(peer.std_kappa, rel=1e-9)


def test_kappa_is_undefined_without_chance_disagreement():
    assert weighted_kappa(np.array([[3, 0], [0, 0]])) == (None, None)
    assert weighted_kappa(np.zeros((3, 3))) == (None, None)


def test_the_report_carries_both_matrices_per_criterion():
    report = analyze(hand_table(), bootstrap=0, seed=1, levels=ScoreLevels.parse("1,2,3,4"))

    c1 = next(entry for entry in report["criteria"] if entry["criterion"] == "C1")
    assert c1["confusion"]["n"] == 5
    assert c1["readings"]["n"] == 4
    assert c1["readings"]["kappa_weights"] == "quadratic"
    low, high = c1["readings"]["weighted_kappa_ci95"]
    assert low < c1["readings"]["weighted_kappa"] < high
