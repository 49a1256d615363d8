"""A run's input hash: the same rows, context and parameters give the same hash, and any change
to a score, a time, a rater's school, the rows' order, a school's context or a parameter gives
another (a stale run must never be reused for changed ratings)."""

import pandas as pd

from moderation.analysis.inputs import input_hash


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "rater": ["R1", "R2", None], "sample": ["WS-A", "WS-A", "WS-B"],
        "criterion": ["C1", "C1", "C1"], "score": [3, 2, 4],
        "scored_at": pd.to_datetime(["2026-10-01T09:00:00Z", "2026-10-02T09:00:00Z", None],
                                    utc=True),
        "rater_school": ["S1", "S2", None], "sample_school": ["S3", "S3", "S4"],
        "kind": ["blind", "blind", "reference"]})


def context() -> pd.DataFrame:
    return pd.DataFrame({"low_income_share": [40.0, 55.0]},
                        index=pd.Index(["S3", "S4"], name="school"))


PARAMETERS = {"seed": 7, "bootstrap": 1000}


def test_the_same_input_gives_the_same_hash():
    assert input_hash(table(), PARAMETERS, context()) == input_hash(table(), PARAMETERS,
                                                                     context())


def changed_tables():
    score = table()
    score.loc[0, "score"] = 4
    moment = table()
    moment.loc[1, "scored_at"] = pd.Timestamp("2026-10-02T09:00:01Z")
    school = table()
    school.loc[1, "rater_school"] = "S9"
    order = table().iloc[[1, 0, 2]].reset_index(drop=True)
    return [score, moment, school, order]


def test_any_change_of_the_rows_context_or_parameters_changes_the_hash():
    original = input_hash(table(), PARAMETERS, context())
    for changed in changed_tables():
        assert input_hash(changed, PARAMETERS, context()) != original
    other_school = context().rename(index={"S4": "S5"})
    other_share = context().assign(low_income_share=[40.0, 56.0])
    for changed in (other_school, other_share, None):
        assert input_hash(table(), PARAMETERS, changed) != original
    assert input_hash(table(), PARAMETERS | {"seed": 8}, context()) != original
