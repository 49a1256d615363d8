"""Rubric files: download from the rubric page, import by upload or `flask rubrics import`,
round trips without loss, and malformed files are refused with the problem named."""

import io
import json

import pytest

from moderation.accounts import services as account_services
from moderation.accounts.models import District, Role, User
from moderation.core.extensions import db
from rubrics import jsonformat, services
from rubrics.models import Rubric
from seed_data.demo.rubrics import seed_files


def download(client, version):
    response = client.get(f"/rubrics/{version.rubric_id}/versions/{version.number}/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    return response


def upload(hx, data: bytes, district_id: int, filename: str = "rubric.json", **fields):
    return hx.post("/rubrics/import", {
        "import-district_id": str(district_id),
        "import-file": (io.BytesIO(data), filename), **fields,
    }, target="import-rubric", content_type="multipart/form-data")


@pytest.fixture
def coach_district(create_district, create_coach, auth):
    district = create_district()
    auth.login(create_coach(district=district))
    return district


def test_download_then_upload_to_another_district_round_trips(
        app, create_district, create_coach, create_rubric, auth, client, hx):
    source = create_rubric(district=create_district(), criteria=5, title="Argument 9-10")
    target = create_district()
    coach = create_coach(district=target)
    # A coach working in both districts.
    with app.app_context():
        account_services.grant_role(db.session.get(User, coach.id), Role.COACH,
                                    db.session.get(District, source.rubric.district_id))
        db.session.commit()
    auth.login(coach)
    exported = download(client, source)

    response = upload(hx, exported.data, target.id)

    assert response.status_code == 200, response.text
    assert response.headers["HX-Redirect"].startswith("/rubrics/")
    with app.app_context():
        imported = db.session.execute(db.select(Rubric).where(
            Rubric.district_id == target.id, Rubric.title == "Argument 9-10")).scalar_one()
        assert jsonformat.to_document(imported.versions[0]) == json.loads(exported.data)


def test_cli_export_then_import_round_trips(app, runner, create_district, create_rubric,
                                            tmp_path):
    source = create_rubric(district=create_district(), criteria=4, title="Lab Report")
    target = create_district(name="Second District")
    path = tmp_path / "lab.json"

    exported = runner.invoke(args=["rubrics", "export", str(source.rubric_id), "-o", str(path)])
    assert exported.exit_code == 0, exported.output
    result = runner.invoke(args=["rubrics", "import", str(path), "--district",
                                 "Second District"])

    assert result.exit_code == 0, result.output
    assert "Imported “Lab Report” version 1 into Second District: 4 criteria, 16 levels." \
        in result.output
    with app.app_context():
        rubric = db.session.execute(db.select(Rubric).where(
            Rubric.district_id == target.id)).scalar_one()
        assert jsonformat.to_document(rubric.versions[0]) == json.loads(path.read_text())


def test_cli_imports_a_file_as_the_next_version(app, runner, create_district, create_rubric,
                                                tmp_path):
    district = create_district(name="Only District")
    version = create_rubric(district=district, frozen=True, title="Lab Report")
    path = tmp_path / "lab.json"
    runner.invoke(args=["rubrics", "export", str(version.rubric_id), "-o", str(path)])
    document = json.loads(path.read_text())
    document["criteria"][0]["name"] = "Sharper claim"
    path.write_text(json.dumps(document))

    refused = runner.invoke(args=["rubrics", "import", str(path)])
    added = runner.invoke(args=["rubrics", "import", str(path), "--new-version"])

    assert refused.exit_code == 1
    assert "--new-version" in refused.output
    assert added.exit_code == 0, added.output
    assert "version 2" in added.output
    with app.app_context():
        rubric = db.session.get(Rubric, version.rubric_id)
        assert [v.number for v in rubric.versions] == [1, 2]
        assert rubric.versions[0].criteria[0].name == "Claim"  # version 1 untouched
        assert rubric.versions[1].criteria[0].name == "Sharper claim"


def _level(score, proficient=False, **changes):
    level = {"score": score, "label": f"L{score}", "descriptor": f"Work at {score}.",
             "proficient": proficient}
    return {**level, **changes}


def _document(**changes):
    document = {"format": "calibrate-rubric", "format_version": 1, "title": "Broken",
                "subject": "Science", "grade_band": "6-8",
                "criteria": [{"name": "Evidence", "levels": [
                    _level(1), _level(2), _level(3, True), _level(4)]}]}
    return json.dumps({**document, **changes}).encode()


MALFORMED = {
    "not JSON": (b'{"title": "Broken",\n  "criteria": [}',
                 "it is not valid JSON (Expecting value at line 2, column 16)."),
    "empty file": (b"", "the file is empty."),
    "not UTF-8": ("{\"title\": \"Caf\u00e9\"}".encode("latin-1"), "the file is not UTF-8 text"),
    "a list, not an object": (b"[1, 2]", "must hold one JSON object"),
    "missing title": (_document(title=None), "“title” is missing or empty."),
    "no criteria": (_document(criteria=[]), "“criteria” is empty"),
    "descriptor missing": (
        _document(criteria=[{"name": "Evidence", "levels": [
            _level(1), {"score": 2, "label": "L2"}, _level(3, True)]}]),
        "Criterion 1 (“Evidence”), level 2: “descriptor” is missing or empty."),
    "two proficient levels": (
        _document(criteria=[{"name": "Evidence", "levels": [
            _level(1), _level(2, True), _level(3, True)]}]),
        "Criterion 1 (“Evidence”): exactly one level must be marked \"proficient\": true "
        "(this criterion has 2)."),
    "duplicate scores": (
        _document(criteria=[{"name": "Evidence", "levels": [
            _level(1), _level(1), _level(3, True)]}]),
        "Criterion 1 (“Evidence”): two levels share the score 1"),
    "score is text": (
        _document(criteria=[{"name": "Evidence", "levels": [
            _level(1), _level("two"), _level(3, True)]}]),
        "Criterion 1 (“Evidence”), level 2: “score” must be a whole number"),
    "another format": (_document(format="moodle-rubric"), "this is not a calibrate-rubric file"),
    # Python refuses to read integers past 4,300 digits (CVE-2020-10735): named, not a traceback.
    "a score of 5,000 digits": (
        _document().replace(b'"score": 2', b'"score": ' + b"9" * 5000),
        "it holds a number of 5000 digits"),
    "a lone surrogate": (
        _document().replace(b'"L2"', b'"L\\ud800"'),
        "Criterion 1 (“Evidence”), level 2: “label” holds a character that is not text"),
    "a NUL character": (
        _document().replace(b'"Work at 3."', b'"Work\\u0000 at 3."'),
        "Criterion 1 (“Evidence”), level 3: “descriptor” holds a character that is not text"),
    "a lone surrogate in a criterion's name": (
        _document().replace(b'"Evidence"', b'"Evid\\udfffence"'),
        "Criterion 1 (“Evid\ufffdence”): “name” holds a character that is not text"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_the_cli_names_the_problem_without_a_traceback(case, runner, create_district, app,
                                                       tmp_path):
    create_district(name="Only District")
    data, problem = MALFORMED[case]
    path = tmp_path / "broken.json"
    path.write_bytes(data)

    result = runner.invoke(args=["rubrics", "import", str(path)])

    assert result.exit_code == 1
    assert problem in result.output
    assert result.output.startswith("Error: broken.json: This rubric file cannot be imported")
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Rubric.id))) == 0


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_an_upload_names_the_problem_with_422(case, coach_district, hx, app):
    data, problem = MALFORMED[case]

    response = upload(hx, data, coach_district.id)

    assert response.status_code == 422
    assert 'id="import-rubric"' in response.text
    assert problem.replace('"', "&#34;") in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Rubric.id))) == 0


