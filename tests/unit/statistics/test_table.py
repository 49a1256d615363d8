"""Loading and validating ratings tables: what a coach sees when a file is wrong."""

import io

import numpy as np
import pandas as pd
import pytest

from moderation.statistics.levels import ScoreLevels
from moderation.statistics.table import (
    COLUMNS,
    RatingsFileError,
    encode_blind,
    latest_blind,
    load_ratings,
    positions,
    validate_ratings,
    values_at,
)

HEADER = "rater,sample,criterion,score"


def read(text: str) -> pd.DataFrame:
    return load_ratings(io.StringIO(text))


def problem(text: str) -> RatingsFileError:
    with pytest.raises(RatingsFileError) as caught:
        read(text)
    return caught.value


def test_minimal_file_gets_every_column_with_its_type():
    table = read(f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas,4\n")

    assert list(table.columns) == list(COLUMNS)
    assert table["score"].dtype == np.int64
    assert str(table["scored_at"].dtype).endswith(", UTC]")
    assert table["scored_at"].isna().all()
    assert table["rater_school"].isna().all()
    assert table["kind"].tolist() == ["blind", "blind"]
    assert table["rater"].tolist() == ["A", "B"]


def test_optional_columns_are_parsed_and_empty_cells_mean_unknown():
    table = read("rater,sample,criterion,score,scored_at,rater_school,sample_school,kind\n"
                 "A,s1,Ideas,3,2024-03-01T10:00:00+02:00,North,South,\n"
                 ",s1,Ideas,4,,,South,reference\n"
                 "T,s1,Ideas, 4 ,2024-03-02,South,South, Local\n")

    assert table["kind"].tolist() == ["blind", "reference", "local"]
    assert table["scored_at"][0] == pd.Timestamp("2024-03-01T08:00:00Z")
    assert table["scored_at"][2] == pd.Timestamp("2024-03-02T00:00:00Z")
    assert pd.isna(table["scored_at"][1])
    assert pd.isna(table["rater"][1]) and pd.isna(table["rater_school"][1])
    assert table["score"].tolist() == [3, 4, 4]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("rater,sample,score\nA,s1,3\n", 1, "missing column 'criterion'"),
    ("", 1, "header"),
    (f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas,three\n", 3, "'three' is not a whole number"),
    (f"{HEADER}\nA,s1,Ideas,2.5\n", 2, "not a whole number"),
    (f"{HEADER}\nA,s1,Ideas,\n", 2, "score is missing"),
    (f"{HEADER}\n,s1,Ideas,3\n", 2, "rater is missing"),
    (f"{HEADER}\nA,,Ideas,3\n", 2, "sample is missing"),
    (f"{HEADER},scored_at\nA,s1,Ideas,3,yesterday\n", 2, "'yesterday' is not an ISO 8601 time"),
    (f"{HEADER},kind\nA,s1,Ideas,3,practice\n", 2, "kind 'practice'"),
    (f"{HEADER}\nA,s1,Ideas,3,5\n", 2, "5 fields"),
    (f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas,3\nA,s1,Ideas,4\n", 4, "already gave a blind score"),
    (f"{HEADER},kind\n,s1,Ideas,3,reference\n,s1,Ideas,4,reference\n", 3,
     "already has a reference score"),
])
def test_malformed_files_name_the_line_and_the_problem(text, line, words):
    error = problem(text)

    assert error.line == line
    assert words in str(error)
    assert str(error).startswith(f"line {line}: ")


def test_line_numbers_count_blank_lines():
    assert problem(f"{HEADER}\nA,s1,Ideas,3\n\n\nB,s1,Ideas,x\n").line == 5


def test_quoted_fields_keep_their_commas_quotes_and_line_breaks():
    table = read(f'{HEADER}\n"Smith, J",s1,Ideas,3\n"O""Neil",s1,"Ideas",4\n'
                 '"Line\nbreak",s1,Ideas,2\n')

    assert table["rater"].tolist() == ["Smith, J", 'O"Neil', "Line\nbreak"]
    assert table["criterion"].tolist() == ["Ideas"] * 3


def test_a_quoted_line_break_keeps_one_record_per_line_number():
    # Lines are records (the header is 1), as the error names them.
    assert problem(f'{HEADER}\n"Line\nbreak",s1,Ideas,3\nB,s2,Ideas,x\n').line == 3


def test_byte_order_mark_crlf_and_blank_lines_are_accepted():
    text = f"\ufeff{HEADER}\r\nA,s1,Ideas,3\r\n\r\n\r\nB,s1,Ideas,4\r\n,,,\r\n"

    table = read(text)

    assert table["rater"].tolist() == ["A", "B"]
    assert table["score"].tolist() == [3, 4]
    assert problem(text + "C,s1,Ideas,x\r\n").line == 7


def test_a_binary_buffer_and_a_path_read_like_text(tmp_path):
    text = f"\ufeff{HEADER}\nA,s1,Ideas,3.0\nB,s1,Ideas,4\n"
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")

    for source in (io.BytesIO(text.encode("utf-8")), str(path)):
        assert load_ratings(source)["score"].tolist() == [3, 4]


def test_columns_of_digits_stay_text():
    # Ids like 007 are names, not numbers; +4 and 3.0 are still scores.
    table = read(f"{HEADER}\n007,0012,1,+4\n008,0012,1,3.0\n")

    assert table["rater"].tolist() == ["007", "008"]
    assert table["sample"].tolist() == ["0012", "0012"]
    assert table["score"].tolist() == [4, 3]


@pytest.mark.parametrize(("text", "line", "words"), [
    (f"{HEADER}\nA,s1,Ideas,3\n\nB,s1,Ideas,3,4\n", 4, "this line has 5 fields but the "
     "header names 4"),
    (f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas\n", 3, "this line has 3 fields"),
    (f'{HEADER}\nA,s1,Ideas,3\n"B,s1,Ideas,3\nC,s1,Ideas,3\n', 3, "never closed"),
])
def test_a_line_the_reader_cannot_split_is_named(text, line, words):
    error = problem(text)

    assert error.line == line
    assert words in str(error)


def test_a_file_that_is_not_utf8_is_refused_in_plain_words():
    with pytest.raises(RatingsFileError, match="not UTF-8 text"):
        load_ratings(io.BytesIO(f"{HEADER}\nA,s1,Ideas,3\n\xe9,s1,Ideas,3\n".encode("latin-1")))


def test_the_earliest_problem_is_reported():
    assert problem(f"{HEADER},scored_at\nA,s1,Ideas,3,bad\nB,s1,Ideas,x,\n").line == 2


def test_duplicate_points_to_the_first_rating():
    assert "(line 2)" in str(problem(f"{HEADER}\nA,s1,Ideas,3\nA,s1,Ideas,3\n"))


def test_a_later_time_makes_a_revision_and_the_latest_counts():
    table = read(f"{HEADER},scored_at\nA,s1,Ideas,2,2024-03-02\nA,s1,Ideas,4,2024-03-01\n"
                 "B,s1,Ideas,3,\n")

    assert len(table) == 3
    assert latest_blind(table)["score"].tolist() == [2, 3]


def test_frames_built_in_code_are_normalised():
    frame = pd.DataFrame({"rater": [1, 2, None], "sample": ["s1", "s1", "s1"],
                          "criterion": ["Ideas"] * 3, "score": [3, 4, 4],
                          "kind": ["blind", "blind", "reference"],
                          "scored_at": pd.to_datetime(["2024-01-01", None, "2024-01-02"])})

    table = validate_ratings(frame)

    assert table["rater"].tolist()[:2] == ["1", "2"] and pd.isna(table["rater"][2])
    assert str(table["scored_at"].dtype) == "datetime64[us, UTC]"


def test_blind_codes_have_one_unit_per_sample_and_criterion():
    table = read(f"{HEADER},kind\nA,s1,Ideas,3,\nB,s1,Ideas,4,\nA,s1,Voice,2,\nA,s2,Ideas,1,\n"
                 ",s2,Ideas,1,reference\nT,s2,Ideas,4,local\n")

    codes = encode_blind(table)

    assert codes.n_units == 3
    assert codes.score.tolist() == [3, 4, 2, 1]
    assert codes.unit.tolist() == [0, 0, 1, 2]
    assert codes.criterion_ids[codes.unit_criterion].tolist() == ["Ideas", "Voice", "Ideas"]


# Scores against the rubric's levels.

FOUR = ScoreLevels.parse("1,2,3,4")
RUBRIC = ScoreLevels(criteria={"Ideas": (1, 2, 3, 4), "Voice": (0, 1, 2)},
                     source="rubric 'Opinion Writing'")


def levels_problem(text: str, levels: ScoreLevels) -> RatingsFileError:
    with pytest.raises(RatingsFileError) as caught:
        load_ratings(io.StringIO(text), levels)
    return caught.value


@pytest.mark.parametrize("score", ["99", "-3", "0", "5"])
def test_a_score_outside_the_levels_is_refused_with_its_line(score):
    error = levels_problem(f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas,{score}\n", FOUR)

    assert str(error) == f"line 3: score {score} is not a level: --levels gives 1, 2, 3, 4"
    assert error.line == 3


def test_without_levels_any_whole_number_is_still_a_score():
    table = read(f"{HEADER}\nA,s1,Ideas,99\nB,s1,Ideas,-3\nC,s1,Ideas,0\n")

    assert table["score"].tolist() == [99, -3, 0]


@pytest.mark.parametrize("levels", [None, FOUR])
def test_a_zero_fraction_is_the_whole_number(levels):
    table = load_ratings(io.StringIO(f"{HEADER}\nA,s1,Ideas,3.0\nB,s1,Ideas,+4.00\n"
                                     "C,s1,Ideas,2\n"), levels)

    assert table["score"].tolist() == [3, 4, 2]
    assert table["score"].dtype == np.int64


def test_a_fraction_is_refused_naming_the_line_and_the_levels():
    error = levels_problem(f"{HEADER}\nA,s1,Ideas,3\nB,s1,Ideas,3.5\n", FOUR)

    assert str(error) == "line 3: score '3.5' is not a whole number; --levels gives 1, 2, 3, 4"
    # Without levels a fraction is refused as before.
    without = problem(f"{HEADER}\nA,s1,Ideas,3.5\n")
    assert str(without) == "line 2: score '3.5' is not a whole number"


def test_each_criterion_of_a_rubric_has_its_own_levels():
    ok = load_ratings(io.StringIO(f"{HEADER}\nA,s1,Ideas,4\nA,s1,Voice,0\n"), RUBRIC)
    error = levels_problem(f"{HEADER}\nA,s1,Ideas,4\nA,s1,Voice,0\nA,s2,Voice,3\n", RUBRIC)

    assert ok["score"].tolist() == [4, 0]
    assert str(error) == ("line 4: score 3 is not a level: criterion 'Voice' in rubric "
                          "'Opinion Writing' has levels 0, 1, 2")


def test_a_criterion_the_rubric_does_not_name_is_refused():
    error = levels_problem(f"{HEADER}\nA,s1,Ideas,4\nA,s1,Style,2\n", RUBRIC)

    assert str(error) == ("line 3: criterion 'Style' is not in rubric 'Opinion Writing' (its "
                          "criteria are 'Ideas' and 'Voice')")


def test_local_and_reference_scores_are_checked_too():
    text = f"{HEADER},kind\nA,s1,Ideas,4,\nT,s1,Ideas,4,local\n,s1,Ideas,7,reference\n"

    assert levels_problem(text, FOUR).line == 4


def test_a_malformed_cell_is_reported_before_a_score_outside_the_levels():
    # As with duplicates: cells that cannot be read at all come first, then the levels.
    text = f"{HEADER}\nA,s1,Ideas,9\nA,s1,Ideas,3\nB,s1,Ideas,x\n"

    assert levels_problem(text, FOUR).line == 4
    # ... and a score outside the levels before a duplicate.
    assert levels_problem(f"{HEADER}\nA,s1,Ideas,9\nA,s1,Ideas,9\n", FOUR).line == 2


def test_frames_built_in_code_are_checked_against_levels():
    frame = pd.DataFrame({"rater": ["A", "B"], "sample": ["s1", "s1"],
                          "criterion": ["Ideas"] * 2, "score": [3.0, 6.0]})

    with pytest.raises(RatingsFileError, match="line 3: score 6 is not a level"):
        validate_ratings(frame, FOUR)


def test_far_apart_levels_are_checked_without_a_table_of_every_value_between():
    levels = ScoreLevels.parse("-1000000000000,1000000000000")
    table = load_ratings(io.StringIO(f"{HEADER}\nA,s1,Ideas,1000000000000\n"), levels)

    assert table["score"].tolist() == [10 ** 12]
    assert levels_problem(f"{HEADER}\nA,s1,Ideas,0\n", levels).line == 2


@pytest.mark.parametrize("times", [
    ["2024-03-01 08:00:00+00:00", "2024-03-01T10:30:00.25+02:00", "2024-03-01T09:00:00Z"],
    ["2024-03-01 08:00:00+00:00", "2024-03-01T10:30:00.25+02:00", "2024-03-01 09:00:00"],
])
def test_times_with_and_without_an_offset_read_as_pandas_reads_them(times):
    # Offsets and Z throughout are read by Arrow's parser; one time without an offset sends
    # the column to pandas' reader, which takes it as UTC. Either way the same instants.
    rows = "".join(f"A{i},s1,Ideas,3,{time}\n" for i, time in enumerate(times))
    table = read(f"{HEADER},scored_at\n{rows}")
    expected = pd.to_datetime(pd.Series(times), format="ISO8601", utc=True).dt.as_unit("us")
    pd.testing.assert_series_equal(table["scored_at"], expected, check_names=False)


@pytest.mark.parametrize("dtype", ["str", object])
def test_positions_are_what_get_indexer_gives_absent_and_missing_at_minus_one(dtype):
    ids = pd.Index(["T2", "T1", "T3"], dtype=dtype)
    values = pd.Series(["T1", "T9", None, "T3", "T1"], dtype=dtype)

    found = positions(ids, values)

    assert found.tolist() == ids.get_indexer(values).tolist() == [1, -1, -1, 2, 1]


def test_values_at_positions_is_a_map_with_missing_where_absent():
    school_of = pd.Series(["S1", "S2"], index=pd.Index(["T1", "T2"], dtype="str"), dtype="str")
    rater = pd.Series(["T2", "T9", "T1"], dtype="str")

    schools = values_at(school_of, positions(school_of.index, rater))

    assert schools.tolist()[::2] == ["S2", "S1"] and pd.isna(schools[1])
    pd.testing.assert_series_equal(schools, rater.map(school_of), check_names=False)
