"""Writes for practice. Services flush, never commit.

Practice is private: an attempt is not audit-logged, and only the teacher sees it unless their
district lets coaches in scope see practice (a district setting, moderation.settings).
"""

from moderation.core.extensions import db
from moderation.practice import queries
from moderation.practice.models import PracticeAttempt
from moderation.ratings import services as ratings
from moderation.ratings.models import RatingKind
from moderation.samples.models import Anchor
from moderation.scoring.services import COMMENT_LIMIT  # the score sheet is scoring's
from rubrics import queries as rubric_queries


class PracticeError(ValueError):
    """A practice form that cannot be recorded; the message is for the user."""


def _clean(value: str | None) -> str | None:
    return (value or "").strip()[:COMMENT_LIMIT] or None


def submit_practice(anchor: Anchor, user, scores: dict[int, int], comments: dict[int, str],
                    nonce: str) -> tuple[PracticeAttempt, bool]:
    """Record a practice attempt on an anchor paper: PRACTICE ratings and the agreement with
    the agreed scores. Returns (attempt, created); the same form sent twice (same nonce)
    returns the first attempt."""
    nonce = (nonce or "").strip()
    if not 16 <= len(nonce) <= 64:
        raise PracticeError("The practice form is incomplete. Reload the page and try again.")
    existing = queries.attempt_by_nonce(nonce)
    if existing is not None:
        if existing.user_id != user.id or existing.anchor_id != anchor.id:
            raise PracticeError("The practice form is out of date. Reload the page and try "
                                "again.")
        return existing, False
    version = anchor.rubric_version
    if problem := rubric_queries.score_problem(version, scores, complete=True):
        raise PracticeError(problem)
    agreed = {s.criterion_id: s.score for s in anchor.scores}
    attempt = PracticeAttempt(
        user_id=user.id, anchor_id=anchor.id, nonce=nonce, n_criteria=len(version.criteria),
        n_exact=sum(scores[c.id] == agreed.get(c.id) for c in version.criteria),
        n_adjacent=sum(c.id in agreed and abs(scores[c.id] - agreed[c.id]) <= 1
                       for c in version.criteria))
    db.session.add(attempt)
    db.session.flush()
    for c in version.criteria:
        ratings.record(rater_id=user.id, sample_id=anchor.sample_id, criterion_id=c.id,
                       rubric_version_id=version.id, score=scores[c.id],
                       kind=RatingKind.PRACTICE, context_type="practice",
                       context_id=attempt.id, comment=_clean(comments.get(c.id)),
                       submitted_at=attempt.submitted_at)
    db.session.flush()
    return attempt, True

