"""The coach's home page answers "what needs me now": open rounds with their progress, the
rounds that closed, and each teacher in scope with their items left and, where the district
shares it, their practice. Counts only: a coach's home never shows a score."""

import re

import pytest

from moderation.accounts.models import District, User
from moderation.core.extensions import db
from moderation.scoring import services
from moderation.scoring.models import ScoringRound
from moderation.settings import services as settings_services
from tests.fixtures.scoring import score_form


@pytest.fixture
def coached_district(app, scoring_world, open_round, scoring_db):
    """A district with a closed round and an open one, in which one teacher submitted one item."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=0)
    closed = open_round(world, n=2, name="Autumn essays")
    with app.app_context():
        services.close_round(db.session.get(ScoringRound, closed.id),
                             db.session.get(User, world.coach.id))
        db.session.commit()
    live = open_round(world, n=2, name="Winter essays")
    return world, closed, live, scoring_db.criteria(world.version)


def _teacher_row(page: str, teacher: User) -> str:
    return re.search(rf"<tr>\s*<td>{re.escape(teacher.display_name)}</td>.*?</tr>", page,
                     re.S).group(0)


def test_coach_home_lists_open_and_closed_rounds_with_progress_and_links(
        client, auth, hx, coached_district, scoring_db):
    world, closed, live, criteria = coached_district
    teacher = world.all_teachers[0]
    items = scoring_db.items(live.id, teacher)
    auth.login(teacher)
    assert hx.post(f"/scoring/items/{items[0].token}/submit", score_form(criteria, [3, 2]),
                   target="queue-item").status_code == 200
    auth.logout()

    auth.login(world.coach)
    page = client.get("/coach")
    assert page.status_code == 200
    open_part = page.text.split('id="open-rounds"')[1].split('id="closed-rounds"')[0]
    closed_part = page.text.split('id="closed-rounds"')[1]
    n_items = len(scoring_db.items(live.id))
    n_raters = len(world.all_teachers)
    assert f'href="/scoring/rounds/{live.id}">Winter essays</a>' in open_part
    assert f"1 of {n_items} items scored" in open_part
    assert f"0 of {n_raters} teachers finished" in open_part
    assert "Autumn essays" not in open_part
    assert f'href="/scoring/rounds/{closed.id}">Autumn essays</a>' in closed_part
    assert 'href="/scoring/rounds/new"' in page.text
    assert f"1 of {len(items)} scored" in _teacher_row(page.text, teacher)
    assert f"0 of {len(scoring_db.items(live.id, world.all_teachers[1]))} scored" in (
        _teacher_row(page.text, world.all_teachers[1]))


def test_teachers_practice_shows_on_the_coach_home_only_where_the_district_shares_it(
        client, auth, hx, app, coached_district):
    world, *_ = coached_district
    teacher = world.all_teachers[0]
    auth.login(world.coach)
    page = client.get("/coach").text
    assert "Private" in _teacher_row(page, teacher)
    assert f"/scoring/practice/teachers/{teacher.id}" not in page
    assert "Practice history is private" in page
    auth.logout()

    with app.app_context():
        settings_services.update_settings(db.session.get(District, world.district.id),
                                          db.session.get(User, world.admin.id),
                                          {"practice_visible_to_coaches": True})
        db.session.commit()
    auth.login(world.coach)
    page = client.get("/coach").text
    row = _teacher_row(page, teacher)
    assert f'href="/scoring/practice/teachers/{teacher.id}">0 attempts</a>' in row
    assert "Practice history is private" not in page


def test_a_coach_sees_no_round_of_another_district(client, auth, coached_district,
                                                   scoring_world):
    other = scoring_world(n_schools=1, teachers_per_school=1, samples_per_school=0, anchors=0)
    auth.login(other.coach)
    page = client.get("/coach").text
    assert "Winter essays" not in page and "Autumn essays" not in page
    assert "No round is open in your district" in page
    assert "No round has closed yet" in page


def test_coach_home_shows_no_scores(client, auth, hx, coached_district, scoring_db):
    world, _, live, criteria = coached_district
    teacher = world.all_teachers[0]
    item = scoring_db.items(live.id, teacher)[0]
    auth.login(teacher)
    hx.post(f"/scoring/items/{item.token}/submit",
            score_form(criteria, [4, 1], {0: "A distinctive comment"}), target="queue-item")
    auth.logout()
    auth.login(world.coach)
    page = client.get("/coach").text
    assert "A distinctive comment" not in page
    assert item.sample.code not in page


def test_the_district_administrator_home_lists_the_rounds_too(client, auth, coached_district):
    world, closed, live, _ = coached_district
    auth.login(world.admin)
    page = client.get("/district").text
    open_part = page.split('id="open-rounds"')[1].split('id="closed-rounds"')[0]
    assert f'href="/scoring/rounds/{live.id}">Winter essays</a>' in open_part
    assert f'href="/scoring/rounds/{closed.id}">Autumn essays</a>' in page
