"""A teacher's queue: the next sample beside the rubric, drafts, submit once, revise with a
reason, and nothing of anyone else's."""

import re

import pytest
from sqlalchemy.exc import IntegrityError

from moderation.accounts.models import User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.scoring import queries, services
from moderation.scoring.models import QueueItem
from tests.fixtures.scoring import score_form


@pytest.fixture
def queue(scoring_world, open_round, scoring_db):
    """A small open round and its first teacher, with that teacher's items and the criteria."""
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=3, anchors=0)
    scoring_round = open_round(world, n=2)
    teacher = world.all_teachers[0]
    return (world, scoring_round, teacher, scoring_db.items(scoring_round.id, teacher),
            scoring_db.criteria(world.version))


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", html)


def progress(html: str) -> str:
    return re.search(r'class="progress-count">([^<]+)<', html).group(1)


def test_queue_shows_progress_and_the_next_sample_beside_the_rubric(client, auth, queue):
    world, _, teacher, items, criteria = queue
    auth.login(teacher)
    page = client.get("/scoring/queue")
    assert page.status_code == 200
    assert progress(page.text) == f"0 / {len(items)}"
    assert f"Work sample <span class=\"code\">{items[0].sample.code}</span>" in page.text
    assert "Homework should be shorter." in page.text  # the work itself
    for criterion in criteria:
        assert f"<legend>{criterion.name}</legend>" in page.text
        for level in criterion.levels:  # one real radio per level, its descriptor in the label
            assert re.search(rf'<input id="score_{criterion.id}-\d" name="score_{criterion.id}" '
                             rf'type="radio" value="{level.score}">', page.text)
        assert "Proficient work" in page.text
    assert "Save draft" in page.text and "Submit scores" in page.text


def test_draft_keeps_partial_scores_and_submit_moves_on(client, auth, hx, queue, scoring_db):
    _, _, teacher, items, criteria = queue
    auth.login(teacher)
    first = items[0]

    empty = hx.post(f"/scoring/items/{first.token}/draft", {}, target="queue-item")
    assert empty.status_code == 422 and "Choose a level for at least one criterion" in empty.text
    draft = hx.post(f"/scoring/items/{first.token}/draft", score_form(criteria, [3]),
                    target="queue-item")
    assert draft.status_code == 200 and "Draft saved" in draft.text
    assert draft.headers["HX-Trigger"] == "draftSaved"
    c = criteria[0].id
    assert f'<input checked id="score_{c}-2" name="score_{c}" type="radio" value="3">' in draft.text
    [rating] = scoring_db.ratings(first)
    assert rating.score == 3 and rating.submitted_at is None

    incomplete = hx.post(f"/scoring/items/{first.token}/submit", score_form(criteria, [3]),
                         target="queue-item")
    assert incomplete.status_code == 422
    assert f"Choose a level for “{criteria[1].name}”." in incomplete.text

    done = hx.post(f"/scoring/items/{first.token}/submit", score_form(criteria, [3, 2]),
                   target="queue-item")
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "scoreSubmitted"
    assert f"Your scores for {first.sample.code} are submitted." in done.text
    assert items[1].sample.code in done.text  # the next sample
    assert progress(hx.get("/scoring/queue/progress", target="queue-progress").text) == \
        f"1 / {len(items)}"
    ratings = scoring_db.ratings(first)
    assert [(r.score, r.kind, r.context_type) for r in ratings] == [
        (3, RatingKind.BLIND, "round"), (2, RatingKind.BLIND, "round")]
    assert all(r.submitted_at is not None and r.is_current for r in ratings)


def test_double_submit_stores_one_rating_and_answers_the_same(client, auth, hx, queue,
                                                               scoring_db):
    _, _, teacher, items, criteria = queue
    auth.login(teacher)
    url = f"/scoring/items/{items[0].token}/submit"
    data = score_form(criteria, [4, 2], {1: "Clear reasons"})
    first = hx.post(url, data, target="queue-item")
    second = hx.post(url, data, target="queue-item")  # a double click, or a retry
    assert first.status_code == second.status_code == 200
    assert without_csrf(second.text) == without_csrf(first.text)
    assert len(scoring_db.ratings(items[0])) == 2

    plain = client.post(url, data={**data, "csrf_token": hx._token})  # without htmx
    assert plain.status_code == 302
    assert len(scoring_db.ratings(items[0])) == 2

    changed = hx.post(url, score_form(criteria, [1, 1]), target="queue-item")
    assert changed.status_code == 422
    assert "To change one, choose “Change my scores” and say why." in changed.text
    assert [r.score for r in scoring_db.ratings(items[0])] == [4, 2]


