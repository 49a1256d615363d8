"""Values no database column can hold are refused once, for every request.
On PostgreSQL each of these was a 500: text columns cannot hold NUL, and an id past
2**31 - 1 overflows the integer comparison."""

import json

import pytest
from werkzeug.exceptions import NotFound

from moderation.accounts.models import School
from moderation.core.extensions import db
from moderation.core.request_guard import MESSAGE
from moderation.samples.models import WorkSample

REFUSAL = "cannot be stored"


def _refused(response) -> None:
    assert response.status_code == 400, response.text
    assert REFUSAL in response.text
    assert "NUL byte" in MESSAGE


def test_nul_in_the_login_form_is_refused_before_login(client, auth):
    _refused(client.post("/login", data={"email": "a\x00@b.c", "password": "x",
                                         "csrf_token": auth.login_token()}))


def test_nul_in_a_form_field_name_is_refused(client, auth):
    _refused(client.post("/login", data={"email": "a@b.c", "password": "x", "e\x00": "1",
                                         "csrf_token": auth.login_token()}))


@pytest.mark.parametrize("path", ["/samples/WS-%00", "/scoring/items/a%00b", "/files/%00"])
def test_nul_in_the_url_path_is_refused(client, auth, create_teacher, path):
    auth.login(create_teacher())
    _refused(client.get(path))


def test_nul_in_the_query_string_is_refused(client, auth, create_district_admin):
    auth.login(create_district_admin())
    _refused(client.get("/district/audit?actor=%00"))
    _refused(client.get("/district/audit?a%00=1"))


def test_lone_surrogate_or_nul_in_json_is_refused(client, auth, create_teacher):
    auth.login(create_teacher())
    token = auth.csrf_token()
    for value in ("a\x00b", "\ud800"):
        body = json.dumps({"nested": [{"name": value}]})  # json escapes both as \uXXXX
        _refused(client.post("/logout", data=body, content_type="application/json",
                             headers={"X-CSRFToken": token}))


def test_nul_in_an_upload_form_and_file_name_is_refused(app, client, uploader, post_upload):
    school, version = uploader
    _refused(post_upload(client, school, version, "essay.txt", b"My essay",
                         title="Essay\x00"))
    _refused(post_upload(client, school, version, "ess\x00ay.txt", b"My essay"))
    with app.app_context():
        assert db.session.query(WorkSample).count() == 0


def test_utf16_work_with_nul_bytes_in_its_body_is_still_accepted(client, uploader,
                                                                 post_upload):
    school, version = uploader
    body = "My essay about homework".encode("utf-16")
    assert b"\x00" in body
    response = post_upload(client, school, version, "essay.txt", body)
    assert response.status_code == 302, response.text


@pytest.mark.parametrize("path", ["/rubrics/2147483648", "/rubrics/99999999999999999999",
                                  "/scoring/rounds/2147483648"])
def test_ids_beyond_an_integer_column_are_not_found(client, auth, create_district_admin, path):
    auth.login(create_district_admin())
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.text


def test_the_largest_storable_id_still_matches_its_route(app):
    urls = app.url_map.bind("localhost")
    assert urls.match("/rubrics/2147483647")[1] == {"rubric_id": 2147483647}
    with pytest.raises(NotFound):
        urls.match("/rubrics/2147483648")


@pytest.fixture
def uploader(app, auth, create_teacher, create_rubric):
    """A logged-in teacher's school and a rubric version to upload to: (school, version)."""
    teacher = create_teacher()
    school = _school_of(app, teacher)
    auth.login(teacher)
    return school, create_rubric(school.district_id, criteria=2)


def _school_of(app, teacher) -> School:
    with app.app_context():
        school = db.session.get(School, teacher.memberships[0].school_id)
        db.session.expunge(school)
        return school
