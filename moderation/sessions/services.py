"""Writes and rules of live sessions. Services flush, never commit.

The state machine, driven by the facilitator (or co-facilitator):

    briefing -> scoring (an item) -> revealed -> discussing -> [rescoring -> discussing]
             -> the item agreed or deferred -> scoring (the next item) ... -> debrief -> closed

Items can be skipped (a pending one, or the current one, which moves the session on) and
pending ones reordered. Every change is a compare-and-set on Session.version: an UPDATE ...
WHERE version = <the version this request read>, bumping it in the same transaction, then
audited. Of two simultaneous reveals one UPDATE finds its version and the other none; the
other reads the session again and, finding it revealed, stops with a message, so the state
changes once. A request that lost only to a submit (which bumps the version too, for the
pages that show who has submitted) reads again and retries while the change still applies.

A submit claims the session in the state it was decided for: UPDATE ... WHERE state = scoring
AND current item = this one. It either commits before a simultaneous reveal (then the reveal,
waiting on the row, finds the version moved, reads again and reveals with the submit counted)
or finds the session revealed and is refused with a message: never both.

Without a facilitator present (presence.py keeps who is there), the first poll after every
present scorer has submitted, or after the item's deadline, reveals the item by the same
compare-and-set (no scheduler).
"""

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update

from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.timezones import as_utc
from moderation.ratings import services as ratings
from moderation.ratings.models import RatingKind, RatingPhase
from moderation.samples import permissions as sample_permissions
from moderation.samples.models import SampleStatus
from moderation.sessions import permissions, queries
from moderation.sessions.models import (
    INDEPENDENT,
    Consensus,
    ConsensusMethod,
    DissentNote,
    ItemState,
    ParticipantRole,
    Session,
    SessionItem,
    SessionParticipant,
    SessionScope,
    SessionState,
    SessionSubmission,
)
from rubrics import queries as rubric_queries

# Letters nobody misreads aloud or on a projector: no I/L/1, O/0/Q, S/5, Z/2, B/8, G/6, U/V.
JOIN_ALPHABET = "ACDEFHJKMNPRTWXY"
JOIN_CODE_LENGTH = 6
MAX_ITEMS = 30
MAX_TIMER_MINUTES = 120
TEXT_LIMIT = 2000
CAS_ATTEMPTS = 5

CHANGED_MEANWHILE = ("The session changed at the same moment; the page now shows where it is. "
                     "Try again if it still applies.")


class SessionError(ValueError):
    """A session request that cannot be carried out; the message is for the user."""


class SessionStateError(SessionError):
    """The session is not in a state that allows this (the view answers 409)."""


# --- set-up --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionRequest:
    title: str
    version: object  # RubricVersion
    scope: SessionScope
    samples: list = field(default_factory=list)  # WorkSamples, in agenda order
    school: object | None = None  # of a within-school session
    co_facilitator: object | None = None
    is_names_at_reveal: bool = False
    allows_auto_agree: bool = False
    timer_minutes: int | None = None


def normalise_code(typed: str | None) -> str:
    """A join code as typed ("ab-cd ef") in its stored form ("ABCDEF")."""
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def new_join_code() -> str:
    """A code no open session uses (the partial unique index holds it if two collide)."""
    while True:
        code = "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
        if not queries.code_in_use(code):
            return code


def create_session(district, facilitator, request: SessionRequest) -> Session:
    """A session in briefing, its agenda in the order given, the facilitator (and any
    co-facilitator) its first participants."""
    if not permissions.may_facilitate_in(facilitator, district.id):
        raise SessionError("Your district lets coaches run sessions; ask a coach to set one up.")
    title = (request.title or "").strip()
    if not title or len(title) > 200:
        raise SessionError("Give the session a title of up to 200 characters, e.g. "
                           "“Grade 7 argument writing, December”.")
    version = request.version
    if version.rubric.district_id != district.id:
        raise SessionError("That rubric belongs to another district.")
    if problems := rubric_queries.version_problems(version):
        raise SessionError(f"{version.label} is not ready for scoring: {problems[0]}")
    school = _check_scope(district, request)
    _check_agenda(facilitator, version, request, school)
    timer = request.timer_minutes
    if timer is not None and not 1 <= timer <= MAX_TIMER_MINUTES:
        raise SessionError(f"A timer runs from 1 to {MAX_TIMER_MINUTES} minutes, or leave it "
                           f"empty.")
    co = request.co_facilitator
    if co is not None and (co.id == facilitator.id or not permissions.covers(
            co, district.id, request.scope, school.id if school else None)):
        raise SessionError("The co-facilitator must be another teacher or coach in the "
                           "session's scope.")
    session = Session(district_id=district.id, rubric_version_id=version.id, title=title,
                      facilitator_id=facilitator.id, co_facilitator_id=co.id if co else None,
                      scope=request.scope, school_id=school.id if school else None,
                      is_names_at_reveal=request.is_names_at_reveal,
                      allows_auto_agree=request.allows_auto_agree, join_code=new_join_code())
    session.items = [SessionItem(sample_id=s.id, anchor_id=_anchor_id(s, version), position=i,
                                 timer_minutes=timer) for i, s in enumerate(request.samples)]
    session.participants = [SessionParticipant(user_id=facilitator.id,
                                               role=ParticipantRole.FACILITATOR)]
    if co is not None:
        session.participants.append(SessionParticipant(user_id=co.id,
                                                       role=ParticipantRole.CO_FACILITATOR))
    db.session.add(session)
    db.session.flush()
    audit.record("session_created", actor=facilitator, obj=session, title=title,
                 items=len(session.items), scope=request.scope.value)
    return session