def test_the_database_refuses_a_second_current_rating(app, hx, auth, queue, scoring_db):
    _, _, teacher, items, criteria = queue
    auth.login(teacher)
    hx.post(f"/scoring/items/{items[0].token}/submit", score_form(criteria, [2, 2]),
            target="queue-item")
    [rating, _] = scoring_db.ratings(items[0])
    with app.app_context(), pytest.raises(IntegrityError):
        db.session.add(Rating(rater_id=rating.rater_id, sample_id=rating.sample_id,
                              criterion_id=rating.criterion_id,
                              rubric_version_id=rating.rubric_version_id, score=4,
                              kind=RatingKind.BLIND, queue_item_id=rating.queue_item_id))
        db.session.commit()


def test_a_change_after_submit_is_a_revision_with_its_reason(app, client, auth, hx, queue,
                                                              scoring_db):
    _, _, teacher, items, criteria = queue
    auth.login(teacher)
    token = items[0].token
    hx.post(f"/scoring/items/{token}/submit", score_form(criteria, [2, 3]), target="queue-item")

    shown = hx.get(f"/scoring/items/{token}", target="queue-item")
    assert "Your submitted scores" in shown.text and "Change my scores" in shown.text
    form = hx.get(f"/scoring/items/{token}/revise", target="queue-item")
    assert "Why are you changing your scores?" in form.text

    no_reason = hx.post(f"/scoring/items/{token}/revise", score_form(criteria, [3, 3]),
                        target="queue-item")
    assert no_reason.status_code == 422
    assert "Say why you are changing a submitted score." in no_reason.text

    revised = hx.post(f"/scoring/items/{token}/revise",
                      score_form(criteria, [3, 3], reason="I misread the second paragraph"),
                      target="queue-item")
    assert revised.status_code == 200 and "1 score changed" in revised.text
    ratings = scoring_db.ratings(items[0])
    old, kept, new = ratings
    assert (old.score, old.is_current) == (2, False)
    assert (kept.score, kept.is_current) == (3, True)
    assert (new.score, new.is_current, new.revision_of_id, new.reason) == (
        3, True, old.id, "I misread the second paragraph")
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "blind_scores_revised")).scalar_one()
        assert event.details["reason"] == "I misread the second paragraph"
        assert event.details["changes"] == {str(criteria[0].id): [2, 3]}


def test_other_raters_items_do_not_exist_for_you(client, auth, queue, scoring_world,
                                                 scoring_db):
    world, scoring_round, teacher, _, criteria = queue
    other = next(t for t in world.all_teachers if t.id != teacher.id)
    theirs = scoring_db.items(scoring_round.id, other)[0]
    auth.login(teacher)
    assert client.get(f"/scoring/items/{theirs.token}").status_code == 404
    token = csrf_token(client)
    for action in ("draft", "submit", "revise"):
        response = client.post(f"/scoring/items/{theirs.token}/{action}",
                               data={**score_form(criteria, [1, 1]), "csrf_token": token})
        assert response.status_code == 404
    assert scoring_db.ratings(theirs) == []
    auth.logout()
    auth.login(world.coach)  # a coach is not a rater: the queue is not theirs to see
    assert client.get(f"/scoring/items/{theirs.token}").status_code == 403
    assert client.get("/scoring/queue").status_code == 403


def csrf_token(client) -> str:
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get("/scoring/queue").text)


def test_closing_the_round_ends_the_queue(client, auth, hx, queue, scoring_db):
    world, scoring_round, teacher, items, criteria = queue
    auth.login(world.coach)
    hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"})
    auth.logout()
    auth.login(teacher)
    assert client.get(f"/scoring/items/{items[0].token}").status_code == 404
    assert "You are not in an open scoring round." in client.get("/scoring/queue").text
    # The work itself was open to the rater only while the round was.
    assert client.get(f"/samples/{items[0].sample.code}").status_code == 403


def test_nav_and_home_lead_teachers_to_their_queue(client, auth, queue):
    _, _, teacher, items, _ = queue
    auth.login(teacher)
    home = client.get("/teacher").text
    assert 'href="/scoring/queue">My queue</a>' in home
    assert 'href="/scoring/practice">Practice</a>' in home
    assert f"{len(items)} of {len(items)} sample" in home and "1 open round" in home


