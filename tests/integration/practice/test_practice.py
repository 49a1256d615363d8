"""Practice on anchor papers: immediate feedback, private history, and never a paper that is
hiding in one of the teacher's open rounds."""

import re

import pytest

from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.practice.models import PracticeAttempt
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import AnchorPool
from moderation.scoring.assignment import ItemKind
from moderation.scoring.models import RoundStatus, ScoringRound
from moderation.settings.queries import settings_for
from tests.conftest import csrf_token_from
from tests.fixtures.scoring import score_form
from tests.fixtures.settings import settings_form


def paper_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/scoring/practice/papers/(\d+)"', html)]


def practise(hx, anchor_id: int, criteria, scores, nonce: str = "a" * 32):
    return hx.post(f"/scoring/practice/papers/{anchor_id}",
                   score_form(criteria, scores, {0: "Felt like a 3"}, nonce=nonce),
                   target="practice-panel")


def test_practice_shows_the_agreed_scores_and_rationale_after_submitting(
        client, auth, hx, app, practice_world):
    world, teacher, criteria = practice_world
    anchor = world.practice_anchors[0]
    auth.login(teacher)
    listing = client.get("/scoring/practice").text
    assert paper_ids(listing) == [a.id for a in world.practice_anchors]
    page = client.get(f"/scoring/practice/papers/{anchor.id}").text
    assert "Score this paper" in page and "Shows Claim clearly." not in page
    assert "WS-" not in page  # a code seen in practice would mark the paper in a queue

    feedback = practise(hx, anchor.id, criteria, [3, 1])  # agreed: 3 for every criterion
    assert feedback.status_code == 200
    assert "How your scores compare" in feedback.text
    assert "<strong>1 of 2</strong> exactly as agreed" in feedback.text
    assert "<strong>1 of 2</strong> within one level" in feedback.text
    assert "Shows Claim clearly." in feedback.text and "Exact" in feedback.text
    assert "2 levels lower" in feedback.text
    assert "Your comment: Felt like a 3" in feedback.text

    again = practise(hx, anchor.id, criteria, [3, 1])  # the same form sent twice
    assert again.status_code == 200
    with app.app_context():
        attempt = db.session.execute(db.select(PracticeAttempt)).scalar_one()
        assert (attempt.n_exact, attempt.n_adjacent, attempt.n_criteria) == (1, 1, 2)
        ratings = db.session.execute(db.select(Rating)).scalars().all()
        assert [(r.kind, r.context_type, r.context_id, r.score) for r in ratings] == [
            (RatingKind.PRACTICE, "practice", attempt.id, 3),
            (RatingKind.PRACTICE, "practice", attempt.id, 1)]
        assert not db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action.like("practice%"))).first()  # private: not in the admin's log

    history = client.get("/scoring/practice").text
    assert "1 / 2" in history and f"/scoring/practice/attempts/{attempt.id}" in history
    assert client.get(f"/scoring/practice/attempts/{attempt.id}").status_code == 200


def test_an_incomplete_practice_comes_back_with_a_message(auth, hx, practice_world):
    world, teacher, criteria = practice_world
    auth.login(teacher)
    response = practise(hx, world.practice_anchors[0].id, criteria, [2])
    assert response.status_code == 422
    assert f"Choose a level for “{criteria[1].name}”." in response.text


def test_calibration_anchors_are_never_offered_for_practice(client, auth, hx, practice_world):
    world, teacher, criteria = practice_world
    auth.login(teacher)
    offered = paper_ids(client.get("/scoring/practice").text)
    assert set(offered) == {a.id for a in world.practice_anchors}
    for anchor in world.anchors:
        assert client.get(f"/scoring/practice/papers/{anchor.id}").status_code == 404
        assert practise(hx, anchor.id, criteria, [3, 3]).status_code == 404


def test_rounds_seed_only_calibration_anchors(practice_world, open_round, scoring_db):
    world, _, _ = practice_world
    scoring_round = open_round(world, n=2, validity_rate=0.4, calibration_size=2)
    used = {i.anchor_id for i in scoring_db.items(scoring_round.id) if i.anchor_id}
    assert used and used <= {a.id for a in world.anchors}


def test_an_anchor_moved_to_practice_is_withheld_while_a_round_has_it(
        client, auth, hx, practice_world, open_round, scoring_db):
    world, teacher, criteria = practice_world
    scoring_round = open_round(world, n=2, validity_rate=0.3, calibration_size=1)
    used = {i.anchor_id for i in scoring_db.items(scoring_round.id) if i.anchor_id}
    moved = next(a for a in world.anchors if a.id in used)
    auth.login(world.coach)
    page = client.get(f"/samples/anchors/{moved.id}").text
    assert "Calibration anchor paper" in page
    saved = hx.post(f"/samples/anchors/{moved.id}/pool", {"pool": "practice"},
                    target="anchor-pool")
    assert saved.status_code == 200 and "is now a practice anchor" in saved.text
    auth.logout()

    auth.login(teacher)
    assert moved.id not in paper_ids(client.get("/scoring/practice").text)
    assert client.get(f"/scoring/practice/papers/{moved.id}").status_code == 404
    auth.logout()
    auth.login(world.coach)
    hx.post(f"/scoring/rounds/{scoring_round.id}/close", {"confirmed": "y"})
    auth.logout()
    auth.login(teacher)
    assert moved.id in paper_ids(client.get("/scoring/practice").text)


