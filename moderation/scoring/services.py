"""Writes and rules for blind scoring. Services flush, never commit.

Opening a round runs the pure engine (assignment.py) and stores its plan: one RoundRater per
teacher in the pool and one QueueItem per (rater, sample), live, validity or calibration, at the
position the engine shuffled it to. Scores are Ratings: drafts (submitted_at empty) until the
rater submits; a submitted score changes only by a new revision with a reason, audit-logged.

Rules beyond the engine's, and why (who may be a rater, and who sees sample lists, is
permissions.py):
- A sample is live in one open round at a time, and anchor papers are never live work: a
  teacher would otherwise meet the same work twice and count twice in the statistics.
- Validity papers and the common calibration set come only from the calibration pool of
  anchors (samples.models.AnchorPool), never the practice pool, and never give a rater work they
  have met: a sample in their queues of open rounds, or an anchor paper they have practised on
  (met_sample_ids; anchors practised before pools existed included). The common set is drawn
  from the anchors no teacher of the pool has met, so it stays common.
- A teacher at several schools (or a teacher who coaches another school) is kept off the work
  of every school they work at: the engine assigns against one school per rater, then
  assignment.keep_off_own_schools swaps any slot that breaks this with another (loads
  unchanged).
- Validity papers avoid, per rater, anchors from the rater's own schools (their own school's
  work can never be live in their queue, so it would give the paper away). The common
  calibration set is common, except that a rater skips its papers from their own schools, for
  the same reason.
"""

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta

import numpy as np
from sqlalchemy import update

from moderation.accounts.models import Role, User
from moderation.accounts.permissions import school_ids
from moderation.core import audit, timezones
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.ratings import queries as rating_queries
from moderation.ratings import services as ratings
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import permissions as sample_permissions
from moderation.samples.models import SampleStatus
from moderation.scoring import assignment, permissions, queries
from moderation.scoring.assignment import AssignmentError, DesignReport, ItemKind
from moderation.scoring.models import (
    QueueItem,
    RoundRater,
    RoundStatus,
    ScoringRound,
)
from rubrics import queries as rubric_queries
from rubrics import services as rubric_services
from rubrics.models import RubricVersion

MAX_RATINGS_PER_SAMPLE = 10
MAX_VALIDITY_RATE = 0.5
MAX_CALIBRATION_SIZE = 20
# docs/methods.md, "School standards": schools compare through a common set of >= 5 anchors.
SCHOOL_COMPARISON_ANCHORS = 5
COMMENT_LIMIT = 2000
# The seed column is a 32-bit integer and numpy's generators take no negative seed.
MAX_SEED = 2**31 - 1
REASON_LIMIT = 1000
# A due date further ahead than this is taken for a typing slip (2062 for 2026).
MAX_DUE_AHEAD = timedelta(days=366)


SEED_MESSAGE = (f"The design's random seed must be a whole number from 0 to {MAX_SEED}. Reload "
                "the New round page to get a fresh one.")


SAVED_ELSEWHERE = ("Your scores for this sample were saved from another window at the same "
                   "moment. Reload the page to see what was kept.")


class ScoringError(ValueError):
    """A scoring request that cannot be carried out; the message is for the user."""


class ScoringStateError(ScoringError):
    """The round or item is not in a state that allows this (the view answers 409)."""


class ScoringConflict(ScoringStateError):
    """Another request changed the same scores at the same moment, and won."""


# --- planning and opening a round ----------------------------------------------------------------

@dataclass(frozen=True)
class RoundRequest:
    """What a coach asked for. Samples and raters are model rows of the round's district."""

    name: str
    version: RubricVersion
    samples: list
    raters: list
    ratings_per_sample: int = assignment.DEFAULT_RATINGS_PER_SAMPLE
    validity_rate: float = 0.1
    calibration_size: int = assignment.DEFAULT_CALIBRATION_SET_SIZE
    seed: int = 0
    due_date: date | None = None


@dataclass(frozen=True)
class PlannedItem:
    sample_id: int
    anchor_id: int | None
    kind: ItemKind


