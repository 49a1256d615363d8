"""The design summary: connectivity, cross-school scoring and anchor coverage."""

import pandas as pd

from moderation.statistics.design import summarize_design
from moderation.statistics.table import encode_blind, validate_ratings

COLUMNS = ["rater", "sample", "criterion", "score", "rater_school", "sample_school", "kind"]


def summary(rows):
    table = validate_ratings(pd.DataFrame(rows, columns=COLUMNS))
    return summarize_design(table, encode_blind(table))


def test_raters_who_share_samples_form_one_component():
    result = summary([("A", "s1", "C", 3, "N", "N", "blind"),
                      ("B", "s1", "C", 3, "S", "N", "blind"),
                      ("B", "s2", "C", 2, "S", "S", "blind"),
                      ("C", "s2", "V", 2, "S", "S", "blind")])

    assert (result.connected, result.n_components) == (True, 1)


def test_schools_that_never_share_samples_are_separate_components():
    result = summary([("A", "s1", "C", 3, "N", "N", "blind"),
                      ("B", "s1", "C", 3, "N", "N", "blind"),
                      ("C", "s2", "C", 2, "S", "S", "blind"),
                      ("D", "s3", "C", 2, "E", "E", "blind")])

    assert (result.connected, result.n_components) == (False, 3)
    assert result.cross_school_share == 0


def test_cross_school_share_counts_only_ratings_with_both_schools_known():
    result = summary([("A", "s1", "C", 3, "N", "N", "blind"),
                      ("B", "s1", "C", 3, "S", "N", "blind"),
                      ("B", "s2", "C", 3, "S", None, "blind"),
                      ("C", "s3", "C", 3, None, "S", "blind"),
                      ("D", "s1", "C", 3, "E", "N", "local")])

    assert result.cross_school_share == 0.5


def test_anchors_per_rater_counts_distinct_anchor_samples_scored_blind():
    result = summary([("A", "s1", "C", 3, None, None, "blind"),
                      ("A", "s1", "V", 3, None, None, "blind"),
                      ("A", "s2", "C", 3, None, None, "blind"),
                      ("B", "s1", "C", 3, None, None, "blind"),
                      ("C", "s3", "C", 3, None, None, "blind"),
                      (None, "s1", "C", 3, None, None, "reference"),
                      (None, "s2", "V", 3, None, None, "reference")])

    assert result.anchors_per_rater == 1.0      # A: s1 and s2, B: s1, C: none
    assert result.cross_school_share is None


def test_no_blind_ratings_means_nothing_to_connect():
    result = summary([(None, "s1", "C", 3, None, None, "reference")])

    assert (result.connected, result.n_components, result.anchors_per_rater) == (False, 0, None)