def practise_directly(app, teacher, anchors, criteria):
    """Practice attempts recorded through the service, as they were before anchors had pools
    (when any anchor could be practised)."""
    from moderation.accounts.models import User
    from moderation.practice import services
    from moderation.samples.models import Anchor

    with app.app_context():
        for n, anchor in enumerate(anchors):
            services.submit_practice(db.session.get(Anchor, anchor.id),
                                     db.session.get(User, teacher.id),
                                     {c.id: 3 for c in criteria}, {}, f"{teacher.id}-{n}" * 8)
        db.session.commit()


def test_validity_papers_avoid_anchors_the_rater_has_practised(
        app, practice_world, open_round, scoring_db):
    world, teacher, criteria = practice_world
    practise_directly(app, teacher, world.anchors, criteria)
    scoring_round = open_round(world, n=2, validity_rate=0.4, calibration_size=0)
    items = scoring_db.items(scoring_round.id)
    assert not [i for i in items if i.rater_id == teacher.id and i.kind == ItemKind.VALIDITY]
    assert [i for i in items if i.kind == ItemKind.VALIDITY]  # others still get them


def test_the_calibration_set_avoids_anchors_anyone_in_the_pool_has_practised(
        app, practice_world, open_round, scoring_db):
    world, teacher, criteria = practice_world
    practised = world.anchors[0]
    practise_directly(app, teacher, [practised], criteria)
    for seed in range(1, 6):
        scoring_round = open_round(world, n=2, calibration_size=3, seed=seed,
                                   samples=world.samples[seed - 1:seed])
        calibration = {i.anchor_id for i in scoring_db.items(scoring_round.id)
                       if i.kind == ItemKind.CALIBRATION}
        assert calibration and practised.id not in calibration
        with app.app_context():  # closed, so its papers do not count as met in the next
            db.session.get(ScoringRound, scoring_round.id).status = RoundStatus.CLOSED
            db.session.commit()


def test_practice_is_private_unless_the_district_shares_it_with_coaches(
        client, auth, hx, app, practice_world, create_coach, create_district_admin):
    world, teacher, criteria = practice_world
    auth.login(teacher)
    practise(hx, world.practice_anchors[0].id, criteria, [3, 3])
    with app.app_context():
        attempt_id = db.session.execute(db.select(PracticeAttempt.id)).scalar_one()
    auth.logout()

    colleague = world.all_teachers[1]
    school_coach = create_coach(school=world.school_of(teacher))
    for viewer in (colleague, school_coach, world.coach, world.admin):
        auth.login(viewer)
        assert client.get(f"/scoring/practice/attempts/{attempt_id}").status_code in (403, 404)
        assert client.get(f"/scoring/practice/teachers/{teacher.id}").status_code in (403, 404)
        auth.logout()
    auth.login(school_coach)
    coach_home = client.get("/coach").text
    assert "Practice history is private" in coach_home
    assert f"/scoring/practice/teachers/{teacher.id}" not in coach_home
    auth.logout()

    outsider = create_district_admin()
    auth.login(outsider)
    token = csrf_token_from(client.get("/district").text)
    refused = client.post(f"/district/{world.district.id}/settings",
                          data={**settings_form(practice_visible_to_coaches=True),
                                "csrf_token": token})
    assert refused.status_code == 403
    auth.logout()

    auth.login(world.admin)
    saved = hx.post(f"/district/{world.district.id}/settings",
                    settings_form(practice_visible_to_coaches=True), target="district-settings")
    assert saved.status_code == 200 and "Saved: Coaches see practice." in saved.text
    assert 'checked id="practice_visible_to_coaches"' in saved.text
    with app.app_context():
        assert settings_for(world.district.id).practice_visible_to_coaches
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "district_setting_changed")).scalar_one()
        assert event.details == {"setting": "practice_visible_to_coaches",
                                 "before": False, "after": True}
        assert event.actor_id == world.admin.id
    auth.logout()

    auth.login(school_coach)
    coach_home = client.get("/coach").text
    assert f"/scoring/practice/teachers/{teacher.id}" in coach_home
    history = client.get(f"/scoring/practice/teachers/{teacher.id}")
    assert history.status_code == 200 and f"Practice of {teacher.display_name}" in history.text
    assert '<p class="breadcrumb"><a href="/coach">Coaching</a></p>' in history.text
    assert client.get(f"/scoring/practice/attempts/{attempt_id}").status_code == 200
    auth.logout()
    auth.login(colleague)  # still not other teachers, nor the district admin
    assert client.get(f"/scoring/practice/attempts/{attempt_id}").status_code == 404
    auth.logout()
    auth.login(world.admin)
    assert client.get(f"/scoring/practice/attempts/{attempt_id}").status_code == 403


@pytest.mark.parametrize("kind", ["pdf", "png"])
def test_practice_shows_scanned_work_by_its_practice_address_only(
        client, auth, create_sample, create_anchor, create_school, create_teacher, kind):
    school = create_school()
    sample = create_sample(school=school, kind=kind, ready=True)
    anchor = create_anchor(sample, pool=AnchorPool.PRACTICE)
    auth.login(create_teacher(school=create_school(district=school.district_id)))

    page = client.get(f"/scoring/practice/papers/{anchor.id}").text
    images = re.findall(r'<img src="([^"]+)"', page)
    assert images and all(src.startswith(f"/scoring/practice/papers/{anchor.id}/")
                          for src in images)
    assert sample.code not in page
    with client.get(images[0]) as image:
        assert image.status_code == 200
        assert image.data.startswith(b"\x89PNG")
