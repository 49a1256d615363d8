"""Blind-round assignment: what a coach and the raters would notice if it broke."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from moderation.scoring.assignment import (
    AssignmentError,
    ItemKind,
    OwnSchoolConflict,
    assign_raters,
    common_calibration_set,
    design_report,
    keep_off_own_schools,
    plan_validity_papers,
    queue_order,
)

REPO = Path(__file__).resolve().parents[3]


def assert_rules(plan, sample_schools, rater_schools, n):
    """Own school never; exactly n distinct raters per sample; loads match the pairs."""
    raters = plan.raters
    assert raters.shape == (len(sample_schools), n)
    for sample, row in enumerate(raters.tolist()):
        assert len(set(row)) == n
        school = sample_schools[sample]
        assert all(school is None or rater_schools[r] != school for r in row)
    assert plan.loads.tolist() == np.bincount(raters.ravel(), minlength=len(rater_schools)).tolist()


def balance_is_feasible(sample_schools, rater_schools, n) -> bool:
    """Independent oracle: is there a valid design with every load in {q, q + 1}?

    The constraints form a bipartite incidence system (totally unimodular), so the LP is
    feasible exactly when an integer design is.
    """
    eligible = [(s, r) for s, school in enumerate(sample_schools)
                for r, own in enumerate(rater_schools) if school is None or own != school]
    q = len(sample_schools) * n // len(rater_schools)
    a_eq = np.zeros((len(sample_schools), len(eligible)))
    a_load = np.zeros((len(rater_schools), len(eligible)))
    for k, (s, r) in enumerate(eligible):
        a_eq[s, k] = 1
        a_load[r, k] = 1
    result = linprog(
        np.zeros(len(eligible)),
        A_ub=np.vstack([a_load, -a_load]),
        b_ub=np.r_[np.full(len(rater_schools), q + 1), np.full(len(rater_schools), -q)],
        A_eq=a_eq, b_eq=np.full(len(sample_schools), n), bounds=(0, 1), method="highs",
    )
    return result.status == 0


def components(pairs, n_samples, n_raters) -> int:
    parent = list(range(n_samples + n_raters))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for s, r in pairs.tolist():
        parent[find(s)] = find(n_samples + r)
    return len({find(x) for x in range(len(parent))})


def test_realistic_round_is_balanced_connected_and_links_every_school_pair():
    sample_schools = [f"school-{i % 4}" for i in range(40)]
    rater_schools = [f"school-{i // 6}" for i in range(24)]
    for seed in range(25):
        plan = assign_raters(sample_schools, rater_schools, 2, rng=seed)

        assert_rules(plan, sample_schools, rater_schools, 2)
        assert plan.loads.max() - plan.loads.min() <= 1
        assert plan.report.is_connected and plan.report.n_components == 1
        assert plan.report.school_pair_coverage == 1.0
        assert plan.report.n_ratings == 80


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_larger_random_rounds_are_balanced_connected_and_cross_school(n, seed):
    rng = np.random.default_rng(seed)
    sample_schools = rng.integers(0, 30, size=900).tolist()
    rater_schools = rng.integers(0, 30, size=int(rng.integers(60, 200))).tolist()

    plan = assign_raters(sample_schools, rater_schools, n, rng=seed)

    assert_rules(plan, sample_schools, rater_schools, n)
    assert plan.loads.max() - plan.loads.min() <= 1
    assert plan.report.is_connected
    # Small schools (one or two raters) cannot always give each sample n different schools.
    assert plan.report.multi_school_sample_share > 0.98
    assert plan.report.school_pair_coverage > 0.6


@settings(max_examples=150, deadline=None)
@given(
    sample_schools=st.lists(st.one_of(st.integers(0, 3), st.none()), min_size=1, max_size=12),
    rater_schools=st.lists(st.one_of(st.integers(0, 3), st.none()), min_size=1, max_size=9),
    n=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_small_random_pools_obey_the_rules_or_say_why_not(sample_schools, rater_schools, n, seed):
    counts = Counter(rater_schools)
    eligible = [len(rater_schools) - (0 if s is None else counts[s]) for s in sample_schools]
    if min(eligible) < n:
        with pytest.raises(AssignmentError, match="raters"):
            assign_raters(sample_schools, rater_schools, n, rng=seed)
        return

    plan = assign_raters(sample_schools, rater_schools, n, rng=seed)

    assert_rules(plan, sample_schools, rater_schools, n)
    if balance_is_feasible(sample_schools, rater_schools, n):
        assert plan.loads.max() - plan.loads.min() <= 1
    assert plan.report.n_components == components(plan.pairs, len(sample_schools),
                                                  len(rater_schools))
    assert plan.report.load_max == plan.loads.max()


def test_a_large_school_with_little_work_from_others_gets_all_of_it_and_stays_connected():
    # School 0 has most raters but only the 40 samples of schools 1-3 are open to them.
    sample_schools = [0] * 60 + [1, 2, 3, 4] * 10
    rater_schools = [0] * 20 + [1, 2, 3, 4] * 3
    plan = assign_raters(sample_schools, rater_schools, 3, rng=7)

    assert_rules(plan, sample_schools, rater_schools, 3)
    big_school = plan.loads[:20]
    assert big_school.sum() >= 119  # 40 samples x 3 = 120 ratings; one may go to connectivity
    assert big_school.max() - big_school.min() <= 1
    assert plan.report.is_connected


def test_same_seed_same_plan_and_arrays_are_read_only():
    schools = [i % 5 for i in range(50)]
    raters = [i % 5 for i in range(15)]
    first = assign_raters(schools, raters, 3, rng=42)
    second = assign_raters(schools, raters, 3, rng=np.random.default_rng(42))

    assert np.array_equal(first.raters, second.raters)
    with pytest.raises(ValueError):
        first.raters[0, 0] = 1


def test_each_rater_queue_lists_their_samples():
    schools = [i % 4 for i in range(30)]
    raters = [i % 4 for i in range(10)]
    plan = assign_raters(schools, raters, 2, rng=3)

    queues = plan.samples_by_rater()
    assert len(queues) == 10
    for rater, queue in enumerate(queues):
        assert sorted(queue.tolist()) == sorted(np.flatnonzero((plan.raters == rater).any(1)))
    assert plan.pairs.shape == (60, 2)


def test_with_two_schools_the_live_design_cannot_connect_them_and_says_so():
    plan = assign_raters(["A"] * 10 + ["B"] * 10, ["A"] * 4 + ["B"] * 4, 2, rng=0)

    assert plan.report.n_components == 2
    assert not plan.report.is_connected
    assert plan.report.linked_school_pairs == 0


def test_one_rating_per_sample_leaves_each_rater_apart():
    plan = assign_raters([0, 1, 2] * 6, [0, 1, 2] * 2, 1, rng=0)

    assert plan.report.n_components == 6
    assert plan.report.school_pair_coverage == 0.0
    assert plan.report.multi_school_sample_share == 0.0


def test_design_report_on_a_stored_design():
    # Sample 0 (school A) rated by raters 1 (B) and 2 (C); sample 1 (B) by rater 0 (A) only;
    # rater 3 (C) idle.
    report = design_report([[0, 1], [0, 2], [1, 0]], ["A", "B"], ["A", "B", "C", "C"])

    assert report.n_components == 3
    assert report.n_idle_raters == 1
    assert (report.load_min, report.load_max) == (0, 1)
    assert (report.linked_school_pairs, report.school_pairs) == (1, 3)
    assert report.school_pair_coverage == pytest.approx(1 / 3)
    assert report.multi_school_sample_share == 0.5


@pytest.mark.parametrize(
    ("sample_schools", "rater_schools", "n", "message"),
    [
        (["A", "B"], [], 2, "no raters"),
        ([], ["A", "B"], 1, "no samples"),
        (["A", "B"], ["A", "B", "C"], 0, "whole number"),
        (["A", "B"], ["A", "B", "C"], 2.5, "whole number"),
        (["A", "B"], ["A", "A", "B"], 2, "Samples from school A can go only to the 1 raters"),
        ([None], ["A", "B"], 3, "the pool has only 2"),
    ],
)
def test_impossible_requests_say_what_to_change(sample_schools, rater_schools, n, message):
    with pytest.raises(AssignmentError, match=message):
        assign_raters(sample_schools, rater_schools, n)


def test_a_rater_at_two_schools_is_kept_off_the_work_of_both_with_loads_unchanged():
    schools = [i % 4 for i in range(24)]
    raters = [i % 4 for i in range(12)]
    staff = [{school} for school in raters]
    staff[0] = {0, 1}  # teaches at school 0, coaches at school 1
    plan = assign_raters(schools, raters, 2, rng=5)
    assert any(schools[s] == 1 for s in np.flatnonzero((plan.raters == 0).any(1)))

    kept = keep_off_own_schools(plan, schools, raters, staff, rng=5)

    assert all(schools[s] not in {0, 1} for s in np.flatnonzero((kept.raters == 0).any(1)))
    assert_rules(kept, schools, raters, 2)
    assert kept.loads.tolist() == plan.loads.tolist()
    assert kept.report.n_ratings == 48
    assert np.array_equal(kept.raters, keep_off_own_schools(plan, schools, raters, staff,
                                                            rng=5).raters)
    with pytest.raises(ValueError):
        kept.raters[0, 0] = 1


def test_a_plan_that_keeps_everyone_off_their_schools_comes_back_unchanged():
    schools = [i % 3 for i in range(9)]
    raters = [i % 3 for i in range(6)]
    plan = assign_raters(schools, raters, 2, rng=1)

    assert keep_off_own_schools(plan, schools, raters, [{s} for s in raters], rng=1) is plan


def test_a_rater_at_every_school_cannot_be_kept_off_and_is_named():
    schools = [0, 1, 0, 1]
    raters = [0, 1, 0, 1]
    staff = [{0}, {1}, {0}, {0, 1}]
    plan = assign_raters(schools, raters, 1, rng=2)

    with pytest.raises(OwnSchoolConflict) as refused:
        keep_off_own_schools(plan, schools, raters, staff, rng=2)
    assert refused.value.rater == 3
    assert "works at more than one school" in str(refused.value)


def test_validity_counts_follow_the_rate_queue_by_queue_and_overall():
    rng = np.random.default_rng(5)
    live = rng.integers(1, 40, size=3000)
    anchors = [f"anchor-{i}" for i in range(30)]

    seeded = plan_validity_papers(live, 0.1, anchors, rng=11)

    counts = np.array([len(papers) for papers in seeded])
    due = live * 0.1 / 0.9
    assert np.all((counts == np.floor(due)) | (counts == np.ceil(due)))
    assert abs(counts.sum() - due.sum()) < 1
    share = counts.sum() / (counts.sum() + live.sum())
    assert share == pytest.approx(0.1, abs=0.002)
    assert all(len(set(papers)) == len(papers) for papers in seeded)
    assert {paper for papers in seeded for paper in papers} == set(anchors)


def test_short_queues_still_get_their_share_on_average():
    seeded = plan_validity_papers([3] * 10_000, 0.1, ["a", "b"], rng=1)

    counts = np.array([len(papers) for papers in seeded])
    assert set(counts.tolist()) == {0, 1}
    assert counts.mean() == pytest.approx(3 / 9, abs=0.01)


def test_a_queue_never_repeats_an_anchor():
    seeded = plan_validity_papers([90], 0.5, ["a", "b", "c"], rng=0)

    assert sorted(seeded[0]) == ["a", "b", "c"]


def test_no_validity_papers_at_rate_zero_even_without_anchors():
    assert plan_validity_papers([10, 0, 5], 0.0, [], rng=0) == ((), (), ())


@pytest.mark.parametrize(
    ("live", "rate", "anchors", "message"),
    [
        ([10], 1.0, ["a"], "below 1"),
        ([10], -0.1, ["a"], "at least 0"),
        ([10], 0.1, [], "no.* anchor|has none"),
        ([-1], 0.1, ["a"], "negative"),
    ],
)
def test_impossible_validity_plans_say_why(live, rate, anchors, message):
    with pytest.raises(AssignmentError, match=message):
        plan_validity_papers(live, rate, anchors)


def test_queue_hides_anchors_at_uniformly_random_places():
    positions = []
    for seed in range(2000):
        queue = queue_order(list(range(9)), validity=["v"], rng=seed)
        assert Counter(item.kind for item in queue) == {ItemKind.LIVE: 9, ItemKind.VALIDITY: 1}
        positions.append(next(i for i, item in enumerate(queue) if item.item_id == "v"))

    histogram = np.bincount(positions, minlength=10)
    assert histogram.min() > 140 and histogram.max() < 260  # 200 expected per place


def test_queue_keeps_every_item_once_with_its_kind():
    queue = queue_order(["s1", "s2"], validity=["v1"], calibration=["c1", "c2"], rng=4)

    assert sorted((item.item_id, item.kind.value) for item in queue) == [
        ("c1", "calibration"), ("c2", "calibration"), ("s1", "live"), ("s2", "live"),
        ("v1", "validity"),
    ]
    assert queue == queue_order(["s1", "s2"], validity=["v1"], calibration=["c1", "c2"], rng=4)


def test_common_calibration_set_defaults_to_five_distinct_anchors():
    anchors = [f"anchor-{i}" for i in range(12)]
    chosen = common_calibration_set(anchors, rng=2)

    assert len(chosen) == 5 and len(set(chosen)) == 5 and set(chosen) <= set(anchors)
    assert common_calibration_set(anchors, 0) == ()
    with pytest.raises(AssignmentError, match="only 3 agreed anchors"):
        common_calibration_set(anchors[:3], 5)


def test_importing_the_engine_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, moderation.scoring.assignment; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy') or m == 'moderation.scoring.models'))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