def _check_scope(district, request: SessionRequest):
    if request.scope == SessionScope.CROSS_SCHOOL:
        return None
    school = request.school
    if school is None or school.district_id != district.id:
        raise SessionError("Choose the school of a within-school session.")
    return school


def _check_agenda(facilitator, version, request: SessionRequest, school) -> None:
    samples = request.samples
    if not samples:
        raise SessionError("Put at least one work sample on the agenda.")
    if len(samples) > MAX_ITEMS:
        raise SessionError(f"Keep the agenda to {MAX_ITEMS} samples; run another session for "
                           f"the rest.")
    if len({s.id for s in samples}) != len(samples):
        raise SessionError("A sample is on the agenda twice.")
    in_rounds = queries.samples_in_open_rounds([s.id for s in samples])
    for sample in samples:
        if not sample_permissions.can_view_sample(facilitator, sample):
            raise SessionError(f"You cannot see {sample.code}; leave it off the agenda.")
        if sample.rubric_version_id != version.id:
            raise SessionError(f"{sample.code} was uploaded for another rubric version.")
        if sample.status != SampleStatus.READY or sample.is_archived:
            raise SessionError(f"{sample.code} is not ready to score (its redaction is not "
                               f"confirmed, or it is archived).")
        if sample.id in in_rounds:
            raise SessionError(f"{sample.code} is in an open scoring round: showing it here "
                               f"with others' scores would break that round's blindness. Use "
                               f"it once the round is closed.")
        is_anchor = _anchor_id(sample, version) is not None
        if school is not None and not is_anchor and sample.school_id != school.id:
            raise SessionError(f"{sample.code} is another school's work; a within-school "
                               f"session takes its own school's work and anchor papers.")


def _anchor_id(sample, version) -> int | None:
    return next((a.id for a in sample.anchors if a.rubric_version_id == version.id), None)


def join(session: Session, user, role: ParticipantRole = ParticipantRole.PARTICIPANT
         ) -> SessionParticipant:
    """Add the user (once: a second join returns their place)."""
    if session.is_closed:
        raise SessionStateError("This session has closed.")
    if not permissions.in_scope(user, session):
        raise SessionError("This session is for the staff of another school or district.")
    existing = queries.participant(session, user)
    if existing is not None:
        return existing
    if role in permissions.FACILITATING:
        raise SessionError("Facilitators are named when the session is set up.")
    row = SessionParticipant(session_id=session.id, user_id=user.id, role=role)
    db.session.add(row)
    db.session.flush()
    audit.record("session_joined", actor=user, obj=session, title=session.title,
                 role=role.value,
                 after_reveal=session.state not in (SessionState.BRIEFING,
                                                    SessionState.SCORING))
    return row


# --- state changes -------------------------------------------------------------------------------

def _change(session: Session, actor, action: str, allowed: tuple[SessionState, ...],
            refusal: str, *, state: SessionState | None = None, item_id=..., **details) -> None:
    """Compare-and-set the session's version (and state, current item) if its state is one of
    `allowed`; else refuse with `refusal`. Retries when only a submit moved the version."""
    values = {"version": Session.version + 1}
    if state is not None:
        values.update(state=state, state_changed_at=utcnow())
    if item_id is not ...:
        values["current_item_id"] = item_id
    seen_item = session.current_item_id
    for _ in range(CAS_ATTEMPTS):
        if session.state not in allowed or session.current_item_id != seen_item:
            raise SessionStateError(refusal)
        changed = db.session.execute(
            update(Session).where(Session.id == session.id, Session.version == session.version)
            .values(**values).execution_options(synchronize_session=False)).rowcount
        if changed == 1:
            db.session.refresh(session)
            audit.record(action, actor=actor, obj=session, title=session.title,
                         version=session.version, **details)
            return
        db.session.refresh(session)
    raise SessionStateError(CHANGED_MEANWHILE)


