"""Reads of live sessions: the session a code names, who is in it and present, who has
submitted, and the distribution of scores a reveal shows."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload

from moderation.accounts.models import Membership, Role, User
from moderation.core.db import sets_by_key
from moderation.core.extensions import db
from moderation.ratings.models import Rating, RatingKind, RatingPhase
from moderation.scoring.models import QueueItem, RoundStatus, ScoringRound
from moderation.sessions import presence
from moderation.sessions.models import (
    INDEPENDENT,
    DissentNote,
    ParticipantRole,
    Session,
    SessionItem,
    SessionParticipant,
    SessionState,
    SessionSubmission,
)

# Someone is present while their page polls (every 2 s); a laptop asleep for this long is away.
PRESENCE_WINDOW = timedelta(seconds=30)


def open_session_by_code(code: str) -> Session | None:
    return db.session.execute(db.select(Session).where(
        Session.join_code == code, Session.state != SessionState.CLOSED)).scalar_one_or_none()


def code_in_use(code: str) -> bool:
    return open_session_by_code(code) is not None


def participant(session: Session, user) -> SessionParticipant | None:
    return db.session.execute(db.select(SessionParticipant).where(
        SessionParticipant.session_id == session.id,
        SessionParticipant.user_id == user.id)).scalar_one_or_none()


def sessions_for(user) -> list[Session]:
    """The open sessions the user facilitates or has joined, newest first."""
    joined = db.select(SessionParticipant.session_id).where(SessionParticipant.user_id == user.id)
    return list(db.session.execute(
        db.select(Session).where(Session.state != SessionState.CLOSED, or_(
            Session.facilitator_id == user.id, Session.co_facilitator_id == user.id,
            Session.id.in_(joined))).order_by(Session.created_at.desc())).scalars())


# The district's list shows this many of the newest sessions.
DISTRICT_LIST_LIMIT = 200


def district_sessions(district_ids: set[int]) -> list[Session]:
    """The newest sessions of the districts, with their items and participants loaded for
    the list's counts."""
    if not district_ids:
        return []
    return list(db.session.execute(
        db.select(Session).where(Session.district_id.in_(district_ids))
        .options(selectinload(Session.items), selectinload(Session.participants),
                 selectinload(Session.facilitator))
        .order_by(Session.created_at.desc(), Session.id.desc())
        .limit(DISTRICT_LIST_LIMIT)).scalars())


def samples_in_open_rounds(sample_ids: list[int]) -> set[int]:
    """Those of the samples that are in an open round's queues, as live work or as anchor
    papers: a session showing them with others' scores would break the round's blindness."""
    if not sample_ids:
        return set()
    return set(db.session.scalars(
        db.select(QueueItem.sample_id).join(ScoringRound)
        .where(ScoringRound.status == RoundStatus.OPEN, QueueItem.sample_id.in_(sample_ids))
        .distinct()))


def is_on_open_agenda(user, sample) -> bool:
    """Whether the user takes part in a session not yet closed whose agenda has the sample:
    they may see its work (registered with samples.permissions.WORK_VIEWERS)."""
    if not getattr(user, "is_authenticated", False) or sample.is_archived:
        return False
    return db.session.scalar(
        db.select(func.count(SessionItem.id)).join(Session, Session.id == SessionItem.session_id)
        .join(SessionParticipant, SessionParticipant.session_id == Session.id)
        .where(SessionItem.sample_id == sample.id, SessionParticipant.user_id == user.id,
               Session.state != SessionState.CLOSED)) > 0


def submissions(item: SessionItem, phase: str = INDEPENDENT) -> list[SessionSubmission]:
    return list(db.session.execute(
        db.select(SessionSubmission).where(SessionSubmission.item_id == item.id,
                                           SessionSubmission.phase == phase)
        .options(selectinload(SessionSubmission.user))
        .order_by(SessionSubmission.submitted_at)).scalars())


def has_submitted(item: SessionItem, user, phase: str) -> bool:
    return db.session.scalar(db.select(func.count(SessionSubmission.id)).where(
        SessionSubmission.item_id == item.id, SessionSubmission.user_id == user.id,
        SessionSubmission.phase == phase)) > 0


def present(session: Session, now: datetime) -> list[SessionParticipant]:
    """Participants whose page polled within PRESENCE_WINDOW."""
    seen = presence.last_seen(session)
    return [p for p in session.participants if seen[p.user_id] >= now - PRESENCE_WINDOW]


