"""Each role reaches its own pages and is refused the others' with a plain 403."""

import pytest

from moderation.accounts import services
from moderation.accounts.models import District, Role, School, User
from moderation.core.extensions import db

ROLE_PAGES = {
    Role.TEACHER: ["/teacher"],
    Role.COACH: ["/coach"],
    Role.DISTRICT_ADMIN: ["/district", "/district/audit"],
    Role.SCHOOL_LEADER: [],  # their school's work, which staff reach too (test_school_leader)
}
ALL_PAGES = [page for pages in ROLE_PAGES.values() for page in pages]


@pytest.fixture
def user_with_role(create_teacher, create_coach, create_district_admin, create_user,
                   create_school):
    makers = {Role.TEACHER: create_teacher, Role.COACH: create_coach,
              Role.DISTRICT_ADMIN: create_district_admin,
              Role.SCHOOL_LEADER: lambda: create_user(Role.SCHOOL_LEADER,
                                                      school=create_school())}
    return lambda role: makers[role]()


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_only_its_pages(client, auth, user_with_role, role):
    auth.login(user_with_role(role))
    for page in ALL_PAGES:
        response = client.get(page)
        if page in ROLE_PAGES[role]:
            assert response.status_code == 200, page
        else:
            assert response.status_code == 403, page
            assert "You do not have access to this page" in response.text


def test_the_refusal_hint_suits_who_is_refused(client, auth, user_with_role):
    auth.login(user_with_role(Role.DISTRICT_ADMIN))
    refused = client.get("/teacher")
    assert refused.status_code == 403
    assert "district administrator" not in refused.text.split("<main", 1)[1]
    assert ("The menu at the top lists the pages open to you; roles are given by the team"
            in refused.text)
    auth.logout()

    auth.login(user_with_role(Role.TEACHER))
    assert "ask your district administrator" in client.get("/district").text


@pytest.mark.parametrize("role,home", [(Role.TEACHER, "/teacher"), (Role.COACH, "/coach"),
                                       (Role.DISTRICT_ADMIN, "/district"),
                                       (Role.SCHOOL_LEADER, "/samples/")])
def test_root_sends_each_role_home(client, auth, user_with_role, role, home):
    auth.login(user_with_role(role))
    assert client.get("/").headers["Location"] == home


def test_user_with_two_roles_sees_both_in_navigation(app, client, auth, create_school,
                                                     create_user):
    school, other = create_school(), create_school()
    user = create_user(Role.TEACHER, school=school)
    with app.app_context():
        services.grant_role(db.session.get(User, user.id), Role.COACH,
                            db.session.get(District, other.district_id),
                            db.session.get(School, other.id))
        db.session.commit()
    auth.login(user)
    page = client.get("/coach").text
    assert 'href="/teacher"' in page and 'href="/coach"' in page
    assert client.get("/teacher").status_code == 200


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/district")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/district")


def test_anonymous_htmx_request_gets_a_full_page_redirect(client):
    response = client.get("/coach", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_coach_sees_only_teachers_of_their_school(client, auth, create_school, create_teacher,
                                                   create_coach):
    school = create_school()
    elsewhere = create_school(district=school.district_id)
    mine = create_teacher(school=school, name="Ada Mine")
    create_teacher(school=elsewhere, name="Bob Elsewhere")
    auth.login(create_coach(school=school))
    page = client.get("/coach").text
    assert mine.display_name in page
    assert "Bob Elsewhere" not in page


def test_unknown_page_is_a_plain_404(client, auth, create_teacher):
    auth.login(create_teacher())
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