def _require_facilitator(session: Session, actor) -> None:
    if actor is not None and not permissions.is_facilitating(actor, session):
        raise SessionError("Only the session's facilitator or co-facilitator can do that.")


def _next_pending(session: Session) -> SessionItem | None:
    return next((i for i in session.items if i.state == ItemState.PENDING), None)


def _start_item(item: SessionItem, now: datetime) -> None:
    item.state = ItemState.SCORING
    item.scoring_started_at = now
    if item.timer_minutes:
        item.deadline_at = now + timedelta(minutes=item.timer_minutes)


def _advance(session: Session, actor, action: str, allowed, refusal: str, **details) -> None:
    """Move to the next pending item's scoring, or to the debrief when none is left."""
    following = _next_pending(session)
    if following is None:
        _change(session, actor, action, allowed, refusal, state=SessionState.DEBRIEF,
                item_id=None, **details)
        return
    _change(session, actor, action, allowed, refusal, state=SessionState.SCORING,
            item_id=following.id, **details)
    _start_item(following, utcnow())
    db.session.flush()


def start(session: Session, actor) -> None:
    """From the briefing to scoring the first item on the agenda."""
    _require_facilitator(session, actor)
    _advance(session, actor, "session_started", (SessionState.BRIEFING,),
             "The session has already started.")


def reveal(session: Session, actor, *, automatic: str | None = None) -> None:
    """Show the item's independent scores: from now on they are final. `automatic` says why
    a poll revealed it with no facilitator present."""
    _require_facilitator(session, actor)
    item = session.current_item
    _change(session, actor, "session_item_revealed", (SessionState.SCORING,),
            "These scores have already been revealed.", state=SessionState.REVEALED,
            item=item.position + 1 if item else None, automatic=automatic)
    item.state, item.revealed_at = ItemState.REVEALED, utcnow()
    if session.allows_auto_agree:
        _auto_agree(session, item)
    db.session.flush()


def reveal_if_due(session: Session, now: datetime) -> bool:
    """A poll's check: with no facilitator present, reveal the item being scored once every
    present scorer has submitted or its deadline has passed. True if this call revealed it."""
    if session.state != SessionState.SCORING or session.current_item is None:
        return False
    if queries.is_facilitator_present(session, now):
        return False
    item = session.current_item
    if item.deadline_at is not None and as_utc(item.deadline_at) <= now:
        why = "timer"
    elif queries.everyone_present_has_submitted(session, item, now):
        why = "everyone submitted"
    else:
        return False
    try:
        reveal(session, None, automatic=why)
    except SessionStateError:  # another poll revealed it at the same moment
        return False
    return True


def discuss(session: Session, actor) -> None:
    _require_facilitator(session, actor)
    _change(session, actor, "session_discussion_started",
            (SessionState.REVEALED, SessionState.RESCORING),
            "The discussion has already started.", state=SessionState.DISCUSSING)
    session.current_item.state = ItemState.DISCUSSING
    db.session.flush()


def rescore(session: Session, actor) -> None:
    """Everyone scores the item again after the discussion; these scores are kept apart."""
    _require_facilitator(session, actor)
    _change(session, actor, "session_rescoring_started", (SessionState.DISCUSSING,),
            "Rescoring has already started.", state=SessionState.RESCORING)
    session.current_item.state = ItemState.RESCORING
    db.session.flush()


def conclude_item(session: Session, actor, outcome: ItemState) -> None:
    """Finish the current item, agreed (a consensus on every criterion) or deferred to a third
    reader, and move on."""
    _require_facilitator(session, actor)
    item = session.current_item
    if outcome not in (ItemState.AGREED, ItemState.DEFERRED) or item is None:
        raise SessionError("An item ends agreed or deferred.")
    if outcome == ItemState.AGREED:
        agreed = {c.criterion_id for c in item.consensus}
        missing = [c.name for c in session.rubric_version.criteria if c.id not in agreed]
        if missing:
            raise SessionError(f"Record the consensus on {', '.join(missing)} first, or defer "
                               f"the item to a third reader.")
    _advance(session, actor, "session_item_concluded",
             (SessionState.REVEALED, SessionState.DISCUSSING, SessionState.RESCORING),
             "This item has already been concluded.", item=item.position + 1,
             outcome=outcome.value)
    item.state = outcome
    db.session.flush()


