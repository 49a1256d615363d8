"""A district administrator's schools: create, edit and archive them with their public context
(each figure with its year and source), refused input shown as messages, every change audited
in words, and the equity analysis's read of the context."""

import html
import re

import pytest

from moderation.accounts import queries
from moderation.accounts.models import ContextMeasure, District, MeasureUnit, Role, School, User
from moderation.accounts.services import grant_role
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.samples.models import WorkSample


@pytest.fixture
def district_setup(app, create_district, create_district_admin):
    """A district recording a low-income share and an enrolment, and its administrator."""
    district = create_district()
    admin = create_district_admin(district)
    with app.app_context():
        share = ContextMeasure(district_id=district.id, key="low_income_share",
                               label="Low-income share", unit=MeasureUnit.SHARE)
        count = ContextMeasure(district_id=district.id, key="enrolment", label="Enrolment",
                               unit=MeasureUnit.COUNT)
        db.session.add_all([share, count])
        db.session.commit()
        return district, admin, share.id, count.id


def school_data(name="Cedar Middle", share=("52.5", "2025", "State report card"),
                count=("412", "2024", "District census"), grade_band="6-8") -> dict:
    data = {"name": name, "grade_band": grade_band}
    for i, (value, year, source) in enumerate([share, count]):
        data |= {f"context-{i}-value": value, f"context-{i}-year": year,
                 f"context-{i}-source": source}
    return data


def new_url(district) -> str:
    return f"/district/{district.id}/schools/new"


def post_school(client, auth, url: str, data: dict, measure_ids: tuple[int, int]):
    """Post the form as the page sends it: each figure names its measure."""
    ids = {f"context-{i}-measure_id": str(measure_id) for i, measure_id in enumerate(measure_ids)}
    return client.post(url, data={**data, **ids, "csrf_token": auth.csrf_token(url)})


def school_named(app, name: str) -> School | None:
    with app.app_context():
        return db.session.execute(db.select(School).where(School.name == name)).scalar()


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.object_type.in_(
                ["School", "ContextMeasure"])).order_by(AuditEvent.id)).scalars())


def test_admin_creates_a_school_with_its_context(app, client, auth, district_setup):
    district, admin, *measure_ids = district_setup
    auth.login(admin)
    response = post_school(client, auth, new_url(district), school_data(), measure_ids)
    assert response.status_code == 302
    page = html.unescape(client.get(response.location).text)
    assert "Cedar Middle is added" in page
    assert "52.5%" in page and "2025, State report card" in page
    assert "412" in page and "2024, District census" in page

    log = html.unescape(client.get("/district/audit").text)
    assert "Created school “Cedar Middle” for grades 6-8." in log
    assert "Low-income share: 52.5% (2025, State report card)" in log

    with app.app_context():
        rows = queries.school_context(district.id)
    assert [(r.school, r.measure, r.value, r.year, r.source) for r in rows] == [
        ("Cedar Middle", "low_income_share", pytest.approx(0.525), 2025, "State report card"),
        ("Cedar Middle", "enrolment", 412, 2024, "District census")]


@pytest.mark.parametrize(("data", "message"), [
    (school_data(share=("150", "2025", "Report")),
     "Low-income share: enter a percentage from 0 to 100."),
    (school_data(share=("40", "1985", "Report")),
     "Low-income share: enter the year it describes, 1990 to"),
    (school_data(share=("40", "2025", " ")),
     "Low-income share: say where the figure was published."),
    (school_data(count=("12.5", "2025", "Census")), "Enrolment: enter a whole number"),
    (school_data(share=("lots", "2025", "Report")), "Enter a number, for example 52 or 52.5."),
    (school_data(share=("40", "last year", "Report")), "Enter the year the figure describes"),
    (school_data(name=""), "Enter the school&#39;s name."),
])
def test_refused_input_is_a_message_and_saves_nothing(app, client, auth, district_setup, data,
                                                      message):
    district, admin, *measure_ids = district_setup
    auth.login(admin)
    response = post_school(client, auth, new_url(district), data, measure_ids)
    assert response.status_code == 422
    assert message in response.text
    assert school_named(app, "Cedar Middle") is None
    assert audit_actions(app) == []


def test_names_are_unique_within_a_district_only(app, client, auth, district_setup,
                                                  create_school, create_district):
    district, admin, *measure_ids = district_setup
    create_school(district, name="Cedar Middle")
    create_school(create_district(), name="Elm Middle")
    auth.login(admin)
    url = f"/district/{district.id}/schools/new"
    taken = post_school(client, auth, url, school_data(name="cedar middle"), measure_ids)
    assert taken.status_code == 422
    assert "already has a school called cedar middle" in taken.text
    other_name = post_school(client, auth, url, school_data(name="Elm Middle"), measure_ids)
    assert other_name.status_code == 302


