"""The session's states, driven by its facilitator: briefing, scoring each item, reveal,
discussion, rescoring, agreement or deferral, debrief, close; every change audited."""

from datetime import timedelta

import pytest

from moderation.core.audit import AuditEvent
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.timezones import as_utc
from moderation.ratings.models import Rating, RatingKind, RatingPhase
from moderation.sessions import services
from moderation.sessions.models import (
    ConsensusMethod,
    ItemState,
    ParticipantRole,
    Session,
    SessionParticipant,
    SessionState,
)


@pytest.fixture
def running(sessions):
    """A session of two items with three teachers of different schools joined, started."""
    session_id = sessions.create()
    teachers = [sessions.teacher(i) for i in range(3)]
    sessions.join(session_id, *teachers)
    sessions.run(session_id, services.start)
    return session_id, teachers


def _ratings(app, session_id):
    with app.app_context():
        return [(r.rater_id, r.kind, r.phase) for r in db.session.execute(
            db.select(Rating).where(Rating.context_type == "session",
                                    Rating.context_id == session_id)).scalars()]


def _actions(app, session_id):
    with app.app_context():
        return db.session.execute(db.select(AuditEvent.action).where(
            AuditEvent.object_type == "Session", AuditEvent.object_id == str(session_id))
            .order_by(AuditEvent.id)).scalars().all()


def test_a_whole_session_runs_from_briefing_to_close(sessions, running):
    session_id, teachers = running
    session = sessions.session(session_id)
    first, second = session.items
    assert session.state == SessionState.SCORING and session.current_item_id == first.id
    for teacher, scores in zip(teachers, ([2, 3], [3, 3], [4, 3]), strict=True):
        assert sessions.submit(session_id, teacher, scores) == "independent"
    sessions.run(session_id, services.reveal)
    sessions.run(session_id, services.discuss)
    for criterion in sessions.criteria:
        sessions.run(session_id, services.record_consensus, criterion.id, level=3,
                     method=ConsensusMethod.VOTE, rationale="The claim is clear and defended.",
                     evidence="Page 1, second paragraph")
    sessions.run(session_id, services.conclude_item, ItemState.AGREED)
    session = sessions.session(session_id)
    assert session.current_item_id == second.id and session.state == SessionState.SCORING
    sessions.run(session_id, services.reveal)  # nobody scored it: revealed empty
    sessions.run(session_id, services.conclude_item, ItemState.DEFERRED)
    assert sessions.session(session_id).state == SessionState.DEBRIEF
    sessions.run(session_id, services.close)
    session = sessions.session(session_id)
    assert session.state == SessionState.CLOSED and session.closed_at is not None
    assert [i.state for i in session.items] == [ItemState.AGREED, ItemState.DEFERRED]
    assert sorted(_ratings(sessions.app, session_id)) == sorted(
        (t.id, RatingKind.BLIND, None) for t in teachers for _ in sessions.criteria)
    assert _actions(sessions.app, session_id) == [
        "session_created", "session_joined", "session_joined", "session_joined",
        "session_started", "session_scores_submitted", "session_scores_submitted",
        "session_scores_submitted", "session_item_revealed", "session_discussion_started",
        "session_consensus_recorded", "session_consensus_recorded", "session_item_concluded",
        "session_item_revealed", "session_item_concluded", "session_closed"]


def test_every_change_bumps_the_version_once(sessions, running):
    session_id, teachers = running
    before = sessions.session(session_id).version
    sessions.submit(session_id, teachers[0], [2, 2])
    sessions.run(session_id, services.reveal)
    assert sessions.session(session_id).version == before + 2


def test_an_item_cannot_be_agreed_without_a_consensus_on_every_criterion(sessions, running):
    session_id, _ = running
    sessions.run(session_id, services.reveal)
    sessions.run(session_id, services.record_consensus, sessions.criteria[0].id, level=2,
                 method=ConsensusMethod.UNANIMOUS, rationale="All agreed.", evidence=None)
    with pytest.raises(services.SessionError, match=sessions.criteria[1].name):
        sessions.run(session_id, services.conclude_item, ItemState.AGREED)


def test_after_the_reveal_scores_are_tagged_and_kept_apart(sessions, running):
    """A late joiner's scores are post-reveal; rescores after discussion are rescores; only
    the independent ones are BLIND."""
    session_id, teachers = running
    sessions.submit(session_id, teachers[0], [2, 2])
    sessions.run(session_id, services.reveal)
    with pytest.raises(services.SessionStateError, match="independent scores are in"):
        sessions.submit(session_id, teachers[0], [3, 3])
    late = sessions.teacher(0, 1)
    sessions.join(session_id, late)
    assert sessions.submit(session_id, late, [3, 3]) == "post_reveal"
    sessions.run(session_id, services.discuss)
    sessions.run(session_id, services.rescore)
    assert sessions.submit(session_id, teachers[0], [3, 3]) == "rescore"
    assert sorted(_ratings(sessions.app, session_id), key=str) == sorted(
        [(teachers[0].id, RatingKind.BLIND, None)] * 2
        + [(late.id, RatingKind.INFORMED, RatingPhase.POST_REVEAL)] * 2
        + [(teachers[0].id, RatingKind.INFORMED, RatingPhase.RESCORE)] * 2, key=str)


