"""`flask ratings export`: a round's ratings in the engine's input format, which the engine's own
command line turns into the stored run's numbers; anonymous exports; no formula in a cell."""

import io
import json
import math
import subprocess
import sys
import zipfile
from xml.etree import ElementTree

import pandas as pd
import pytest

from moderation.accounts.models import District, User
from moderation.analysis.models import AnalysisRun
from moderation.core.extensions import db
from moderation.ratings.export import write_csv, write_xlsx
from moderation.settings import services as settings_services

BOOTSTRAP = 50
SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture(autouse=True)
def few_replicates(app):
    app.config["ANALYSIS_BOOTSTRAP"] = BOOTSTRAP


def export(runner, round_id, path, *extra):
    result = runner.invoke(args=["ratings", "export", "--round", str(round_id), "-o", str(path),
                                 *extra])
    assert result.exit_code == 0, result.output
    return result


def assert_close(ours, theirs, where="report"):
    """Equal structure, equal text, numbers within 1e-9."""
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys(), where
        for key in ours:
            assert_close(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(ours, list):
        assert len(ours) == len(theirs), where
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(a, b, f"{where}[{index}]")
    elif isinstance(ours, float) or isinstance(theirs, float):
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), (where, ours, theirs)
    else:
        assert ours == theirs, (where, ours, theirs)


@pytest.mark.slow  # the engine's command line in a second interpreter
def test_the_exported_csv_gives_the_stored_runs_numbers(app, runner, scored_round, tmp_path):
    scored = scored_round()
    with app.app_context():  # changed settings travel to the engine's command as --settings
        district = db.session.get(District, scored.world.district.id)
        settings_services.update_settings(district, db.session.get(User, scored.world.admin.id),
                                          {"rater_severity": 0.4, "min_raters": 2})
        db.session.commit()
    stored = json.loads(runner.invoke(args=["analysis", "run", "--round", str(scored.round_id),
                                            "--json"]).output)
    with app.app_context():
        run = db.session.execute(db.select(AnalysisRun)).scalar_one()
        parameters = run.parameters
    export(runner, scored.round_id, tmp_path / "ratings.csv")
    (tmp_path / "settings.json").write_text(json.dumps(parameters["thresholds"]))

    [levels] = {tuple(scores) for scores in parameters["levels"].values()}  # one 1-4 rubric

    engine = subprocess.run(
        [sys.executable, "-m", "moderation.statistics", "analyze", str(tmp_path / "ratings.csv"),
         "--seed", str(parameters["seed"]), "--bootstrap", str(parameters["bootstrap"]),
         "--settings", str(tmp_path / "settings.json"),
         "--levels", ",".join(map(str, levels))],
        capture_output=True, text=True, check=True)
    theirs = json.loads(engine.stdout)
    # The run names its rubric where the command names its option; the levels are the same.
    assert (stored["score_levels"].pop("source"), theirs["score_levels"].pop("source")) == \
        (parameters["rubric"], "--levels")
    assert_close(stored, theirs)
    assert stored["thresholds"]["min_school_raters"] == 2


def test_an_anonymous_export_draws_new_rater_codes_and_leaves_out_their_schools(
        app, runner, scored_round, tmp_path):
    scored = scored_round()
    export(runner, scored.round_id, tmp_path / "named.csv")
    export(runner, scored.round_id, tmp_path / "one.csv", "--anonymous")
    export(runner, scored.round_id, tmp_path / "two.csv", "--anonymous")
    named, one, two = (pd.read_csv(tmp_path / f"{name}.csv")
                       for name in ("named", "one", "two"))

    assert one["rater_school"].isna().all()
    assert named["rater_school"].notna().any()
    assert not set(one["rater"].dropna()) & set(named["rater"].dropna())
    assert not set(one["rater"].dropna()) & set(two["rater"].dropna())
    # Within one export a rater keeps one code: the same people, the same ratings each.
    assert sorted(one["rater"].value_counts()) == sorted(named["rater"].value_counts())
    assert (one["score"] == named["score"]).all()


def test_the_xlsx_export_has_the_same_cells(app, runner, scored_round, tmp_path):
    scored = scored_round()
    export(runner, scored.round_id, tmp_path / "ratings.csv")
    export(runner, scored.round_id, tmp_path / "ratings.xlsx")
    rows = sheet_rows(tmp_path / "ratings.xlsx")
    csv_rows = (tmp_path / "ratings.csv").read_text().splitlines()
    assert len(rows) == len(csv_rows)
    # The first rows are blind ratings, every cell filled.
    assert [",".join(value for _, value in row) for row in rows[:5]] == csv_rows[:5]
    assert [kind for kind, _ in rows[1]] == ["text"] * 3 + ["number"] + ["text"] * 4


def test_text_that_starts_like_a_formula_is_written_as_text(tmp_path):
    table = pd.DataFrame({"rater": ["=HYPERLINK(\"x\")", "+1", "@SUM(A1)", "plain"],
                          "sample": ["-2", "S", "S", "S"], "criterion": ["C1"] * 4,
                          "score": [-1, 2, 3, 4]})
    out = io.StringIO()
    write_csv(table, out)
    lines = out.getvalue().splitlines()
    assert lines[1] == "\"'=HYPERLINK(\"\"x\"\")\",'-2,C1,-1"
    assert lines[2] == "'+1,S,C1,2" and lines[3] == "'@SUM(A1),S,C1,3"
    assert lines[4] == "plain,S,C1,4"

    write_xlsx(table, str(tmp_path / "cells.xlsx"))
    rows = sheet_rows(tmp_path / "cells.xlsx")
    assert rows[1] == [("text", "=HYPERLINK(\"x\")"), ("text", "-2"), ("text", "C1"),
                       ("number", "-1")]
    assert not any(kind == "formula" for row in rows for kind, _ in row)


def sheet_rows(path) -> list[list[tuple[str, str]]]:
    """Each row's cells as (text | number | formula, value), read from the sheet's XML."""
    with zipfile.ZipFile(path) as archive:
        sheet = ElementTree.fromstring(archive.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{SHEET}row"):
        cells = []
        for cell in row.iter(f"{SHEET}c"):
            if cell.find(f"{SHEET}f") is not None:
                cells.append(("formula", cell.find(f"{SHEET}f").text))
            elif cell.get("t") == "inlineStr":
                cells.append(("text", cell.find(f"{SHEET}is/{SHEET}t").text))
            else:
                cells.append(("number", cell.find(f"{SHEET}v").text))
        rows.append(cells)
    return rows