def test_simultaneous_submits_store_one_rating(app, auth, queue, scoring_db):
    """Two tabs (or a retry racing the first request) submit the same item at the same moment:
    the database claims the item once, and both answers are the same success."""
    import threading

    _, _, teacher, items, criteria = queue
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for c in clients:
        auth.for_client(c).login(teacher)
        tokens.append(csrf_token(c))
    barrier, results = threading.Barrier(2), []
    url = f"/scoring/items/{items[0].token}/submit"

    def submit(c, token):
        barrier.wait()
        results.append(c.post(url, data={**score_form(criteria, [3, 4]), "csrf_token": token},
                              headers={"HX-Request": "true", "HX-Target": "queue-item"}))

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens,
                                                                          strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200, 200]
    assert all(f"Your scores for {items[0].sample.code} are submitted." in r.text
               for r in results)
    assert sorted(r.score for r in scoring_db.ratings(items[0])) == [3, 4]


@pytest.mark.slow
def test_simultaneous_revisions_keep_one_and_tell_the_other(app, auth, queue, scoring_db):
    """Two windows send "Change my scores" at the same moment, several times over: each answer
    is a success or the conflict message (never an error page), every success is stored, and
    each criterion keeps one current rating with a straight chain of revisions."""
    import threading

    _, _, teacher, items, criteria = queue
    item = items[0]
    clients = [app.test_client() for _ in range(2)]
    tokens = []
    for c in clients:
        auth.for_client(c).login(teacher)
        tokens.append(csrf_token(c))
    clients[0].post(f"/scoring/items/{item.token}/submit",
                    data={**score_form(criteria, [2, 2]), "csrf_token": tokens[0]})
    url = f"/scoring/items/{item.token}/revise"
    # Every request asks for scores no other request asks for, so each success changes them.
    combos = [[a, b] for a in range(1, 5) for b in range(1, 5) if [a, b] != [2, 2]]
    answers = []
    for attempt in range(7):
        barrier, results = threading.Barrier(2), []

        def revise(c, token, scores, reason, barrier=barrier, results=results):
            barrier.wait()
            results.append(c.post(url, data={**score_form(criteria, scores, reason=reason),
                                              "csrf_token": token},
                                  headers={"HX-Request": "true", "HX-Target": "queue-item"}))

        pairs = [(clients[0], tokens[0], combos[2 * attempt], f"window A {attempt}"),
                 (clients[1], tokens[1], combos[2 * attempt + 1], f"window B {attempt}")]
        threads = [threading.Thread(target=revise, args=pair) for pair in pairs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        answers += results
    assert {r.status_code for r in answers} <= {200, 422}
    assert all("saved from another window at the same moment" in r.text
               for r in answers if r.status_code == 422)
    ratings = scoring_db.ratings(item)
    current = [r for r in ratings if r.is_current]
    assert sorted(r.criterion_id for r in current) == sorted(c.id for c in criteria)
    revised = [r.revision_of_id for r in ratings if r.revision_of_id is not None]
    assert len(revised) == len(set(revised))  # no rating was replaced twice
    assert len(ratings) == len(criteria) + len(revised)
    assert sum(r.status_code == 200 for r in answers) == len({r.reason for r in ratings
                                                              if r.reason})


def test_a_draft_saved_from_another_window_meanwhile_is_submitted_with_the_rest(
        app, queue, scoring_db):
    """A submit that read the item before another window saved a draft of it still finds the
    draft when it claims the item, and submits it, rather than adding a second rating."""
    _, _, teacher, items, criteria = queue
    with app.app_context():
        item = db.session.get(QueueItem, items[0].id)
        seen = queries.current_ratings(item)
        with app.app_context():  # the other window, in its own session
            services.save_draft(db.session.get(QueueItem, item.id),
                                db.session.get(User, teacher.id), {criteria[0].id: 2}, {})
            db.session.commit()
        assert services.submit_item(item, db.session.get(User, teacher.id),
                                    {c.id: 3 for c in criteria}, {}, seen)
        db.session.commit()
    ratings = scoring_db.ratings(items[0])
    assert [(r.criterion_id, r.score, r.is_current, r.submitted_at is not None)
            for r in sorted(ratings, key=lambda r: r.criterion_id)] == [
        (c.id, 3, True, True) for c in criteria]