def test_admin_edits_a_school_and_the_log_says_what_changed(app, client, auth, district_setup):
    district, admin, *measure_ids = district_setup
    auth.login(admin)
    post_school(client, auth, new_url(district), school_data(), measure_ids)
    school = school_named(app, "Cedar Middle")
    url = f"/schools/{school.id}/edit"
    form = client.get(url).text
    assert 'value="52.5"' in form and 'value="State report card"' in form

    changed = school_data(name="Cedar Grove Middle", share=("55", "2026", "State report card"),
                          count=("", "", ""))
    assert post_school(client, auth, url, changed, measure_ids).status_code == 302
    with app.app_context():
        rows = queries.school_context(district.id)
    assert [(r.school, r.measure, r.value, r.year) for r in rows] == [
        ("Cedar Grove Middle", "low_income_share", pytest.approx(0.55), 2026)]
    log = html.unescape(client.get("/district/audit").text)
    assert ("Changed school “Cedar Grove Middle”: Name: Cedar Middle → Cedar Grove Middle; "
            "Low-income share: 52.5% (2025, State report card) → 55.0% (2026, State report "
            "card); Enrolment: 412 (2024, District census) → not recorded.") in log

    again = post_school(client, auth, url, changed, measure_ids)
    assert "Nothing changed." in client.get(again.location).text
    assert audit_actions(app) == ["school_created", "school_changed"]


def menu(page: str, name: str) -> str:
    """The <select> named `name` on the page, or its checkboxes' list."""
    found = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S) or re.search(
        rf'(<input[^>]*name="{name}".*?)+</(ul|fieldset|div)>', page, re.S)
    assert found, f"no {name} menu"
    return found.group(0)


def test_an_archived_school_leaves_uploads_and_round_filters_but_keeps_its_history(
        app, client, auth, scoring_world):
    world = scoring_world(n_schools=2, teachers_per_school=1, samples_per_school=1, anchors=0)
    kept, closing = world.schools
    teacher = world.teachers[kept.id][0]
    with app.app_context():
        grant_role(db.session.get(User, teacher.id), Role.TEACHER,
                   db.session.get(District, world.district.id), db.session.get(School, closing.id))
        db.session.commit()

    auth.login(world.admin)
    rounds = client.get("/scoring/rounds/new").text
    assert closing.name in menu(rounds, "school_id")
    response = client.post(f"/schools/{closing.id}/archive",
                           data={"csrf_token": auth.csrf_token("/district")})
    listing = html.unescape(client.get(response.location).text)
    assert (f"{closing.name} is archived: it is no longer offered for uploads or new rounds"
            in listing)
    archived_part = listing.split("Archived schools", 1)[1]
    assert f"Unarchive {closing.name}" in archived_part
    rounds = client.get("/scoring/rounds/new").text
    assert kept.name in menu(rounds, "school_id") and closing.name not in menu(rounds, "school_id")
    assert closing.name not in menu(rounds, "rater_school_ids")
    log = html.unescape(client.get("/district/audit").text)
    assert f"Archived school “{closing.name}”: no longer offered for uploads or new rounds" in log

    auth.logout()
    auth.login(teacher)
    upload = client.get("/samples/new").text
    assert kept.name in menu(upload, "school_id") and closing.name not in menu(upload, "school_id")
    # Its history stays: the sample uploaded there is still listed.
    with app.app_context():
        assert db.session.execute(db.select(WorkSample).where(
            WorkSample.school_id == closing.id)).scalar() is not None

    auth.logout()
    auth.login(world.admin)
    client.post(f"/schools/{closing.id}/unarchive",
                data={"csrf_token": auth.csrf_token("/district")})
    assert school_named(app, closing.name).archived_at is None
    assert audit_actions(app) == ["school_archived", "school_unarchived"]


def test_another_districts_admin_is_refused(app, client, auth, district_setup, create_school,
                                            create_district_admin):
    district, _, *_ = district_setup
    school = create_school(district, name="Cedar Middle")
    auth.login(create_district_admin())
    token = auth.csrf_token("/district")
    assert client.get(f"/district/{district.id}/schools").status_code == 403
    assert client.post(f"/district/{district.id}/schools/new",
                       data={**school_data(name="Intruder"), "csrf_token": token}
                       ).status_code == 403
    assert client.post(f"/schools/{school.id}/edit",
                       data={**school_data(name="Renamed"), "csrf_token": token}
                       ).status_code == 403
    assert client.post(f"/schools/{school.id}/archive",
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"/district/{district.id}/context-measures",
                       data={"label": "X", "unit": "share", "csrf_token": token}
                       ).status_code == 403
    assert school_named(app, "Cedar Middle").archived_at is None
    assert school_named(app, "Intruder") is None and audit_actions(app) == []


def test_admin_adds_a_context_measure_once(app, client, auth, district_setup):
    district, admin, *measure_ids = district_setup
    auth.login(admin)
    url = f"/district/{district.id}/context-measures"
    data = {"label": "English learners share", "unit": "share",
            "description": "Students learning English."}
    response = client.post(url, data={**data, "csrf_token": auth.csrf_token("/district")})
    page = html.unescape(client.get(response.location).text)
    assert "now records “English learners share” for every school" in page
    assert "English learners share" in client.get(f"/district/{district.id}/schools/new").text

    twice = client.post(url, data={**data, "label": "english learners SHARE",
                                   "csrf_token": auth.csrf_token("/district")})
    assert twice.status_code == 422
    assert "already records “English learners share”" in html.unescape(twice.text)
    log = html.unescape(client.get("/district/audit").text)
    assert "Added the school context measure “English learners share” (a share)." in log
    assert audit_actions(app) == ["context_measure_added"]