@dataclass(frozen=True)
class RoundPlan:
    """The design before it is stored: each rater's queue in order, and the design report."""

    report: DesignReport
    rater_schools: list[int | None]  # the school the engine kept each rater away from
    queues: list[list[PlannedItem]]  # by rater, in request.raters order
    calibration: tuple[int, ...]  # anchor ids of the common set

    @property
    def n_validity(self) -> int:
        return sum(item.kind == ItemKind.VALIDITY for queue in self.queues for item in queue)

    @property
    def n_calibration(self) -> int:
        return sum(item.kind == ItemKind.CALIBRATION for queue in self.queues for item in queue)

    def summary(self) -> dict:
        """The design report as plain JSON values, with the anchor counts."""
        report = {f.name: _plain(getattr(self.report, f.name)) for f in fields(self.report)}
        return {**report, "n_validity": self.n_validity, "n_calibration": self.n_calibration,
                "calibration_set": len(self.calibration)}


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def due_date_problem(due: date | None, today: date) -> str | None:
    """Why `due` cannot be a new round's due date when it is `today` in its district, or None.
    No due date is fine; a day in the past is not (the round would open overdue), nor one more
    than a year ahead."""
    if due is None:
        return None
    if due < today:
        return (f"The due date {due.day} {due:%B %Y} has passed; choose today or a later day, "
                f"or leave it empty.")
    if due > today + MAX_DUE_AHEAD:
        return (f"The due date {due.day} {due:%B %Y} is more than a year away; check the year, "
                f"or leave it empty.")
    return None


def round_version(versions: list[RubricVersion], wanted_id: int | None
                  ) -> RubricVersion | None:
    """The rubric version a new round is for: the one asked for if it is among `versions`,
    else by default the one with the most work ready to score."""
    wanted = next((v for v in versions if v.id == wanted_id), None)
    if wanted is not None or not versions:
        return wanted
    counts = queries.ready_sample_counts([v.id for v in versions])
    return max(versions, key=lambda v: counts.get(v.id, 0))


def chosen_pool(candidates: list[queries.Candidate], ticked_raters: Iterable[int],
                ticked_schools: Iterable[int]) -> list[User]:
    """The teachers a coach chose for a round's pool: those ticked, less those who may not be in
    it (Candidate.excluded), and only of the ticked schools: unticking a school takes its
    teachers out without unticking each one."""
    chosen, schools = set(ticked_raters), set(ticked_schools)
    return [c.user for c in candidates
            if not c.excluded and c.user.id in chosen and c.school.id in schools]


def _check_request(district, request: RoundRequest, actor) -> str:
    name = (request.name or "").strip()
    if not name:
        raise ScoringError("Give the round a name, e.g. “Opinion writing, spring term”.")
    if len(name) > 200:
        raise ScoringError("Keep the round's name under 200 characters.")
    version = request.version
    if version.rubric.district_id != district.id:
        raise ScoringError("That rubric belongs to another district.")
    if problems := rubric_queries.version_problems(version):
        raise ScoringError(f"{version.label} is not ready for scoring: {problems[0]}")
    _check_samples(district, version, request.samples)
    if not request.raters:
        raise ScoringError("Choose the teachers who will score.")
    for rater in request.raters:
        if reason := permissions.pool_exclusion(rater, district.id, actor):
            raise ScoringError(f"{rater.display_name} {reason}; leave them out of the pool.")
    n = request.ratings_per_sample
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RATINGS_PER_SAMPLE:
        raise ScoringError(f"Ratings per sample must be a whole number from 1 to "
                           f"{MAX_RATINGS_PER_SAMPLE}.")
    if not 0 <= request.validity_rate <= MAX_VALIDITY_RATE:
        raise ScoringError(f"The validity-paper rate must be from 0 to "
                           f"{MAX_VALIDITY_RATE:.0%} of a queue.")
    if not 0 <= request.calibration_size <= MAX_CALIBRATION_SIZE:
        raise ScoringError(f"The calibration set can have 0 to {MAX_CALIBRATION_SIZE} papers.")
    seed = request.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ScoringError(SEED_MESSAGE)
    if problem := due_date_problem(request.due_date, timezones.today_in(district.time_zone)):
        raise ScoringError(problem)
    return name