def test_an_upload_lists_every_problem_it_finds(coach_district, hx):
    data = _document(title="", grade_band=None, criteria=[
        {"name": "", "levels": [_level(1)]}])

    response = upload(hx, data, coach_district.id)

    assert response.status_code == 422
    for problem in ("“title” is missing or empty.", "“grade_band” is missing or empty.",
                    "Criterion 1: “name” is missing or empty.",
                    "Criterion 1: a criterion needs at least two performance levels."):
        assert problem in response.text


def test_an_upload_without_a_file_asks_for_one(coach_district, hx):
    response = hx.post("/rubrics/import", {"import-district_id": str(coach_district.id)},
                       target="import-rubric")

    assert response.status_code == 422
    assert "Choose a rubric file to import." in response.text


def test_an_upload_of_an_existing_title_explains_the_choices(coach_district, create_rubric,
                                                              client, hx):
    version = create_rubric(district=coach_district, title="Lab Report")
    exported = download(client, version)

    response = upload(hx, exported.data, coach_district.id)

    assert response.status_code == 422
    assert "This district already has a rubric called “Lab Report”." in response.text


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: p.name)
def test_every_seed_rubric_parses_and_round_trips(path, app, create_district):
    document = jsonformat.parse(path.read_bytes())
    assert 4 <= len(document.criteria) <= 5
    for criterion in document.criteria:
        assert [lv.score for lv in criterion.levels] == [1, 2, 3, 4]
        assert [lv.is_proficient for lv in criterion.levels] == [False, False, True, False]
        assert criterion.standard_codes and criterion.student_friendly
        assert all(len(lv.descriptor) > 80 for lv in criterion.levels)  # real descriptors
    district = create_district()
    with app.app_context():
        version = services.import_rubric(document, district.id)
        assert jsonformat.to_document(version) == json.loads(path.read_text())
        db.session.rollback()


def test_a_title_in_any_script_downloads_under_a_plain_file_name(coach_district, create_rubric,
                                                                  client):
    version = create_rubric(district=coach_district, title="Écriture argumentée 写作")

    response = download(client, version)

    assert response.headers["Content-Disposition"] == (
        'attachment; filename="ecriture-argumentee-v1.json"')
    assert json.loads(response.data)["title"] == "Écriture argumentée 写作"
