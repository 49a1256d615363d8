"""The command line: JSON on success, a one-line message and exit status 2 on bad input."""

import json
import subprocess
import sys

import pytest

from moderation.statistics.__main__ import main
from seed_data.synthetic import DistrictParams, generate_district

GOOD = ("rater,sample,criterion,score\n"
        "A,s1,Ideas,2\nB,s1,Ideas,2\nA,s2,Ideas,3\nB,s2,Ideas,4\nA,s3,Ideas,1\nB,s3,Ideas,1\n")


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(GOOD)
    return path


def test_analyze_prints_one_json_document(good_file, capsys):
    status = main(["analyze", str(good_file), "--bootstrap", "20", "--seed", "4"])

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["level"] == "ordinal"
    assert report["bootstrap"] == {"replicates": 20, "seed": 4}
    assert report["criteria"][0]["criterion"] == "Ideas"


def test_out_writes_the_file_instead(good_file, tmp_path, capsys):
    out = tmp_path / "report.json"

    status = main(["analyze", str(good_file), "--level", "interval", "--out", str(out)])

    assert status == 0 and capsys.readouterr().out == ""
    assert json.loads(out.read_text())["level"] == "interval"


def test_the_same_seed_gives_the_same_document(good_file, capsys):
    main(["analyze", str(good_file), "--seed", "9"])
    first = capsys.readouterr().out
    main(["analyze", str(good_file), "--seed", "9"])

    assert capsys.readouterr().out == first


def test_malformed_file_gets_its_line_and_exit_status_2(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("rater,sample,criterion,score\nA,s1,Ideas,2\nB,s1,Ideas,two\n")

    status = main(["analyze", str(path)])

    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err == f"error: {path}: line 3: score 'two' is not a whole number\n"


def test_ratio_level_on_scores_across_zero_exits_with_status_2(tmp_path, capsys):
    path = tmp_path / "signed.csv"
    path.write_text("rater,sample,criterion,score\nA,s1,Ideas,-1\nB,s1,Ideas,1\n"
                    "A,s2,Ideas,-2\nB,s2,Ideas,2\n")

    status = main(["analyze", str(path), "--level", "ratio"])

    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err == (f"error: {path}: the ratio level needs scores on one side of zero "
                            "(a ratio scale has a true zero), but these run from -2 to 2; use "
                            "--level interval (or ordinal) for such scores\n")


def test_a_score_outside_levels_exits_with_status_2_naming_the_line(good_file, capsys):
    status = main(["analyze", str(good_file), "--levels", "1,2,3"])

    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err == (f"error: {good_file}: line 5: score 4 is not a level: --levels "
                            "gives 1, 2, 3\n")


def test_scores_within_levels_are_analysed_and_the_levels_reported(good_file, capsys):
    status = main(["analyze", str(good_file), "--levels", "1,2,3,4", "--bootstrap", "0"])

    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["score_levels"] == {"source": "--levels", "criteria": {"Ideas": [1, 2, 3, 4]}}


def test_a_rubric_file_gives_each_criterion_its_levels(tmp_path, capsys):
    rubric = tmp_path / "rubric.json"
    rubric.write_text(json.dumps({"format": "calibrate-rubric", "title": "Opinion Writing",
                                  "criteria": [{"name": "Ideas", "levels": [
                                      {"score": score} for score in (1, 2, 3)]}]}))
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("rater,sample,criterion,score\nA,s1,Ideas,3.0\nB,s1,Ideas,0\n")

    status = main(["analyze", str(ratings), "--rubric", str(rubric)])

    assert status == 2
    assert capsys.readouterr().err == (
        f"error: {ratings}: line 3: score 0 is not a level: criterion 'Ideas' in rubric "
        "'Opinion Writing' has levels 1, 2, 3\n")


@pytest.mark.parametrize(("content", "words"), [(None, "cannot read the file"),
                                                ("[1, 2]", "not a rubric JSON file")])
def test_an_unusable_rubric_file_exits_with_status_2(good_file, tmp_path, capsys, content,
                                                     words):
    rubric = tmp_path / "rubric.json"
    if content is not None:
        rubric.write_text(content)

    status = main(["analyze", str(good_file), "--rubric", str(rubric)])

    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert captured.err.startswith(f"error: {rubric}: ") and words in captured.err


def test_missing_file_is_a_message_not_a_traceback(tmp_path, capsys):
    status = main(["analyze", str(tmp_path / "absent.csv")])

    assert status == 2
    assert "cannot read the file" in capsys.readouterr().err


@pytest.mark.parametrize("arguments", [["analyze", "x.csv", "--level", "fuzzy"],
                                       ["analyze", "x.csv", "--bootstrap", "-5"],
                                       ["analyze", "x.csv", "--levels", "1,two"],
                                       ["analyze", "x.csv", "--levels", "1,2", "--rubric", "r"],
                                       ["analyse", "x.csv"]])
def test_bad_options_exit_with_status_2(arguments, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(arguments)

    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.slow   # a fresh interpreter imports numpy, pandas and scipy
def test_module_entry_point_never_shows_a_traceback(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("rater,sample,criterion,score\nA,s1,Ideas,2\nA,s1,Ideas,3\n")

    done = subprocess.run([sys.executable, "-m", "moderation.statistics", "analyze", str(path)],
                          capture_output=True, text=True)

    assert done.returncode == 2
    assert "line 3: duplicate rating" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_fit_that_did_not_converge_is_a_warning_and_nulls(tmp_path, capsys):
    path = tmp_path / "six.csv"
    path.write_text("rater,sample,criterion,score\n"
                    "A,s1,Ideas,1\nB,s1,Ideas,1\nA,s2,Ideas,1\nB,s2,Ideas,2\n"
                    "A,s3,Ideas,2\nB,s3,Ideas,3\n")

    status = main(["analyze", str(path), "--bootstrap", "20", "--seed", "1"])

    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert status == 0
    assert report["rasch"]["status"] == "not_converged"
    assert {rater["severity"] for rater in report["raters"]} == {None}
    assert captured.err.startswith(f"warning: {path}: Rasch fit not_converged: rater "
                                   "severities, drift and school standards are null.")


def test_a_converged_fit_prints_no_warning(tmp_path, capsys):
    path = tmp_path / "three.csv"
    scores = {"A": "14321432", "B": "44411122", "C": "34241312"}
    path.write_text("rater,sample,criterion,score\n" + "".join(
        f"{rater},s{i},Ideas,{score}\n" for rater, row in scores.items()
        for i, score in enumerate(row)))

    main(["analyze", str(path), "--bootstrap", "20", "--seed", "1"])

    captured = capsys.readouterr()
    assert json.loads(captured.out)["rasch"]["status"] == "converged"
    assert captured.err == ""


def test_thresholds_come_from_a_settings_file_then_the_options(good_file, tmp_path, capsys):
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"false_discovery_rate": 0.1, "rater_severity": 0.8}))

    status = main(["analyze", str(good_file), "--bootstrap", "0", "--seed", "1",
                   "--settings", str(settings), "--rater-drift", "0.7",
                   "--bias-points", "0.4"])

    thresholds = json.loads(capsys.readouterr().out)["thresholds"]
    assert status == 0
    assert (thresholds["false_discovery_rate"], thresholds["rater_severity"],
            thresholds["rater_drift"], thresholds["school_effect"],
            thresholds["bias_points"]) == (0.1, 0.8, 0.7, 0.3, 0.4)