def _check_samples(district, version: RubricVersion, samples) -> None:
    if not samples:
        raise ScoringError("Choose at least one work sample to score.")
    in_rounds = queries.open_rounds_of([s.id for s in samples])
    for sample in samples:
        if sample.rubric_version_id != version.id or sample.school.district_id != district.id:
            raise ScoringError(f"{sample.code} is not a sample of {version.label}.")
        if sample.status != SampleStatus.READY:
            raise ScoringError(f"{sample.code} is {sample.status.label.lower()}, so it cannot be "
                               f"scored blind.")
        if any(anchor.rubric_version_id == version.id for anchor in sample.anchors):
            raise ScoringError(f"{sample.code} is an anchor paper of {version.label}; anchors "
                               f"come into rounds as validity or calibration papers, never as "
                               f"live work.")
        if sample.id in in_rounds:
            raise ScoringError(f"{sample.code} is already being scored in “{in_rounds[sample.id]}”"
                               f"; a sample is in one open round at a time. Leave it out, or "
                               f"close that round first.")


def _staff_schools(user, district) -> set[int]:
    """The district's schools where the user teaches or coaches: their own work is there."""
    district_schools = {s.id for s in district.schools}
    return sample_permissions.staff_school_ids(user) & district_schools


def _primary_school(user, staff: set[int]) -> int:
    teaching = sorted(school_ids(user, Role.TEACHER) & staff)
    return teaching[0] if teaching else min(staff)


def plan_round(district, request: RoundRequest, actor=None) -> RoundPlan:
    """The design a round would get: assignment, calibration set, validity papers, queue order.

    Deterministic for a given request and seed, so the preview a coach sees is the design that
    opening the round stores. `actor` is who would open it (kept out of its pool). Raises
    ScoringError with a message for the coach.
    """
    _check_request(district, request, actor)
    rng = np.random.default_rng(request.seed)
    samples = sorted(request.samples, key=lambda s: s.id)
    raters = sorted(request.raters, key=lambda u: u.id)
    staff = [_staff_schools(r, district) for r in raters]
    primary = [_primary_school(r, s) for r, s in zip(raters, staff, strict=True)]
    sample_schools = [s.school_id for s in samples]
    try:
        plan = assignment.assign_raters(sample_schools, primary, request.ratings_per_sample,
                                        rng=rng)
    except AssignmentError as error:
        raise ScoringError(_named_schools(str(error), samples)) from error
    try:
        plan = assignment.keep_off_own_schools(plan, sample_schools, primary, staff, rng)
    except assignment.OwnSchoolConflict as error:
        raise ScoringError(f"{raters[error.rater].display_name} works at more than one school "
                           f"of this round, and no exchange keeps them off their own schools' "
                           f"work. Leave them out of the pool.") from error

    anchors = queries.calibration_anchors(request.version)
    met = queries.met_sample_ids([r.id for r in raters])
    calibration = _calibration_set(request, anchors, met, rng)
    pool = [a for a in anchors if a.id not in calibration]
    live = [[] for _ in raters]
    for s, row in enumerate(plan.raters.tolist()):
        for r in row:
            live[r].append(samples[s].id)
    validity = _validity_papers(request, raters, staff, live, pool, calibration, met, rng)
    anchor_school = {a.id: a.sample.school_id for a in anchors}
    anchor_sample = {a.id: a.sample_id for a in anchors}
    queues = []
    for r in range(len(raters)):
        own_calibration = [a for a in calibration if anchor_school[a] not in staff[r]]
        order = assignment.queue_order(
            [(sample_id, None) for sample_id in live[r]],
            [(anchor_sample[a], a) for a in validity[r]],
            [(anchor_sample[a], a) for a in own_calibration], rng)
        queues.append([PlannedItem(item.item_id[0], item.item_id[1], item.kind)
                       for item in order])
    return RoundPlan(report=plan.report, rater_schools=primary, queues=queues,
                     calibration=tuple(calibration))


def _named_schools(message: str, samples) -> str:
    """The engine names a school by the id it was given; the coach knows it by its name."""
    for sample in samples:
        message = message.replace(f"school {sample.school_id} ", f"{sample.school.name} ")
    return message


def _calibration_set(request: RoundRequest, anchors, met, rng) -> tuple[int, ...]:
    """The common set, from the calibration anchors no teacher of the pool has met."""
    unmet = queries.unmet_anchors(anchors, met)
    size = request.calibration_size
    if size > len(unmet):
        raise ScoringError(
            f"The common calibration set needs {size} anchor paper{'s' if size != 1 else ''}, "
            f"but this rubric version has only {len(unmet)} agreed anchors in its calibration "
            f"pool that no teacher of the pool has practised or met in another open round. "
            f"Promote more anchors for calibration, or choose a smaller set.")
    return assignment.common_calibration_set([a.id for a in unmet], size, rng)


