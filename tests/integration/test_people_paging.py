"""The people list pages through a district of thousands in a bounded number of statements."""

import pytest
from sqlalchemy import insert

from moderation.accounts.models import Membership, Role, User
from moderation.core.extensions import db

N_SCHOOLS, N_PEOPLE = 6, 3000
# The user and their memberships; the district and its schools (for the filter menus); the
# count and the page of people; the page's memberships; which of them were invited.
# Measured 8, plus a little room.
BUDGET = 9


@pytest.fixture
def big_district(app, create_district_admin, create_school):
    admin = create_district_admin(name="Helen Osei")
    district_id = admin.memberships[0].district_id
    schools = [create_school(district_id, name=f"School {i:02d}") for i in range(N_SCHOOLS)]
    with app.app_context():
        db.session.execute(insert(User), [
            {"id": 10_000 + i, "email": f"teacher{i:04d}@riverbend.example",
             "display_name": f"Teacher {i:04d}", "session_version": 1}
            for i in range(N_PEOPLE)])
        db.session.execute(insert(Membership), [
            {"user_id": 10_000 + i, "role": Role.TEACHER, "district_id": district_id,
             "school_id": schools[i % N_SCHOOLS].id} for i in range(N_PEOPLE)])
        db.session.commit()
    return admin, district_id, schools


def _within_budget(count_statements, client, url: str):
    with count_statements() as log:
        response = client.get(url)
    assert response.status_code == 200, response.text
    assert log.count <= BUDGET, log.report()
    return response.text


def test_thousands_of_people_page_by_fifty_in_few_statements(client, auth, big_district,
                                                            count_statements):
    admin, district_id, schools = big_district
    auth.login(admin)
    url = f"/district/{district_id}/people"
    first = _within_budget(count_statements, client, url)
    assert f"{N_PEOPLE + 1} people, page 1 of 61" in first
    # The administrator first, by name, then 49 teachers.
    assert "Helen Osei" in first and "Teacher 0048" in first and "Teacher 0049" not in first
    last = _within_budget(count_statements, client, url + "?page=61")
    assert "Teacher 2999" in last and "Previous page" in last and "Next page" not in last
    beyond = _within_budget(count_statements, client, url + "?page=999")
    assert "page 61 of 61" in beyond
    found = _within_budget(count_statements, client,
                           url + f"?q=teacher29&school={schools[0].id}&role=teacher")
    # Teachers 2900-2999 at school 00: every sixth, 2904 to 2994.
    assert "16 people" in found and "Teacher 2904" in found and "Teacher 2905" not in found
