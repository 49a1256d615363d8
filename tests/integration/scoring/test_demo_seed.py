"""The demo seed's scoring rounds: a completed, connected round with scores, an open one with
work left for the demo teacher, and nothing new on a second run."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from moderation.accounts.models import User
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, WorkSample
from moderation.scoring.models import QueueItem, RoundStatus, ScoringRound
from moderation.scoring.seed import COMPLETED_ROUND, DEMO_TEACHER, OPEN_ROUND

pytestmark = pytest.mark.slow


def flask(*args: str, database_url: str) -> None:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url,
           "SECRET_KEY": "seed-test"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env,
                   capture_output=True, text=True, timeout=180, check=True)


def test_demo_rounds_are_seeded_once(fresh_databases):
    url = fresh_databases.create()
    flask("db", "upgrade", database_url=url)
    flask("seed-demo", database_url=url)
    engine = create_engine(url)
    models = (ScoringRound, QueueItem, Rating, WorkSample, Anchor)

    def counts():
        with engine.connect() as conn:
            return {m.__name__: conn.scalar(select(func.count()).select_from(m)) for m in models}

    first = counts()
    flask("seed-demo", database_url=url)
    assert counts() == first

    with Session(engine) as session:
        rounds = {r.name: r for r in session.scalars(select(ScoringRound))}
        completed, current = rounds[COMPLETED_ROUND], rounds[OPEN_ROUND]
        assert completed.status == RoundStatus.CLOSED and current.status == RoundStatus.OPEN
        for scoring_round in (completed, current):
            assert scoring_round.design["is_connected"]
            assert scoring_round.design["n_raters"] == 24
            assert scoring_round.design["school_pair_coverage"] == 1.0
        assert completed.design["n_samples"] == 48 and completed.design["n_validity"] > 0
        unscored = session.scalar(select(func.count(QueueItem.id)).where(
            QueueItem.round_id == completed.id, QueueItem.submitted_at.is_(None)))
        assert unscored == 0
        blind = session.scalars(select(Rating.score).where(
            Rating.context_type == "round", Rating.context_id == completed.id)).all()
        assert len(blind) == 4 * session.scalar(select(func.count(QueueItem.id)).where(
            QueueItem.round_id == completed.id))
        assert set(blind) == {1, 2, 3, 4}  # the model spreads scores over every level
        assert session.scalar(select(func.count(Rating.id)).where(
            Rating.kind == RatingKind.LOCAL)) > 20

        amara = session.scalars(select(User).where(User.email == DEMO_TEACHER)).one()
        left = session.scalar(select(func.count(QueueItem.id)).where(
            QueueItem.round_id == current.id, QueueItem.rater_id == amara.id,
            QueueItem.submitted_at.is_(None)))
        assert left >= 3
        started = session.scalar(select(func.count(QueueItem.id)).where(
            QueueItem.round_id == current.id, QueueItem.submitted_at.is_not(None)))
        assert started > 0
        withheld = set(session.scalars(select(QueueItem.anchor_id).where(
            QueueItem.round_id == current.id, QueueItem.anchor_id.is_not(None))))
        assert len(set(session.scalars(select(Anchor.id))) - withheld) >= 1  # to practise on
    engine.dispose()
