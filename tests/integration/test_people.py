"""The district administrator's people pages: create, edit, roles, deactivate, reactivate."""

from types import SimpleNamespace

import pytest

from moderation.accounts.models import Role, User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating
from moderation.scoring import queries as scoring_queries
from tests.conftest import csrf_token_from
from tests.fixtures.scoring import score_form


def _people_url(district, rest: str = "") -> str:
    return f"/district/{district.id}/people{rest}"


def _post(client, url: str, data: dict):
    token = csrf_token_from(client.get(_people_url_of(url)).text)
    return client.post(url, data={**data, "csrf_token": token})


def _people_url_of(url: str) -> str:
    # A page of the same district carries a token of the session.
    return url.split("/people")[0] + "/people"


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action)).scalars())


def _user(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        _ = user.memberships
        db.session.expunge(user)
        return user


@pytest.fixture
def admin_client(client, auth, create_district_admin, create_school):
    admin = create_district_admin(name="Helen Osei")
    school = create_school(admin.memberships[0].district_id, name="Hillcrest Elementary")
    auth.login(admin)
    client.district = SimpleNamespace(id=admin.memberships[0].district_id)
    client.school = school
    client.admin = admin
    return client


def test_admin_creates_a_teacher_without_a_password_and_it_is_audited(admin_client, app):
    district, school = admin_client.district, admin_client.school
    response = _post(admin_client, _people_url(district, "/new"), {
        "display_name": "  Lena   Fisher ", "email": "Lena.Fisher@Riverbend.example",
        "role": "teacher", "school": str(school.id)})
    assert response.status_code == 302
    page = admin_client.get(response.headers["Location"]).text
    assert "Lena Fisher is added" in page
    assert "Teacher · Hillcrest Elementary" in page
    with app.app_context():
        person = db.session.execute(
            db.select(User).where(User.email == "lena.fisher@riverbend.example")).scalar_one()
        assert person.display_name == "Lena Fisher" and person.password_hash is None
    created, granted = _audit(app, "user_created"), _audit(app, "role_granted")
    assert any(e.actor_id == admin_client.admin.id and e.object_id == str(person.id)
               for e in created)
    assert any(e.actor_id == admin_client.admin.id for e in granted)
    log = admin_client.get("/district/audit").text
    assert "Teacher at Hillcrest Elementary." in log


@pytest.mark.parametrize("data, message", [
    ({"display_name": "", "email": "a@b.org", "role": "teacher"}, "Enter the person&#39;s name."),
    ({"display_name": "A", "email": "not-an-email", "role": "teacher"},
     "Enter an email address such as name@school.org."),
    ({"display_name": "A", "email": "a@b.org", "role": "teacher", "school": ""},
     "A teacher belongs to a school; choose the school."),
    ({"display_name": "A", "email": "a@b.org", "role": "school_leader", "school": ""},
     "A school leader belongs to a school; choose the school."),
    ({"display_name": "A", "email": "a@b.org", "role": "district_admin", "school": "SCHOOL"},
     "District administrators work district-wide, not for one school."),
    ({"display_name": "A", "email": "a@b.org", "role": "teacher", "school": "999999"},
     "Choose one of the district&#39;s schools."),
    ({"display_name": "A", "email": "a@b.org", "role": "pilot"}, "Not a valid choice."),
])
def test_a_bad_new_person_is_refused_with_a_message(admin_client, app, data, message):
    if data.get("school") == "SCHOOL":
        data = {**data, "school": str(admin_client.school.id)}
    response = _post(admin_client, _people_url(admin_client.district, "/new"), data)
    assert response.status_code == 422
    assert message in response.text
    assert not [e for e in _audit(app, "user_created") if e.actor_id == admin_client.admin.id]


def test_an_email_already_taken_is_refused(admin_client, create_teacher):
    taken = create_teacher(school=admin_client.school)
    response = _post(admin_client, _people_url(admin_client.district, "/new"), {
        "display_name": "Copy", "email": taken.email.upper(), "role": "teacher",
        "school": str(admin_client.school.id)})
    assert response.status_code == 422
    # Under the email field, which is marked invalid for screen readers.
    assert (f'<ul class="errors" id="email-errors"><li>Someone already has the email '
            f'{taken.email}.</li>') in response.text


def test_editing_name_email_and_roles_is_audited_in_words(admin_client, app, create_teacher):
    teacher = create_teacher(school=admin_client.school, name="Amara Okafor")
    url = _people_url(admin_client.district, f"/{teacher.id}")
    response = _post(admin_client, url, {"display_name": "Amara Okafor-Bell",
                                         "email": "amara.bell@riverbend.example"})
    assert response.status_code == 302
    response = _post(admin_client, url + "/roles", {"role": "school_leader",
                                                    "school": str(admin_client.school.id)})
    assert response.status_code == 302
    person = _user(app, teacher.id)
    assert person.display_name == "Amara Okafor-Bell"
    assert {m.role for m in person.memberships} == {Role.TEACHER, Role.SCHOOL_LEADER}
    teaching = next(m for m in person.memberships if m.role == Role.TEACHER)
    response = _post(admin_client, url + f"/roles/{teaching.id}/remove", {})
    assert response.status_code == 302
    assert {m.role for m in _user(app, teacher.id).memberships} == {Role.SCHOOL_LEADER}
    log = admin_client.get("/district/audit").text
    assert "Changed name from “Amara Okafor” to “Amara Okafor-Bell”" in log
    assert "School leader at Hillcrest Elementary." in log
    assert "Removed the role Teacher at Hillcrest Elementary." in log


def test_the_last_role_cannot_be_removed(admin_client, app, create_teacher):
    teacher = create_teacher(school=admin_client.school)
    membership = teacher.memberships[0]
    response = _post(admin_client, _people_url(
        admin_client.district, f"/{teacher.id}/roles/{membership.id}/remove"), {})
    assert response.status_code == 422
    assert "Deactivate the account instead" in response.text
    assert len(_user(app, teacher.id).memberships) == 1


def test_an_edit_with_a_taken_email_is_refused(admin_client, create_teacher):
    one, other = (create_teacher(school=admin_client.school) for _ in range(2))
    response = _post(admin_client, _people_url(admin_client.district, f"/{one.id}"),
                     {"display_name": one.display_name, "email": other.email})
    assert response.status_code == 422
    assert "Someone already has the email" in response.text


def test_deactivated_teacher_cannot_log_in_loses_sessions_and_leaves_pools(
        app, client, auth, scoring_world, open_round, scoring_db):
    world = scoring_world(n_schools=2, teachers_per_school=2)
    leaving = world.all_teachers[0]
    scoring_round = open_round(world, n=2)
    items = scoring_db.items(scoring_round.id, leaving)
    criteria = scoring_db.criteria(world.version)

    teacher_client = app.test_client()
    teacher_auth = auth.for_client(teacher_client)
    assert teacher_auth.login(leaving).status_code == 302
    submitted = items[0]
    page = teacher_client.get(f"/scoring/items/{submitted.token}")
    token = csrf_token_from(page.text)
    teacher_client.post(f"/scoring/items/{submitted.token}/submit",
                        data={**score_form(criteria, [3, 3]), "csrf_token": token})

    auth.login(world.admin)
    response = _post(client, _people_url(world.district, f"/{leaving.id}/deactivate"), {})
    assert response.status_code == 302
    assert "unscored papers left their queue" in client.get(response.headers["Location"]).text

    # The open session ends; logging in again is refused like a wrong password.
    assert teacher_client.get("/teacher").status_code == 302
    refused = teacher_auth.login(leaving)
    assert refused.status_code == 422
    assert "That email and password do not match an account." in refused.text

    with app.app_context():
        pool = {c.user.id for c in scoring_queries.round_candidate_raters(world.district.id)}
        assert leaving.id not in pool and world.all_teachers[1].id in pool
        ratings = db.session.execute(db.select(Rating).where(
            Rating.rater_id == leaving.id, Rating.submitted_at.is_not(None))).scalars().all()
        assert ratings, "submitted ratings keep their rater"
        progress = {p.user.id: p for p in scoring_queries.round_progress(
            db.session.get(type(scoring_round), scoring_round.id))}
        assert progress[leaving.id].assigned == 1 and progress[leaving.id].done == 1
    assert len(items) > 1
    log = client.get("/district/audit").text
    assert f"{len(items) - 1} unscored paper" in log
    round_page = client.get(f"/scoring/rounds/{scoring_round.id}").text
    assert f"{len(items) - 1} item" in round_page and "withdrawn: their raters" in round_page

    response = _post(client, _people_url(world.district, f"/{leaving.id}/reactivate"), {})
    assert response.status_code == 302
    assert teacher_auth.login(leaving).status_code == 302
    with app.app_context():
        progress = {p.user.id: p for p in scoring_queries.round_progress(
            db.session.get(type(scoring_round), scoring_round.id))}
        assert progress[leaving.id].assigned == len(items)
    assert "Reactivated the account" in client.get("/district/audit").text


def test_the_deactivation_page_asks_first(admin_client, app, create_teacher):
    teacher = create_teacher(school=admin_client.school, name="Sam Reyes")
    page = admin_client.get(_people_url(admin_client.district, f"/{teacher.id}/deactivate"))
    assert page.status_code == 200 and "Deactivate Sam Reyes?" in page.text
    assert _user(app, teacher.id).deactivated_at is None


def test_an_admin_cannot_deactivate_themselves(admin_client):
    response = _post(admin_client, _people_url(
        admin_client.district, f"/{admin_client.admin.id}/deactivate"), {})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.text


def test_another_districts_admin_is_refused_and_its_people_are_hidden(
        admin_client, app, auth, client, create_district_admin, create_teacher):
    teacher = create_teacher(school=admin_client.school)
    other = create_district_admin()
    auth.logout()
    auth.login(other)
    assert client.get(_people_url(admin_client.district)).status_code == 403
    own = SimpleNamespace(id=other.memberships[0].district_id)
    assert client.get(_people_url(own, f"/{teacher.id}")).status_code == 404
    token = csrf_token_from(client.get(_people_url(own)).text)
    response = client.post(_people_url(own, f"/{teacher.id}/deactivate"),
                           data={"csrf_token": token})
    assert response.status_code == 404
    assert _user(app, teacher.id).deactivated_at is None


def test_search_and_filters_find_people(admin_client, create_teacher, create_school,
                                        create_user):
    other_school = create_school(admin_client.district.id, name="Lakeview Middle")
    create_teacher(school=admin_client.school, name="Amara Okafor")
    create_teacher(school=other_school, name="Ben Okafor")
    create_user(Role.SCHOOL_LEADER, school=other_school, name="Carla Diaz")
    url = _people_url(admin_client.district)
    found = admin_client.get(url + "?q=okafor").text
    assert "Amara Okafor" in found and "Ben Okafor" in found and "Carla Diaz" not in found
    at_lakeview = admin_client.get(url + f"?school={other_school.id}").text
    assert "Ben Okafor" in at_lakeview and "Amara Okafor" not in at_lakeview
    leaders = admin_client.get(url + "?role=school_leader").text
    assert "Carla Diaz" in leaders and "Ben Okafor" not in leaders
    fragment = admin_client.get(url + "?q=%25_", headers={"HX-Request": "true",
                                                           "HX-Target": "people-results"})
    assert fragment.status_code == 200 and "No one matches." in fragment.text
    assert "<h1>" not in fragment.text