def _validity_papers(request: RoundRequest, raters, staff, live, pool, calibration, met, rng
                     ) -> list[list[int]]:
    if request.validity_rate <= 0:
        return [[] for _ in raters]
    if not pool and not calibration:
        raise ScoringError("Validity papers come from the calibration pool of anchor papers, "
                           "and this rubric version has none yet. Promote anchors for "
                           "calibration, or set the validity rate to 0.")
    if not pool:
        raise ScoringError(f"All {len(calibration)} anchor papers of this rubric version are in "
                           f"the calibration set, so none is left to seed as a validity paper. "
                           f"Choose a smaller calibration set or set the validity rate to 0.")
    try:
        planned = assignment.plan_validity_papers([len(q) for q in live], request.validity_rate,
                                                  [a.id for a in pool], rng)
    except AssignmentError as error:
        raise ScoringError(str(error)) from error
    papers = []
    for r, chosen in enumerate(planned):
        allowed = [a.id for a in pool if a.sample.school_id not in staff[r]
                   and a.sample_id not in met[raters[r].id]]
        keep = [a for a in chosen if a in allowed]
        spare = [a for a in rng.permutation(allowed).tolist() if a not in keep]
        papers.append(keep + spare[:len(chosen) - len(keep)])
    return papers


def open_round(district, actor, request: RoundRequest) -> ScoringRound:
    """Plan and store a round in one go: its pool, every rater's queue, and the audit event.
    Freezes the rubric version, since scores will be given against its descriptors."""
    name = _check_request(district, request, actor)
    if queries.round_name_taken(district.id, name):
        raise ScoringError(f"{district.name} already has a round called “{name}”.")
    plan = plan_round(district, request, actor)
    version = request.version
    rubric_services.freeze_version(version, reason=f"scoring round {name}")
    scoring_round = ScoringRound(
        district_id=district.id, rubric_version_id=version.id, name=name,
        status=RoundStatus.OPEN, ratings_per_sample=request.ratings_per_sample,
        validity_rate=float(request.validity_rate), calibration_size=request.calibration_size,
        seed=int(request.seed), due_date=request.due_date, design=plan.summary(),
        opened_by_id=actor.id)
    db.session.add(scoring_round)
    db.session.flush()
    raters = sorted(request.raters, key=lambda u: u.id)
    for rater, school_id, queue in zip(raters, plan.rater_schools, plan.queues, strict=True):
        db.session.add(RoundRater(round_id=scoring_round.id, user_id=rater.id,
                                  school_id=school_id))
        db.session.add_all([
            QueueItem(token=secrets.token_urlsafe(16), round_id=scoring_round.id,
                      rater_id=rater.id, sample_id=item.sample_id, anchor_id=item.anchor_id,
                      kind=item.kind, position=position)
            for position, item in enumerate(queue, start=1)])
    audit.record("scoring_round_opened", actor=actor, obj=scoring_round, name=name,
                 rubric_version_id=version.id, samples=len(request.samples),
                 raters=len(raters), ratings_per_sample=request.ratings_per_sample,
                 validity_rate=request.validity_rate, calibration_size=request.calibration_size,
                 due_date=request.due_date.isoformat() if request.due_date else None,
                 design=plan.summary())
    db.session.flush()
    return scoring_round


# Told in close_round's transaction that a round closed (create_app registers analysis, which
# queues the round's analysis run; it starts once the close is committed).
ROUND_CLOSED: list[Callable[[ScoringRound, object], None]] = []


def register_round_closed(listener: Callable[[ScoringRound, object], None]) -> None:
    """Add `listener` to ROUND_CLOSED once, however many apps create_app() builds."""
    if listener not in ROUND_CLOSED:
        ROUND_CLOSED.append(listener)


def close_round(scoring_round: ScoringRound, actor) -> None:
    """Close an open round: queues empty, unsubmitted items stay unscored."""
    if not scoring_round.is_open:
        raise ScoringStateError(f"“{scoring_round.name}” is already closed.")
    totals = queries.round_totals(scoring_round)
    scoring_round.status = RoundStatus.CLOSED
    scoring_round.closed_at = utcnow()
    scoring_round.closed_by_id = actor.id
    audit.record("scoring_round_closed", actor=actor, obj=scoring_round, name=scoring_round.name,
                 assigned=totals["assigned"], done=totals["done"])
    db.session.flush()
    for listener in ROUND_CLOSED:
        listener(scoring_round, actor)


