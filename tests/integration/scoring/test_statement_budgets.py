"""How many SQL statements the teacher's queue and the coach's round progress send per request.

Each budget is the count measured on a realistic round plus a little room, the same on SQLite
and PostgreSQL. A change that reads the same rows again, or once per criterion or per item,
goes over it, and the failure lists every statement sent. Every count includes the two
statements that load the logged-in user and their memberships; a fragment re-rendered after
a commit loads them again (the navigation is built for every template).
"""

import pytest

from tests.fixtures.scoring import score_form

CRITERIA = 4


@pytest.fixture
def round_under_way(scoring_world, open_round, scoring_db, auth, hx):
    """An open round of four criteria with validity and calibration papers, in which the
    logged-in teacher has submitted two items and saved a draft of two criteria of the third."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=4, anchors=4,
                          criteria=CRITERIA)
    scoring_round = open_round(world, n=2, validity_rate=0.2, calibration_size=1)
    teacher = world.all_teachers[0]
    items = scoring_db.items(scoring_round.id, teacher)
    criteria = scoring_db.criteria(world.version)
    auth.login(teacher)
    for item in items[:2]:
        assert hx.post(f"/scoring/items/{item.token}/submit", score_form(criteria, [3] * CRITERIA),
                       target="queue-item").status_code == 200
    assert hx.post(f"/scoring/items/{items[2].token}/draft", score_form(criteria, [2, 3]),
                   target="queue-item").status_code == 200
    return world, scoring_round, items, criteria


def within_budget(count_statements, budget: int, send):
    with count_statements() as log:
        response = send()
    assert response.status_code == 200, response.text
    assert log.count <= budget, log.report()
    return response


def test_queue_page(count_statements, client, round_under_way):
    _, _, items, _ = round_under_way
    # Progress per round; the queue list with its rounds and samples; the next item with its
    # sample, round and rubric (criteria, levels) and its draft.
    page = within_budget(count_statements, 12, lambda: client.get("/scoring/queue"))
    assert items[2].sample.code in page.text and "2 / " in page.text


def test_item_page(count_statements, client, round_under_way):
    _, _, items, _ = round_under_way
    # The item with its sample, round and rubric, and its draft; the page's progress and
    # queue list.
    page = within_budget(count_statements, 12,
                         lambda: client.get(f"/scoring/items/{items[2].token}"))
    assert f"Work sample <span class=\"code\">{items[2].sample.code}</span>" in page.text


def test_draft_save(count_statements, hx, round_under_way):
    _, _, items, criteria = round_under_way
    # The item and rubric; the claim; one insert per new draft rating (three on SQLite, one
    # batch on PostgreSQL); after the commit the item, its rubric and the user again.
    saved = within_budget(count_statements, 16, lambda: hx.post(
        f"/scoring/items/{items[3].token}/draft", score_form(criteria, [1, 2, 3]),
        target="queue-item"))
    assert "Draft saved" in saved.text


def test_submit(count_statements, hx, round_under_way):
    _, _, items, criteria = round_under_way
    # The item, rubric and draft (read once); the claim; the draft ratings submitted and the
    # missing ones inserted; the audit event; then the user and the next item with its draft.
    submitted = within_budget(count_statements, 20, lambda: hx.post(
        f"/scoring/items/{items[2].token}/submit", score_form(criteria, [2, 3, 4, 1]),
        target="queue-item"))
    assert f"Your scores for {items[2].sample.code} are submitted." in submitted.text
    assert items[3].sample.code in submitted.text


def test_double_submit(count_statements, hx, round_under_way):
    _, _, items, criteria = round_under_way
    # A second click on Submit: the item and its ratings, compared, nothing written.
    again = within_budget(count_statements, 14, lambda: hx.post(
        f"/scoring/items/{items[0].token}/submit", score_form(criteria, [3] * CRITERIA),
        target="queue-item"))
    assert f"Your scores for {items[0].sample.code} are submitted." in again.text


def test_queue_progress_fragment(count_statements, hx, round_under_way):
    _, _, items, _ = round_under_way
    # Done / assigned per round, and nothing of the next item.
    progress = within_budget(count_statements, 4, lambda: hx.get("/scoring/queue/progress",
                                                                 target="queue-progress"))
    assert f"2 / {len(items)}" in progress.text


def test_queue_list_fragment(count_statements, hx, round_under_way):
    _, _, items, _ = round_under_way
    # The items with their rounds and samples, and nothing of the next item.
    listed = within_budget(count_statements, 6, lambda: hx.get("/scoring/queue/items",
                                                               target="queue-items"))
    assert all(item.sample.code in listed.text for item in items)


def test_round_progress_fragment(count_statements, auth, hx, round_under_way):
    world, scoring_round, _, _ = round_under_way
    auth.logout()
    auth.login(world.coach)
    # The round; counts per rater; the raters with their names and schools; the totals.
    progress = within_budget(count_statements, 11, lambda: hx.get(
        f"/scoring/rounds/{scoring_round.id}/progress", target="round-progress"))
    assert "2 of " in progress.text