def skip(session: Session, actor, item: SessionItem) -> None:
    """Leave an item out: a pending one stays on the agenda, skipped; the current one is left
    and the session moves on."""
    _require_facilitator(session, actor)
    if item.session_id != session.id or item.state not in (ItemState.PENDING,
                                                           ItemState.SCORING):
        raise SessionStateError("Only an item not yet revealed can be skipped.")
    if item.id == session.current_item_id:
        item.state = ItemState.SKIPPED
        db.session.flush()
        _advance(session, actor, "session_item_skipped", (SessionState.SCORING,),
                 "This item is no longer being scored.", item=item.position + 1)
        return
    _change(session, actor, "session_item_skipped", tuple(s for s in SessionState
                                                          if s != SessionState.CLOSED),
            "This session has closed.", item=item.position + 1)
    item.state = ItemState.SKIPPED
    db.session.flush()


def move(session: Session, actor, item: SessionItem, direction: int) -> None:
    """Move a pending item one place up (-1) or down (+1) among the pending items."""
    _require_facilitator(session, actor)
    pending = [i for i in session.items if i.state == ItemState.PENDING]
    if item not in pending:
        raise SessionStateError("Only items not yet started can be moved.")
    at = pending.index(item) + direction
    if direction not in (-1, 1) or not 0 <= at < len(pending):
        return
    other = pending[at]
    _change(session, actor, "session_agenda_reordered", tuple(
        s for s in SessionState if s != SessionState.CLOSED), "This session has closed.",
        item=item.position + 1, direction=direction)
    item.position, other.position = other.position, item.position
    db.session.flush()


def to_debrief(session: Session, actor) -> None:
    """End the agenda early: the items left stay pending."""
    _require_facilitator(session, actor)
    _change(session, actor, "session_debrief_started",
            (SessionState.BRIEFING, SessionState.REVEALED, SessionState.DISCUSSING),
            "Finish or skip the item being scored first.", state=SessionState.DEBRIEF,
            item_id=None)


def close(session: Session, actor) -> None:
    _require_facilitator(session, actor)
    _change(session, actor, "session_closed", (SessionState.DEBRIEF,),
            "Close the session from its debrief.", state=SessionState.CLOSED)
    session.closed_at = utcnow()
    db.session.flush()


def take_over(session: Session, actor) -> None:
    """The co-facilitator becomes the facilitator (the facilitator had to leave)."""
    if actor.id != session.co_facilitator_id:
        raise SessionError("Only the co-facilitator can take over the session.")
    previous = session.facilitator_id
    _change(session, actor, "session_taken_over", tuple(
        s for s in SessionState if s != SessionState.CLOSED), "This session has closed.",
        previous_facilitator_id=previous)
    session.facilitator_id, session.co_facilitator_id = actor.id, previous
    for row in session.participants:
        if row.user_id in (actor.id, previous):
            row.role = (ParticipantRole.FACILITATOR if row.user_id == actor.id
                        else ParticipantRole.CO_FACILITATOR)
    db.session.flush()


# --- scores --------------------------------------------------------------------------------------

def submit_phase(session: Session, item: SessionItem, user) -> str:
    """The phase a score the user gives now would be in, or a refusal."""
    if item is None or item.id != session.current_item_id:
        raise SessionStateError("No item is being scored now.")
    if session.state == SessionState.SCORING:
        return INDEPENDENT
    if session.state == SessionState.RESCORING:
        return RatingPhase.RESCORE.value
    if session.state in (SessionState.REVEALED, SessionState.DISCUSSING):
        if queries.has_submitted(item, user, INDEPENDENT):
            raise SessionStateError("Your independent scores are in; wait for the "
                                    "facilitator to start rescoring to score again.")
        return RatingPhase.POST_REVEAL.value
    raise SessionStateError("Scores are not being taken now.")


