"""The rubric's levels, from a list or the project's rubric JSON: what a score may be."""

import io
import json
from pathlib import Path

import pytest

from moderation.statistics.levels import LevelsError, ScoreLevels

SEED_RUBRICS = Path(__file__).resolve().parents[3] / "seed_data" / "rubrics"


def rubric(criteria, **extra) -> io.StringIO:
    return io.StringIO(json.dumps({"format": "calibrate-rubric", "format_version": 1,
                                   "title": "Opinion Writing", "criteria": criteria, **extra}))


def criterion(name, scores):
    return {"name": name, "levels": [{"score": score, "label": f"L{score}", "descriptor": "d",
                                      "proficient": score == scores[-1]} for score in scores]}


@pytest.mark.parametrize(("text", "levels"), [("1,2,3,4", (1, 2, 3, 4)),
                                              (" 4, 3 ,2,1 ", (1, 2, 3, 4)),
                                              ("0,1,2", (0, 1, 2)),
                                              ("1,2,3.0", (1, 2, 3))])
def test_a_level_list_is_read_in_order(text, levels):
    parsed = ScoreLevels.parse(text)

    assert parsed.every == levels
    assert parsed.of("anything") == levels


@pytest.mark.parametrize(("text", "words"), [("1,2,x", "whole number"), ("1,2.5", "whole number"),
                                             ("1,,2", "list of levels"), ("3", "two different"),
                                             ("3,3", "two different"), ("", "list of levels")])
def test_a_bad_level_list_is_refused(text, words):
    with pytest.raises(LevelsError, match=words):
        ScoreLevels.parse(text)


def test_the_seed_rubric_files_give_each_criterion_its_levels():
    levels = ScoreLevels.from_rubric(SEED_RUBRICS / "argumentative_writing_9_10.json")
    document = json.loads((SEED_RUBRICS / "argumentative_writing_9_10.json").read_text())

    assert list(levels.criteria) == [entry["name"] for entry in document["criteria"]]
    assert levels.of("Claim and Focus") == tuple(
        sorted(level["score"] for level in document["criteria"][0]["levels"]))
    assert levels.of("Not a criterion") is None
    assert levels.source == "rubric 'Argumentative Writing'"


def test_criteria_may_have_different_levels():
    levels = ScoreLevels.from_rubric(rubric([criterion("Ideas", [1, 2, 3, 4]),
                                             criterion("Voice", [0, 2, 1])]))

    assert (levels.of("Ideas"), levels.of("Voice")) == ((1, 2, 3, 4), (0, 1, 2))
    assert levels.describe("Voice") == ("criterion 'Voice' in rubric 'Opinion Writing' has "
                                        "levels 0, 1, 2")


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", "not a rubric JSON file"),
    ('{"title": "x"}', 'needs a "criteria" list'),
    ('{"format": "other", "criteria": []}', "'other'"),
    ('{"criteria": []}', "no criteria"),
    ('{"criteria": [{"levels": [{"score": 1}]}]}', 'criterion 1 has no "name"'),
    ('{"criteria": [{"name": "Ideas"}]}', "criterion 1 ('Ideas') has no \"levels\""),
    ('{"criteria": [{"name": "Ideas", "levels": [{"score": 1.5}]}]}',
     "criterion 1 ('Ideas'), level 1: \"score\" must be a whole number"),
    ('{"criteria": [{"name": "Ideas", "levels": [{"score": true}]}]}', "whole number"),
    ('{"criteria": [{"name": "A", "levels": [{"score": 1}]}, '
     '{"name": "A", "levels": [{"score": 1}]}]}', "appears twice"),
])
def test_a_bad_rubric_file_is_refused_saying_where(text, words):
    with pytest.raises(LevelsError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ScoreLevels.from_rubric(io.StringIO(text))