@pytest.mark.parametrize(("content", "message"), [
    ('{"rater_z": 3}', "unknown threshold 'rater_z'"),
    ("[0.05]", "JSON object"),
    ("{not json", "not JSON"),
    ('{"false_discovery_rate": 2}', "between 0 and 1"),
])
def test_a_bad_settings_file_exits_with_status_2(good_file, tmp_path, capsys, content,
                                                 message):
    settings = tmp_path / "settings.json"
    settings.write_text(content)

    status = main(["analyze", str(good_file), "--settings", str(settings)])

    assert status == 2 and message in capsys.readouterr().err


def test_a_bad_threshold_option_exits_with_status_2(good_file, capsys):
    status = main(["analyze", str(good_file), "--fdr", "0"])

    assert status == 2 and "false_discovery_rate" in capsys.readouterr().err


def test_model_partial_credit_fits_each_criterion_its_own_thresholds(tmp_path, capsys):
    ratings, _ = generate_district(
        DistrictParams(n_schools=3, raters_per_school=3, samples=120, criteria=2), seed=2)
    path = tmp_path / "district.csv"
    ratings.to_csv(path, index=False)

    status = main(["analyze", str(path), "--bootstrap", "20", "--model", "partial-credit"])

    rasch = json.loads(capsys.readouterr().out)["rasch"]
    assert status == 0
    assert rasch["model"] == "partial_credit"
    assert {step["criterion"] for step in rasch["thresholds"]} == set(ratings["criterion"])


def test_an_unknown_model_exits_with_status_2(good_file, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", str(good_file), "--model", "graded"])

    assert exit_.value.code == 2
    assert "--model" in capsys.readouterr().err