def submit_scores(session: Session, item: SessionItem, user, scores: dict[int, int],
                  comments: dict[int, str]) -> str:
    """Record the user's scores of the current item for the phase the session is in; returns
    the phase. Refused (SessionStateError) if the scores were revealed meanwhile."""
    row = queries.participant(session, user)
    if row is None or not row.role.scores:
        raise SessionError("Observers and facilitators watch; they do not score.")
    phase = submit_phase(session, item, user)
    if problem := rubric_queries.score_problem(session.rubric_version, scores, complete=True):
        raise SessionError(problem)
    seen_state = session.state
    claimed = db.session.execute(
        update(Session).where(Session.id == session.id, Session.state == seen_state,
                              Session.current_item_id == item.id)
        .values(version=Session.version + 1)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise SessionStateError("The scores were revealed just before yours arrived, so they "
                                "were not counted as independent. Reload to see the reveal; "
                                "you may still score, tagged as given after the reveal.")
    if queries.has_submitted(item, user, phase):
        raise SessionStateError("You have already submitted your scores for this item.")
    now = utcnow()
    db.session.add(SessionSubmission(item_id=item.id, user_id=user.id, phase=phase,
                                     submitted_at=now))
    tag = None if phase == INDEPENDENT else RatingPhase(phase)
    for criterion in session.rubric_version.criteria:
        ratings.record(rater_id=user.id, sample_id=item.sample_id, criterion_id=criterion.id,
                       rubric_version_id=session.rubric_version_id,
                       score=scores[criterion.id],
                       kind=RatingKind.BLIND if tag is None else RatingKind.INFORMED,
                       context_type="session", context_id=session.id, phase=tag,
                       comment=_clean(comments.get(criterion.id)), submitted_at=now)
    audit.record("session_scores_submitted", actor=user, obj=session, title=session.title,
                 item=item.position + 1, phase=phase)
    db.session.flush()
    return phase


def _clean(text: str | None) -> str | None:
    return (text or "").strip()[:TEXT_LIMIT] or None


# --- consensus -----------------------------------------------------------------------------------

def record_consensus(session: Session, actor, criterion_id: int, *, level: int | None,
                     method: ConsensusMethod, rationale: str | None, evidence: str | None
                     ) -> Consensus:
    """The agreed level of one criterion of the current item (replacing an earlier record)."""
    if not permissions.may_record_consensus(actor, session, queries.role_of(session, actor)):
        raise SessionError("Only the facilitator or the recorder records the consensus.")
    item = session.current_item
    if session.state not in (SessionState.REVEALED, SessionState.DISCUSSING,
                             SessionState.RESCORING) or item is None:
        raise SessionStateError("A consensus is recorded after the reveal.")
    criterion = next((c for c in session.rubric_version.criteria if c.id == criterion_id), None)
    if criterion is None:
        raise SessionError("That criterion is not in this session's rubric.")
    if method == ConsensusMethod.DEFERRED:
        level = None
    elif level not in {lv.score for lv in criterion.levels}:
        raise SessionError(f"Choose the agreed level of “{criterion.name}”.")
    if method != ConsensusMethod.DEFERRED and not _clean(rationale):
        raise SessionError(f"Say why the group agreed on this level of “{criterion.name}”.")
    existing = next((c for c in item.consensus if c.criterion_id == criterion_id), None)
    if existing is None:
        existing = Consensus(item=item, criterion_id=criterion_id, method=method)
        db.session.add(existing)
    existing.level, existing.method = level, method
    existing.rationale, existing.evidence = _clean(rationale), _clean(evidence)
    existing.recorded_by_id, existing.recorded_at = actor.id, utcnow()
    _change(session, actor, "session_consensus_recorded", (session.state,),
            "The session moved on meanwhile.", item=item.position + 1,
            criterion=criterion.name, level=level, method=method.value)
    return existing


def _auto_agree(session: Session, item: SessionItem) -> None:
    """Where the session allows it: a criterion whose independent scores are adjacent (or
    equal) and all on one side of the proficient cut is agreed at its most common score (the
    lower of a tie). Scores across the cut are never agreed automatically."""
    for spread in queries.distribution(session, item):
        if spread.n < 2 or spread.spread > 1 or spread.straddles_cut:
            continue
        level = max(sorted(spread.counts), key=lambda s: (spread.counts[s], -s))
        db.session.add(Consensus(item=item, criterion_id=spread.criterion.id, level=level,
                                 method=ConsensusMethod.AUTO,
                                 rationale="Adjacent scores on the same side of the "
                                           "proficient cut."))


def note_dissent(session: Session, user, criterion_id: int | None, text: str) -> DissentNote:
    """An anonymous note of disagreement: the author is not kept."""
    if queries.participant(session, user) is None:
        raise SessionError("Join the session to note a dissent.")
    if session.current_item is None or session.state not in (
            SessionState.REVEALED, SessionState.DISCUSSING, SessionState.RESCORING):
        raise SessionStateError("Dissent is noted while an item is discussed.")
    text = _clean(text)
    if not text:
        raise SessionError("Write what you disagree with.")
    note = DissentNote(item_id=session.current_item_id, criterion_id=criterion_id, text=text)
    db.session.add(note)
    db.session.flush()
    return note