def is_facilitator_present(session: Session, now: datetime) -> bool:
    """Whether the facilitator's or co-facilitator's page polled within PRESENCE_WINDOW (asked
    of their rows only: every poll asks it)."""
    facilitators = {session.facilitator_id, session.co_facilitator_id} - {None}
    return any(moment >= now - PRESENCE_WINDOW
               for moment in presence.last_seen(session, facilitators).values())


def everyone_present_has_submitted(session: Session, item: SessionItem, now: datetime) -> bool:
    """Every present participant who scores (not an observer) has submitted, and one has."""
    scorers = {p.user_id for p in present(session, now) if p.role.scores}
    done = {s.user_id for s in submissions(item)}
    return bool(done) and scorers <= done


def item_ratings(session: Session, item: SessionItem, phase: RatingPhase | None = None
                 ) -> list[Rating]:
    """The current submitted ratings of an item: the independent ones (phase None), or those
    given after the reveal in `phase`."""
    kind = RatingKind.BLIND if phase is None else RatingKind.INFORMED
    return list(db.session.execute(
        db.select(Rating).where(
            Rating.context_type == "session", Rating.context_id == session.id,
            Rating.sample_id == item.sample_id, Rating.kind == kind, Rating.phase == phase
            if phase is not None else Rating.phase.is_(None),
            Rating.is_current.is_(True), Rating.submitted_at.is_not(None))
        .options(selectinload(Rating.rater))).scalars())


@dataclass(frozen=True)
class Spread:
    """One criterion's scores as a reveal shows them."""

    criterion: object
    counts: dict[int, int]  # level score -> how many gave it, every level listed
    names: dict[int, list[str]]  # level score -> who, only where the session shows names
    spread: int | None  # highest minus lowest; None without scores
    cut: int | None  # the lowest proficient level's score
    straddles_cut: bool  # some scores below the cut and some at or above it

    @property
    def n(self) -> int:
        return sum(self.counts.values())


def proficient_cut(criterion) -> int | None:
    scores = [level.score for level in criterion.levels if level.is_proficient]
    return min(scores) if scores else None


def spread_of(criterion, ratings: list[Rating], *, with_names: bool) -> Spread:
    given = [r.score for r in ratings if r.criterion_id == criterion.id]
    counts = Counter(given)
    cut = proficient_cut(criterion)
    names = {}
    if with_names:
        for r in sorted(ratings, key=lambda r: r.rater.display_name):
            if r.criterion_id == criterion.id:
                names.setdefault(r.score, []).append(r.rater.display_name)
    return Spread(criterion=criterion,
                  counts={level.score: counts.get(level.score, 0) for level in criterion.levels},
                  names=names, spread=max(given) - min(given) if given else None, cut=cut,
                  straddles_cut=bool(given) and cut is not None
                  and min(given) < cut <= max(given))


def distribution(session: Session, item: SessionItem, phase: RatingPhase | None = None
                 ) -> list[Spread]:
    """Per criterion of the session's rubric version, the item's scores in `phase`."""
    ratings = item_ratings(session, item, phase)
    return [spread_of(c, ratings, with_names=session.is_names_at_reveal)
            for c in session.rubric_version.criteria]


def own_ratings(session: Session, item: SessionItem, user) -> list[Rating]:
    """The user's own current ratings of the item, every phase."""
    return list(db.session.execute(db.select(Rating).where(
        Rating.context_type == "session", Rating.context_id == session.id,
        Rating.sample_id == item.sample_id, Rating.rater_id == user.id,
        Rating.is_current.is_(True))).scalars())


def role_of(session: Session, user) -> ParticipantRole | None:
    row = participant(session, user)
    return row.role if row else None


REVEALED_STATES = (SessionState.REVEALED, SessionState.DISCUSSING, SessionState.RESCORING)


@dataclass(frozen=True)
class LiveView:
    """What one person's session page shows now: the one place that decides who sees which
    scores. Before an item is revealed nobody sees anyone's scores, the facilitator included:
    they get who has submitted (names), everyone else the count."""

    session: Session
    role: ParticipantRole | None
    is_facilitating: bool
    item: SessionItem | None
    n_submitted: int
    submitted_names: list[str]  # the facilitators' list of who has submitted, else empty
    own: list[Rating]  # the viewer's own scores of the item
    distribution: list[Spread] | None  # independent scores, once revealed
    rescores: list[Spread] | None  # after a rescore, back in discussion
    n_present: int

    @property
    def is_revealed(self) -> bool:
        return self.distribution is not None