# --- scoring a queue item ------------------------------------------------------------------------

def _clean(value: str | None, limit: int) -> str | None:
    return (value or "").strip()[:limit] or None


def _check_scores(version: RubricVersion, scores: dict[int, int], comments: dict[int, str],
                  *, complete: bool) -> None:
    if set(comments) - {c.id for c in version.criteria}:
        raise ScoringError("Some scores are for criteria of another rubric version.")
    if problem := rubric_queries.score_problem(version, scores, complete=complete):
        raise ScoringError(problem)
    for criterion in version.criteria:
        if criterion.id not in scores and _clean(comments.get(criterion.id), COMMENT_LIMIT):
            raise ScoringError(f"Choose a level for “{criterion.name}” to keep its comment.")


def _check_open(item: QueueItem) -> None:
    if not item.round.is_open:
        raise ScoringStateError(f"“{item.round.name}” is closed; its scores can no longer "
                                f"change.")


def _record(item: QueueItem, criterion_id: int, score: int, comment: str | None,
            submitted_at=None) -> Rating:
    return ratings.record(rater_id=item.rater_id, sample_id=item.sample_id,
                          criterion_id=criterion_id,
                          rubric_version_id=item.round.rubric_version_id, score=score,
                          kind=RatingKind.BLIND, context_type="round", context_id=item.round_id,
                          queue_item_id=item.id, comment=comment, submitted_at=submitted_at)


def _or_read(item: QueueItem, current: dict[int, Rating] | None) -> dict[int, Rating]:
    return queries.current_ratings(item) if current is None else current


def _claim_unsubmitted(item: QueueItem, current: dict[int, Rating], **values
                       ) -> dict[int, Rating] | None:
    """Set `values` on the item if it is still unsubmitted: a compare-and-set, so of two
    simultaneous requests for the item exactly one finds it so, and a draft and a submit
    cannot interleave. Returns the item's current ratings under the claim: `current` (what
    the request read) when no draft has been saved since the item was loaded, else read
    afresh (another window saved one at the same moment). None when the item is submitted."""
    unsubmitted = (QueueItem.id == item.id, QueueItem.submitted_at.is_(None))
    as_loaded = (QueueItem.draft_saved_at.is_(None) if item.draft_saved_at is None
                 else QueueItem.draft_saved_at == item.draft_saved_at)
    if db.session.execute(update(QueueItem).where(*unsubmitted, as_loaded)
                          .values(**values)).rowcount == 1:
        return current
    if db.session.execute(update(QueueItem).where(*unsubmitted).values(**values)).rowcount == 1:
        return queries.current_ratings(item, afresh=True)
    return None


def save_draft(item: QueueItem, rater, scores: dict[int, int], comments: dict[int, str],
               current: dict[int, Rating] | None = None) -> None:
    """Keep the levels chosen so far (any number of criteria) with their comments. `current`
    is the item's current ratings if the caller has read them (queries.current_ratings)."""
    _check_open(item)
    version = item.round.rubric_version
    _check_scores(version, scores, comments, complete=False)
    if not scores:
        raise ScoringError("Choose a level for at least one criterion, then save the draft.")
    current = _claim_unsubmitted(item, _or_read(item, current), draft_saved_at=utcnow())
    if current is None:
        raise ScoringStateError(f"You have already submitted your scores for "
                                f"{item.sample.code}.")
    for criterion_id, score in scores.items():
        comment = _clean(comments.get(criterion_id), COMMENT_LIMIT)
        draft = current.get(criterion_id)
        if draft is None:
            _record(item, criterion_id, score, comment)
        else:
            ratings.amend_draft(draft, score, comment)
    db.session.flush()


def matches(current: dict[int, Rating], scores: dict[int, int], comments: dict[int, str]
            ) -> bool:
    """Whether these current ratings are exactly these scores and comments."""
    return set(current) == set(scores) and all(
        current[c].score == scores[c]
        and (current[c].comment or None) == _clean(comments.get(c), COMMENT_LIMIT)
        for c in scores)


