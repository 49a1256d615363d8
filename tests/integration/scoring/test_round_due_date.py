"""A round's optional due date: refused with a message when it has passed, shown to the
coach on their home page, the rounds list and the round page, and to each teacher in their
queue and on the item, marked overdue once it passes while the round is open."""

import re
from datetime import date, timedelta

import pytest

from moderation.accounts.models import District, User
from moderation.core import timezones
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.samples.models import WorkSample
from moderation.scoring import services
from moderation.scoring.models import ScoringRound
from rubrics.models import RubricVersion
from tests.conftest import csrf_token_from


def today() -> date:
    return utcnow().date()


def label(day: date) -> str:
    text = f"{day:%a} {day.day} {day:%b}"
    return text if day.year == today().year else f"{text} {day.year}"


def round_data(world, page: str, **fields) -> dict:
    return {"csrf_token": csrf_token_from(page), "district_id": world.district.id,
            "name": "Due round", "rubric_version_id": world.version.id,
            "sample_ids": [s.id for s in world.samples],
            "rater_school_ids": [s.id for s in world.schools],
            "rater_ids": [t.id for t in world.all_teachers], "ratings_per_sample": 2,
            "validity_percent": 0, "calibration_size": 0, "seed": 4, **fields}


@pytest.mark.parametrize("due, message", [
    (lambda: (today() - timedelta(days=1)).isoformat(), "has passed; choose today or a later "
                                                        "day, or leave it empty."),
    (lambda: (today() + timedelta(days=400)).isoformat(), "is more than a year away"),
    (lambda: "11/12/2026", "Give a date as year-month-day, e.g. 2026-12-11."),
    (lambda: "2026-02-30", "Give a date as year-month-day, e.g. 2026-12-11."),
])
def test_a_due_date_that_cannot_be_is_refused_beside_the_field(client, auth, scoring_world,
                                                                due, message):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=0)
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    response = client.post("/scoring/rounds/new", data=round_data(world, page, due_date=due()))
    assert response.status_code == 422
    errors = re.search(r'<ul class="errors" id="due_date-errors">(.*?)</ul>', response.text, re.S)
    assert errors and message in errors.group(1)
    assert 'aria-describedby="due_date-hint due_date-errors"' in response.text


def test_today_is_the_districts(app, client, auth, scoring_world):
    """Kiritimati's calendar is always a day ahead of Pago Pago's: Pago Pago's today has
    passed in a district on Kiritimati time, whatever the hour in UTC."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=0)
    with app.app_context():
        db.session.get(District, world.district.id).time_zone = "Pacific/Kiritimati"
        db.session.commit()
    district_today = timezones.today_in("Pacific/Kiritimati")
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    assert f'min="{district_today.isoformat()}"' in page
    behind = timezones.today_in("Pacific/Pago_Pago")
    refused = client.post("/scoring/rounds/new",
                          data=round_data(world, page, due_date=behind.isoformat()))
    assert refused.status_code == 422 and "has passed" in refused.text
    opened = client.post("/scoring/rounds/new", data=round_data(
        world, page, due_date=district_today.isoformat()))
    assert opened.status_code == 302
    assert "Overdue" not in client.get(opened.headers["Location"]).text


def test_the_due_date_rule_is_the_services(app, scoring_world):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=0)
    with app.app_context():
        request = services.RoundRequest(
            name="Late", version=db.session.get(RubricVersion, world.version.id),
            samples=[db.session.get(WorkSample, s.id) for s in world.samples],
            raters=[db.session.get(User, t.id) for t in world.all_teachers],
            ratings_per_sample=1, validity_rate=0, calibration_size=0,
            due_date=today() - timedelta(days=3))
        with pytest.raises(services.ScoringError, match="has passed"):
            services.open_round(db.session.get(District, world.district.id),
                                db.session.get(User, world.coach.id), request)


def test_the_due_date_shows_to_the_coach_and_in_each_teachers_queue(
        client, auth, scoring_world, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=0)
    due = today() + timedelta(days=8)
    auth.login(world.coach)
    page = client.get("/scoring/rounds/new").text
    assert f'min="{today().isoformat()}"' in page
    opened = client.post("/scoring/rounds/new",
                         data=round_data(world, page, due_date=due.isoformat()))
    assert opened.status_code == 302
    round_page = client.get(opened.headers["Location"]).text
    assert f'<span class="due">Due {label(due)}</span>' in round_page
    assert f"Due {label(due)}" in client.get("/scoring/rounds").text
    assert f"Due {label(due)}" in client.get("/coach").text
    round_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    auth.logout()

    teacher = world.all_teachers[0]
    auth.login(teacher)
    queue = client.get("/scoring/queue").text
    listed = re.search(r'<section id="queue-items".*?</section>', queue, re.S).group(0)
    assert listed.count(f"Due {label(due)}") == len(scoring_db.items(round_id, teacher))
    item = scoring_db.items(round_id, teacher)[0]
    item_page = client.get(f"/scoring/items/{item.token}").text
    head = re.search(r'<div class="item-head">.*?</div>', item_page, re.S).group(0)
    assert f"Due {label(due)}" in head and "Overdue" not in item_page


def test_a_round_past_its_due_date_is_overdue_until_it_closes(
        app, client, auth, hx, scoring_world, open_round, scoring_db):
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=1, anchors=0)
    scoring_round = open_round(world, n=1, due_date=today())
    with app.app_context():  # the days went by
        db.session.get(ScoringRound, scoring_round.id).due_date = today() - timedelta(days=2)
        db.session.commit()
    passed = label(today() - timedelta(days=2))
    auth.login(world.coach)
    page = client.get(f"/scoring/rounds/{scoring_round.id}").text
    assert f'<span class="due overdue">Overdue: was due {passed}</span>' in page
    auth.logout()
    item = scoring_db.items(scoring_round.id)[0]
    auth.login(next(t for t in world.all_teachers if t.id == item.rater_id))
    assert f"Overdue: was due {passed}" in client.get("/scoring/queue").text
    auth.logout()

    auth.login(world.coach)
    closed = hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"},
                     target="round-status")
    assert closed.status_code == 200
    assert "Overdue" not in closed.text and f"Due {passed}" in closed.text