def live_view(session: Session, user, now: datetime, *, is_facilitating: bool) -> LiveView:
    item = session.current_item
    role = role_of(session, user)
    in_scoring = session.state == SessionState.SCORING and item is not None
    done = submissions(item) if in_scoring else []
    revealed = session.state in REVEALED_STATES and item is not None
    rescored = (session.state == SessionState.DISCUSSING and item is not None
                and bool(submissions(item, RatingPhase.RESCORE.value)))
    return LiveView(
        session=session, role=role, is_facilitating=is_facilitating, item=item,
        n_submitted=len(done),
        submitted_names=sorted(s.user.display_name for s in done) if is_facilitating else [],
        own=own_ratings(session, item, user) if item is not None else [],
        distribution=distribution(session, item) if revealed else None,
        rescores=distribution(session, item, RatingPhase.RESCORE) if rescored else None,
        n_present=len(present(session, now)))


@dataclass(frozen=True)
class CriterionAgreement:
    criterion: object
    before: float | None  # share of pairs of independent scores that agree exactly
    after: float | None  # the same over the rescores, where there were any
    n_before: int
    n_after: int


def _exact_pair_share(scores: list[int]) -> tuple[float | None, int]:
    pairs = [(a, b) for i, a in enumerate(scores) for b in scores[i + 1:]]
    if not pairs:
        return None, 0
    return sum(a == b for a, b in pairs) / len(pairs), len(pairs)


def agreement(session: Session) -> list[CriterionAgreement]:
    """Per criterion, over the items scored: the share of pairs of raters agreeing exactly,
    before the discussion (independent scores) and after it (rescores)."""
    criteria = session.rubric_version.criteria
    groups: dict[tuple, list[list[int]]] = {}  # (phase, criterion id) -> each item's scores
    for item in (i for i in session.items if i.revealed_at is not None):
        for phase in (None, RatingPhase.RESCORE):
            given = item_ratings(session, item, phase)
            for criterion in criteria:
                groups.setdefault((phase, criterion.id), []).append(
                    [r.score for r in given if r.criterion_id == criterion.id])
    return [_agreement_row(c, groups.get((None, c.id), []),
                           groups.get((RatingPhase.RESCORE, c.id), [])) for c in criteria]


def _agreement_row(criterion, before: list[list[int]], after: list[list[int]]
                   ) -> CriterionAgreement:
    def pooled(groups):
        shares = [(s, n) for s, n in map(_exact_pair_share, groups) if s is not None]
        n = sum(n for _, n in shares)
        return (sum(s * n for s, n in shares) / n if n else None), n

    (b, nb), (a, na) = pooled(before), pooled(after)
    return CriterionAgreement(criterion=criterion, before=b, after=a, n_before=nb, n_after=na)


def post_reveal_counts(session: Session) -> dict[int, int]:
    """How many people scored each item after its reveal, by item id: the summary says so,
    since those scores are kept apart from the independent ones the agreement counts."""
    return dict(db.session.execute(
        db.select(SessionSubmission.item_id, func.count(SessionSubmission.id))
        .join(SessionItem, SessionItem.id == SessionSubmission.item_id)
        .where(SessionItem.session_id == session.id,
               SessionSubmission.phase == RatingPhase.POST_REVEAL.value)
        .group_by(SessionSubmission.item_id)).all())


def attendance(session: Session) -> list[SessionParticipant]:
    return sorted(session.participants, key=lambda p: (p.role.value, p.user.display_name))


def district_staff(district_ids: set[int]) -> list:
    """Active teachers and coaches of these districts, by name: co-facilitator candidates."""
    return list(db.session.execute(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.district_id.in_(district_ids),
               Membership.role.in_((Role.TEACHER, Role.COACH)), User.deactivated_at.is_(None))
        .distinct().order_by(User.display_name)).scalars())


def met_sample_ids(user_ids: list[int]) -> dict[int, set[int]]:
    """For each user, the work of every session agenda they joined (they may have seen its
    scores discussed); registered with scoring.queries.MET_SAMPLES, so that no round gives
    them that work again as live work or as a validity paper."""
    return sets_by_key(db.session.execute(
        db.select(SessionParticipant.user_id, SessionItem.sample_id).distinct()
        .join(SessionItem, SessionItem.session_id == SessionParticipant.session_id)
        .where(SessionParticipant.user_id.in_(user_ids))))


def dissent_by_item(session: Session) -> dict[int, list[str]]:
    """The anonymous dissent notes of each item, by item id, oldest first."""
    notes: dict[int, list[str]] = {}
    for note in db.session.execute(
            db.select(DissentNote).join(SessionItem, SessionItem.id == DissentNote.item_id)
            .where(SessionItem.session_id == session.id).order_by(DissentNote.id)).scalars():
        notes.setdefault(note.item_id, []).append(note.text)
    return notes