def stored_by_twin(item: QueueItem, scores: dict[int, int], comments: dict[int, str]) -> bool:
    """After this request lost a race for the item to a simultaneous one (its commit refused,
    or its revision found the ratings replaced) and rolled back: whether the winner stored
    exactly these scores and comments, as a double click or a retry does. Then this request
    may answer as the winner did; otherwise the rater must reload and see what was kept."""
    db.session.refresh(item)
    return item.is_submitted and matches(queries.current_ratings(item, afresh=True), scores,
                                         comments)


def submit_item(item: QueueItem, rater, scores: dict[int, int], comments: dict[int, str],
                current: dict[int, Rating] | None = None) -> bool:
    """Submit a score for every criterion. `current` is the item's current ratings if the
    caller has read them (queries.current_ratings). Returns True when this call submitted them,
    False when the very same scores were already submitted (a double click or a retry: same
    result). Different scores for a submitted item raise ScoringStateError: that is a
    revision."""
    _check_open(item)
    version = item.round.rubric_version
    _check_scores(version, scores, comments, complete=True)
    now = utcnow()
    claimed = None
    if item.submitted_at is None:
        claimed = _claim_unsubmitted(item, _or_read(item, current), submitted_at=now)
        if claimed is None:  # submitted a moment ago, by a simultaneous request
            current = queries.current_ratings(item, afresh=True)
    if claimed is None:
        if matches(_or_read(item, current), scores, comments):
            return False
        raise ScoringStateError(
            f"You have already submitted your scores for {item.sample.code}. To change one, "
            f"choose “Change my scores” and say why.")
    for criterion in version.criteria:
        score = scores[criterion.id]
        comment = _clean(comments.get(criterion.id), COMMENT_LIMIT)
        draft = claimed.get(criterion.id)
        if draft is None:
            _record(item, criterion.id, score, comment, submitted_at=now)
        else:
            ratings.amend_draft(draft, score, comment, submitted_at=now)
    audit.record("blind_scores_submitted", actor=rater, obj=item, round_id=item.round_id,
                 code=item.sample.code)
    db.session.flush()
    return True


def revise_item(item: QueueItem, rater, scores: dict[int, int], comments: dict[int, str],
                reason: str | None, current: dict[int, Rating] | None = None) -> int:
    """Change submitted scores: each changed criterion gets a new current rating pointing at
    the one it replaces, with the reason; the old one is kept, no longer current. `current`
    is the item's current ratings if the caller has read them (queries.current_ratings).
    Returns the number of criteria changed (0 when nothing differs)."""
    _check_open(item)
    if item.submitted_at is None:
        raise ScoringStateError(f"Submit your scores for {item.sample.code} first; until then "
                                f"you can change them freely.")
    reason = _clean(reason, REASON_LIMIT)
    if not reason:
        raise ScoringError("Say why you are changing a submitted score; it is kept with the "
                           "change.")
    version = item.round.rubric_version
    _check_scores(version, scores, comments, complete=True)
    current = _or_read(item, current)
    changes = {}
    for criterion in version.criteria:
        old = current[criterion.id]
        score, comment = scores[criterion.id], _clean(comments.get(criterion.id), COMMENT_LIMIT)
        if old.score != score or (old.comment or None) != comment:
            changes[criterion.id] = (old, score, comment)
    if not changes:
        return 0
    _claim_for_revision(item, {c: r.id for c, r in current.items()})
    now = utcnow()
    for old, score, comment in changes.values():
        ratings.revise(old, score, comment=comment, reason=reason, submitted_at=now)
    audit.record("blind_scores_revised", actor=rater, obj=item, round_id=item.round_id,
                 code=item.sample.code, reason=reason,
                 changes={str(c): [old.score, score] for c, (old, score, _) in changes.items()})
    db.session.flush()
    return len(changes)


def _claim_for_revision(item: QueueItem, seen: dict[int, int]) -> None:
    """Lock the item for this revision, then make sure the ratings it was based on are still
    the current ones. Of two simultaneous revisions the second waits here for the first to
    commit (the row lock on PostgreSQL, the write lock on SQLite), then finds its ratings
    replaced and stops with a conflict, as a second simultaneous submit does."""
    db.session.execute(update(QueueItem).where(QueueItem.id == item.id)
                       .values(submitted_at=QueueItem.submitted_at))
    if rating_queries.current_ids_by_criterion(Rating.queue_item_id == item.id) != seen:
        raise ScoringConflict(SAVED_ELSEWHERE)
