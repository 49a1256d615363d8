from dataclasses import dataclass

import pytest

from moderation.accounts.models import District, School, User
from moderation.core.extensions import db
from moderation.samples.models import WorkSample
from moderation.sessions import services
from moderation.sessions.models import Session, SessionItem, SessionScope
from rubrics.models import RubricVersion


@dataclass
class SessionWorld:
    """A district of three schools (two teachers each, two ready samples each), its
    district-wide coach, the rubric version's criteria, and a session builder."""

    app: object
    world: object  # tests.fixtures.scoring.World
    criteria: list

    @property
    def coach(self) -> User:
        return self.world.coach

    def teacher(self, school: int, n: int = 0) -> User:
        return self.world.teachers[self.world.schools[school].id][n]

    def create(self, *, samples: list | None = None, scope=SessionScope.CROSS_SCHOOL,
               school: int | None = None, by: User | None = None,
               title: str = "Argument writing moderation", **options) -> int:
        """A session of the world's samples (or those given) through the service; its id."""
        with self.app.app_context():
            request = services.SessionRequest(
                title=title, scope=scope,
                version=db.session.get(RubricVersion, self.world.version.id),
                samples=[db.session.get(WorkSample, s.id)
                         for s in (self.world.samples[:2] if samples is None else samples)],
                school=db.session.get(School, self.world.schools[school].id)
                if school is not None else None, **options)
            session = services.create_session(
                db.session.get(District, self.world.district.id),
                db.session.get(User, (by or self.coach).id), request)
            db.session.commit()
            return session.id

    def run(self, session_id: int, action, *args, by: User | None = None,
            item_id: int | None = None, **kwargs):
        """Call a service on the session as `by` (the coach), on the item `item_id` if
        given, and commit."""
        with self.app.app_context():
            session = db.session.get(Session, session_id)
            if item_id is not None:
                args = (db.session.get(SessionItem, item_id), *args)
            result = action(session, db.session.get(User, (by or self.coach).id), *args,
                            **kwargs)
            db.session.commit()
            return result

    def join(self, session_id: int, *users: User, **kwargs) -> None:
        for user in users:
            self.run(session_id, services.join, by=user, **kwargs)

    def submit(self, session_id: int, user: User, scores: list[int]) -> str:
        with self.app.app_context():
            session = db.session.get(Session, session_id)
            phase = services.submit_scores(
                session, session.current_item, db.session.get(User, user.id),
                dict(zip([c.id for c in self.criteria], scores, strict=True)), {})
            db.session.commit()
            return phase

    def session(self, session_id: int) -> Session:
        with self.app.app_context():
            session = db.session.get(Session, session_id)
            _ = session.items, session.participants, session.current_item
            db.session.expunge_all()
            return session


@pytest.fixture
def sessions(app, scoring_world, scoring_db) -> SessionWorld:
    world = scoring_world(n_schools=3, teachers_per_school=2, samples_per_school=2, anchors=2)
    return SessionWorld(app, world, scoring_db.criteria(world.version))
