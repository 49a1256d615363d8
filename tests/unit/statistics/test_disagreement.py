"""The samples a moderation session works from: those whose blind scores disagree most."""

import pandas as pd

from moderation.statistics.disagreement import most_disagreement


def blind(rows):
    return pd.DataFrame(rows, columns=["rater", "sample", "criterion", "score"]).assign(
        kind="blind")


def test_samples_rank_by_spread_then_variance_then_number_of_ratings():
    ratings = blind([
        ("T1", "W1", "Ideas", 1), ("T2", "W1", "Ideas", 4),                       # spread 3
        ("T1", "W2", "Ideas", 1), ("T2", "W2", "Ideas", 3), ("T3", "W2", "Ideas", 3),
        ("T1", "W3", "Ideas", 1), ("T2", "W3", "Ideas", 3),                       # var 2
        ("T1", "W4", "Ideas", 1), ("T2", "W4", "Ideas", 3), ("T3", "W4", "Ideas", 1),
        ("T4", "W4", "Ideas", 3),                                                 # var 1.33
        ("T1", "W5", "Ideas", 2), ("T2", "W5", "Ideas", 2),                       # agree
        ("T1", "W6", "Ideas", 2),                                                 # one score
        ("T1", "W1", "Voice", 2), ("T2", "W1", "Voice", 3),
    ])

    by_criterion, overall = most_disagreement(ratings, limit=4)

    assert [item["sample"] for item in by_criterion["Ideas"]] == ["W1", "W3", "W4", "W2"]
    assert by_criterion["Ideas"][0] == {"sample": "W1", "criterion": "Ideas", "spread": 3,
                                        "variance": 4.5, "n_ratings": 2}
    assert [item["sample"] for item in by_criterion["Voice"]] == ["W1"]
    assert [(item["sample"], item["criterion"]) for item in overall][:2] == [
        ("W1", "Ideas"), ("W3", "Ideas")]


def test_equal_disagreement_goes_to_the_sample_with_more_ratings():
    # Both spread 2 with variance 4/3: W2's rests on four ratings, W1's on three.
    ratings = blind([("T1", "W1", "Ideas", 1), ("T2", "W1", "Ideas", 1),
                     ("T3", "W1", "Ideas", 3),
                     ("T1", "W2", "Ideas", 1), ("T2", "W2", "Ideas", 1),
                     ("T3", "W2", "Ideas", 3), ("T4", "W2", "Ideas", 3)])

    by_criterion, _ = most_disagreement(ratings)

    assert [item["sample"] for item in by_criterion["Ideas"]] == ["W2", "W1"]