def test_nobody_scores_twice_in_one_phase_and_observers_never(sessions, running):
    session_id, teachers = running
    sessions.submit(session_id, teachers[0], [2, 2])
    with pytest.raises(services.SessionStateError, match="already submitted"):
        sessions.submit(session_id, teachers[0], [3, 3])
    observer = sessions.teacher(1, 1)
    sessions.join(session_id, observer, role=ParticipantRole.OBSERVER)
    with pytest.raises(services.SessionError, match="Observers"):
        sessions.submit(session_id, observer, [2, 2])


def test_only_a_facilitator_drives_the_session(sessions, running):
    session_id, teachers = running
    with pytest.raises(services.SessionError, match="Only the session's facilitator"):
        sessions.run(session_id, services.reveal, by=teachers[0])


def test_items_are_skipped_and_reordered(sessions):
    samples = sessions.world.samples[:3]
    session_id = sessions.create(samples=samples)
    session = sessions.session(session_id)
    first, second, third = session.items
    sessions.run(session_id, services.move, -1, item_id=third.id)
    order = [i.sample_id for i in sessions.session(session_id).items]
    assert order == [samples[0].id, samples[2].id, samples[1].id]
    sessions.run(session_id, services.start)
    sessions.run(session_id, services.skip, item_id=first.id)
    session = sessions.session(session_id)
    assert session.current_item.sample_id == samples[2].id
    assert {i.id: i.state for i in session.items}[first.id] == ItemState.SKIPPED


def test_with_nobody_facilitating_the_first_poll_after_the_last_submit_reveals(
        sessions, running):
    session_id, teachers = running
    with sessions.app.app_context():  # the facilitator's page stopped polling long ago
        db.session.execute(db.update(SessionParticipant).where(
            SessionParticipant.session_id == session_id,
            SessionParticipant.role == ParticipantRole.FACILITATOR)
            .values(last_seen_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()

    def poll():
        with sessions.app.app_context():
            revealed = services.reveal_if_due(db.session.get(Session, session_id), utcnow())
            db.session.commit()
            return revealed

    sessions.submit(session_id, teachers[0], [2, 2])
    sessions.submit(session_id, teachers[1], [2, 3])
    assert not poll()  # the third present teacher has not submitted yet
    sessions.submit(session_id, teachers[2], [3, 3])
    assert poll()
    assert not poll()  # revealed once
    assert sessions.session(session_id).state == SessionState.REVEALED
    assert _actions(sessions.app, session_id).count("session_item_revealed") == 1


def test_a_facilitator_present_keeps_the_reveal_theirs(sessions, running):
    session_id, teachers = running
    for teacher in teachers:
        sessions.submit(session_id, teacher, [2, 2])
    with sessions.app.app_context():
        assert not services.reveal_if_due(db.session.get(Session, session_id), utcnow())


def test_the_items_timer_reveals_it_at_the_first_poll_after_its_deadline(sessions):
    session_id = sessions.create(timer_minutes=3)
    sessions.join(session_id, sessions.teacher(0))
    sessions.run(session_id, services.start)
    session = sessions.session(session_id)
    deadline = session.current_item.deadline_at
    assert deadline is not None
    later = as_utc(deadline) + timedelta(seconds=1)
    with sessions.app.app_context():  # everyone has gone quiet by then
        assert services.reveal_if_due(db.session.get(Session, session_id), later)
        db.session.commit()
    assert sessions.session(session_id).state == SessionState.REVEALED


def test_adjacent_scores_on_one_side_of_the_cut_are_agreed_where_allowed(sessions):
    session_id = sessions.create(allows_auto_agree=True)
    teachers = [sessions.teacher(i) for i in range(3)]
    sessions.join(session_id, *teachers)
    sessions.run(session_id, services.start)
    # criterion 1: 3, 4, 4 (proficient from 3, the cut): agreed at 4; criterion 2: 2, 3, 3
    # straddles the cut: never agreed automatically.
    for teacher, scores in zip(teachers, ([3, 2], [4, 3], [4, 3]), strict=True):
        sessions.submit(session_id, teacher, scores)
    sessions.run(session_id, services.reveal)
    with sessions.app.app_context():
        item = db.session.get(Session, session_id).current_item
        agreed = {(c.criterion_id, c.level, c.method) for c in item.consensus}
    assert agreed == {(sessions.criteria[0].id, 4, ConsensusMethod.AUTO)}


def test_the_co_facilitator_takes_over(sessions):
    co = sessions.teacher(1)
    session_id = sessions.create(co_facilitator=co)
    sessions.run(session_id, services.take_over, by=co)
    sessions.run(session_id, services.start, by=co)
    session = sessions.session(session_id)
    assert (session.facilitator_id, session.co_facilitator_id) == (co.id, sessions.coach.id)
    assert session.state == SessionState.SCORING


def test_the_audit_log_says_what_happened_in_words(sessions, running):
    from moderation.accounts import audit_text

    session_id, _ = running
    sessions.run(session_id, services.reveal)
    with sessions.app.app_context():
        events = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "session_item_revealed")).scalars().all()
        rows = audit_text.rows(events)
    assert [(audit_text.action_label(r.action), r.details) for r in rows] == [
        ("Session scores revealed",
         "Revealed the scores in the session “Argument writing moderation”, item 1.")]
