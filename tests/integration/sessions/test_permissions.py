"""Who joins a session, and who sees which scores when."""

import pytest

from moderation.accounts.models import User
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.sessions import queries, services
from moderation.sessions.models import Session, SessionScope


def _view(sessions, session_id, user, *, facilitating=False):
    with sessions.app.app_context():
        session = db.session.get(Session, session_id)
        view = queries.live_view(session, db.session.get(User, user.id), utcnow(),
                                 is_facilitating=facilitating)
        return (view.n_submitted, view.submitted_names, [r.score for r in view.own],
                view.distribution and [dict(s.counts) for s in view.distribution])


def test_a_within_school_session_is_joined_by_its_schools_staff_only(sessions):
    session_id = sessions.create(scope=SessionScope.WITHIN_SCHOOL, school=0, samples=[
        s for s in sessions.world.samples if s.school_id == sessions.world.schools[0].id])
    sessions.join(session_id, sessions.teacher(0))
    with pytest.raises(services.SessionError, match="staff of another school"):
        sessions.join(session_id, sessions.teacher(1))


def test_a_cross_school_session_is_not_for_another_district(sessions, create_teacher):
    session_id = sessions.create()
    stranger = create_teacher()  # a school of a district of its own
    with pytest.raises(services.SessionError, match="staff of another school or district"):
        sessions.join(session_id, stranger)


def test_before_the_reveal_nobody_sees_a_score_but_their_own(sessions):
    session_id = sessions.create()
    a, b = sessions.teacher(0), sessions.teacher(1)
    sessions.join(session_id, a, b)
    sessions.run(session_id, services.start)
    sessions.submit(session_id, a, [4, 1])
    # The facilitator sees who has submitted, as a count and names, and no score.
    assert _view(sessions, session_id, sessions.coach, facilitating=True) == (
        1, [a.display_name], [], None)
    assert _view(sessions, session_id, b) == (1, [], [], None)
    assert _view(sessions, session_id, a) == (1, [], [4, 1], None)
    sessions.run(session_id, services.reveal)
    counts = _view(sessions, session_id, b)[3]
    assert counts[0][4] == 1 and counts[1][1] == 1


def test_names_show_at_the_reveal_only_where_the_session_allows(sessions):
    for allowed in (False, True):
        session_id = sessions.create(is_names_at_reveal=allowed)
        a = sessions.teacher(0)
        sessions.join(session_id, a)
        sessions.run(session_id, services.start)
        sessions.submit(session_id, a, [3, 3])
        sessions.run(session_id, services.reveal)
        with sessions.app.app_context():
            session = db.session.get(Session, session_id)
            names = queries.distribution(session, session.current_item)[0].names
        assert names == ({3: [a.display_name]} if allowed else {})
        sessions.run(session_id, services.to_debrief)
        sessions.run(session_id, services.close)
