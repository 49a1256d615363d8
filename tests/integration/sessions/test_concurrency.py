"""Simultaneous requests on one session, each on its own database connection in its own
thread, as two facilitators' clicks or a submit and a reveal arrive together. Run on SQLite by
default and on PostgreSQL with DATABASE_URL set (see README, "Running a session")."""

import threading

from moderation.accounts.models import User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind
from moderation.sessions import services
from moderation.sessions.models import Session, SessionState


def _together(app, session_id: int, *calls):
    """Run each call(session) in its own thread and app context (so its own connection),
    all of them having read the session before any writes; commit each. Returns, per call,
    None for success or the SessionError it raised."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        with app.app_context():
            session = db.session.get(Session, session_id)
            _ = session.current_item, session.rubric_version.criteria
            barrier.wait()
            try:
                call(session)
                db.session.commit()
            except services.SessionError as error:
                db.session.rollback()
                outcomes[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _as(user):
    return db.session.get(User, user.id)


def _revealed_events(app, session_id: int) -> int:
    with app.app_context():
        return len(db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "session_item_revealed",
            AuditEvent.object_id == str(session_id))).scalars().all())


def test_two_simultaneous_reveals_change_the_state_once(sessions):
    co = sessions.teacher(2)
    for _ in range(3):
        session_id = sessions.create(co_facilitator=co)
        sessions.join(session_id, sessions.teacher(0))
        sessions.run(session_id, services.start)
        before = sessions.session(session_id).version
        outcomes = _together(sessions.app, session_id,
                             lambda s: services.reveal(s, _as(sessions.coach)),
                             lambda s: services.reveal(s, _as(co)))
        assert sorted(o is None for o in outcomes) == [False, True]
        refused = next(o for o in outcomes if o is not None)
        assert isinstance(refused, services.SessionStateError)
        assert "already been revealed" in str(refused)
        session = sessions.session(session_id)
        assert session.state == SessionState.REVEALED and session.version == before + 1
        assert _revealed_events(sessions.app, session_id) == 1


def test_a_submit_racing_the_reveal_is_counted_independent_or_refused_never_both(sessions):
    teacher = sessions.teacher(0)
    scores = {c.id: 3 for c in sessions.criteria}
    for _ in range(4):
        session_id = sessions.create()
        sessions.join(session_id, teacher)
        sessions.run(session_id, services.start)
        outcomes = _together(
            sessions.app, session_id,
            lambda s: services.submit_scores(s, s.current_item, _as(teacher), scores, {}),
            lambda s: services.reveal(s, _as(sessions.coach)))
        submitted, revealed = outcomes
        assert revealed is None  # the reveal happens either way
        with sessions.app.app_context():
            kinds = db.session.execute(db.select(Rating.kind).where(
                Rating.context_type == "session", Rating.context_id == session_id)).all()
        if submitted is None:
            assert kinds == [(RatingKind.BLIND,)] * len(sessions.criteria)
        else:
            assert "revealed just before yours arrived" in str(submitted)
            assert kinds == []
        assert _revealed_events(sessions.app, session_id) == 1
