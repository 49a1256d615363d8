"""Only staff of the uploading school ever reach the student link; raters and staff elsewhere
get 403 at every URL of a sample they may not see."""

import pytest

from moderation.accounts.models import District

STUDENT = "Jordan Rivera"


def sample_urls(code: str) -> list[tuple[str, str]]:
    return [("GET", f"/samples/{code}"), ("GET", f"/samples/{code}/identity"),
            ("GET", f"/samples/{code}/pages/1.png"), ("GET", f"/samples/{code}/download"),
            ("GET", f"/samples/{code}/local-score"), ("POST", f"/samples/{code}/local-score"),
            ("POST", f"/samples/{code}/confirm"), ("GET", f"/samples/{code}/anchor"),
            ("POST", f"/samples/{code}/delete"), ("POST", f"/samples/{code}/purge"),
            ("GET", f"/samples/{code}/name-check"), ("GET", f"/samples/{code}/redact"),
            ("POST", f"/samples/{code}/pages/1/redact"), ("POST", f"/samples/{code}/student")]


@pytest.fixture
def world(create_school, create_sample):
    school = create_school()
    sample = create_sample(school=school, student_name=STUDENT)
    return school, sample


def _request(client, method, url, token):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token},
                       headers={"HX-Request": "true", "HX-Target": "sample-status"})


def test_teacher_of_another_school_gets_403_at_every_url(client, auth, world, create_school,
                                                         create_teacher):
    school, sample = world
    elsewhere = create_school(district=school.district_id)
    auth.login(create_teacher(school=elsewhere))
    token = auth.csrf_token("/teacher")
    for method, url in sample_urls(sample.code):
        response = _request(client, method, url, token)
        assert response.status_code == 403, (method, url)
        assert STUDENT not in response.text


@pytest.mark.parametrize("who", ["district_coach", "district_admin", "other_school_coach"])
def test_overseers_see_the_work_but_never_the_student(client, auth, world, create_school,
                                                      create_coach, create_district_admin, who):
    school, sample = world
    district = District(id=school.district_id, name="")
    user = {"district_coach": lambda: create_coach(district=district),
            "district_admin": lambda: create_district_admin(district=district),
            "other_school_coach": lambda: create_coach(
                school=create_school(district=school.district_id))}[who]()
    auth.login(user)
    page = client.get(f"/samples/{sample.code}")
    if who == "other_school_coach":
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        assert sample.code in page.text and 'id="sample-work"' in page.text
        assert STUDENT not in page.text and "essay.pdf" not in page.text
        assert client.get(f"/samples/{sample.code}/pages/1.png").status_code == 200
    identity = client.get(f"/samples/{sample.code}/identity",
                          headers={"HX-Request": "true", "HX-Target": "student-identity"})
    assert identity.status_code == 403
    assert STUDENT not in identity.text
    assert client.get(f"/samples/{sample.code}/name-check").status_code == 403
    assert client.get(f"/samples/{sample.code}/redact").status_code == 403
    listing = client.get("/samples/").text
    assert STUDENT not in listing


def test_staff_of_another_district_get_403(client, auth, world, create_district_admin,
                                           create_coach):
    _, sample = world
    for user in (create_district_admin(), create_coach(district=None)):
        other = client.application.test_client()
        auth.for_client(other).login(user)
        assert other.get(f"/samples/{sample.code}").status_code == 403
        assert other.get(f"/samples/{sample.code}/identity").status_code == 403
        assert sample.code not in other.get("/samples/").text


@pytest.mark.parametrize("role", ["teacher", "coach"])
def test_school_staff_see_the_student_link(client, auth, world, create_teacher, create_coach,
                                           role):
    school, sample = world
    user = create_teacher(school=school) if role == "teacher" else create_coach(school=school)
    auth.login(user)
    fragment = client.get(f"/samples/{sample.code}/identity",
                          headers={"HX-Request": "true", "HX-Target": "student-identity"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section id="student-identity"')
    assert STUDENT in fragment.text and "essay.pdf" in fragment.text
    assert STUDENT in client.get(f"/samples/{sample.code}").text
    assert sample.code in client.get("/samples/").text


def test_a_download_link_works_only_for_the_user_it_was_issued_to(
        app, client, auth, world, create_teacher):
    school, sample = world
    auth.login(create_teacher(school=school))
    link = client.get(f"/samples/{sample.code}/download").headers["Location"]
    with client.get(link) as mine:
        assert mine.status_code == 200
        assert mine.headers["Cache-Control"] == "private, no-store"
    colleague = app.test_client()
    auth.for_client(colleague).login(create_teacher(school=school))
    with colleague.get(link) as theirs:
        assert theirs.status_code == 403
    with app.test_client().get(link) as anonymous:
        assert anonymous.status_code == 302  # to the login page
    with client.get(link[:-3] + "abc") as forged:
        assert forged.status_code == 404
