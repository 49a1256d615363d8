"""Reads for blind scoring: rounds, queues, and who may see what.

Everything a rater can reach is filtered here by the rater's own id: their queue items and
their own ratings. Nothing here returns another rater's score to a rater; round pages get
counts (round_progress), never scores.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy import and_, case, false, func
from sqlalchemy.orm import joinedload, selectinload

from moderation.accounts.models import Membership, Role, School, User
from moderation.core import timezones
from moderation.core.extensions import db
from moderation.ratings import queries as rating_queries
from moderation.ratings.models import Rating
from moderation.samples.models import Anchor, AnchorPool, SampleStatus, WorkSample
from moderation.scoring import permissions
from moderation.scoring.models import (
    ItemKind,
    QueueItem,
    RoundRater,
    RoundStatus,
    ScoringRound,
)
from rubrics import queries as rubric_queries
from rubrics.models import Criterion, RubricVersion

# --- who runs rounds ---------------------------------------------------------------------------

def rounds_for(user) -> list[ScoringRound]:
    """Rounds of the user's districts: open ones first, then newest first."""
    return list(db.session.execute(
        db.select(ScoringRound)
        .where(ScoringRound.district_id.in_(permissions.managed_district_ids(user)))
        .options(selectinload(ScoringRound.rubric_version).selectinload(RubricVersion.rubric))
        .order_by(case((ScoringRound.status == RoundStatus.OPEN, 0), else_=1),
                  ScoringRound.opened_at.desc(), ScoringRound.id.desc())
    ).scalars())


def rounds_for_district(district_id: int) -> list[ScoringRound]:
    return list(db.session.execute(
        db.select(ScoringRound).where(ScoringRound.district_id == district_id)
        .order_by(ScoringRound.id)).scalars())


def round_name_taken(district_id: int, name: str) -> bool:
    return db.session.scalar(db.select(func.count(ScoringRound.id)).where(
        ScoringRound.district_id == district_id, ScoringRound.name == name)) > 0


# --- what a round can be made of ---------------------------------------------------------------

def round_versions(district_id: int) -> list[RubricVersion]:
    """Rubric versions complete enough to score, of the district's rubrics."""
    return rubric_queries.versions_for_district(district_id, ready_only=True)


def _live_in(status: RoundStatus):
    """Ids of the samples that are (or were) live work in a round of this status."""
    return (db.select(QueueItem.sample_id).join(ScoringRound)
            .where(ScoringRound.status == status, QueueItem.kind == ItemKind.LIVE))


class RoundHistory(StrEnum):
    """Where a sample stands with rounds, as the New round form filters by it. A sample is live
    in one open round at a time, so OPEN samples are listed but never choosable."""

    AVAILABLE = "available"  # not in an open round: never scored, or scored in a closed one
    NEVER = "never"  # never live work in a round
    CLOSED = "closed"  # live work of a closed round, not in an open one
    OPEN = "open"

    @property
    def label(self) -> str:
        return {"available": "Not in an open round", "never": "Never scored in a round",
                "closed": "Scored in a closed round", "open": "In an open round"}[self.value]


@dataclass(frozen=True)
class SampleFilter:
    """What the New round form's sample list is narrowed to. Dates are of the upload, both
    ends included, days of `zone`."""

    version_id: int
    zone: tzinfo = UTC
    school_id: int | None = None
    grade_band: str | None = None
    uploaded_from: date | None = None
    uploaded_to: date | None = None
    history: RoundHistory = RoundHistory.AVAILABLE


@dataclass(frozen=True)
class SampleSelection:
    """The samples a coach chose: the ticked ids, or every choosable sample matching the filter
    (resolved when the round opens) except the unticked ids."""

    all_matching: bool = False
    ids: frozenset[int] = frozenset()


def grade_bands(schools: list[School]) -> list[str]:
    """The grade bands of these schools, youngest first (bands naming no grade last)."""
    bands = {s.grade_band for s in schools if s.grade_band}
    return sorted(bands, key=lambda band: (rubric_queries.grade_span(band) or (99, 99), band))


def _start_in_utc(day: date, zone: tzinfo, *, days_after: int = 0) -> datetime | None:
    """The UTC instant where `day` (or the day `days_after` it) begins in `zone`; None past
    either end of the calendar, where it bounds nothing."""
    try:
        return timezones.local_to_utc(datetime.combine(day + timedelta(days=days_after),
                                                       time.min), zone)
    except OverflowError:
        return None


def _matching(district_id: int, f: SampleFilter, *, choosable: bool = False) -> list:
    """Conditions on WorkSample (joined to School) for the samples of `f`: ready samples of
    the version at the district's schools, its anchor papers left out (they come into rounds as
    validity or calibration papers). `choosable` also leaves out those in an open round."""
    anchored = db.select(Anchor.sample_id).where(Anchor.rubric_version_id == f.version_id)
    conditions = [WorkSample.rubric_version_id == f.version_id,
                  WorkSample.status == SampleStatus.READY, School.district_id == district_id,
                  WorkSample.id.not_in(anchored)]
    if f.school_id is not None:
        conditions.append(WorkSample.school_id == f.school_id)
    if f.grade_band:
        conditions.append(School.grade_band == f.grade_band)
    # Both days included: from the start of the first to the start of the day after the last.
    if f.uploaded_from and (start := _start_in_utc(f.uploaded_from, f.zone)):
        conditions.append(WorkSample.created_at >= start)
    if f.uploaded_to and (end := _start_in_utc(f.uploaded_to, f.zone, days_after=1)):
        conditions.append(WorkSample.created_at < end)
    in_open = WorkSample.id.in_(_live_in(RoundStatus.OPEN))
    if f.history == RoundHistory.OPEN:
        conditions.append(in_open)
    else:
        conditions.append(~in_open)
    if f.history == RoundHistory.NEVER:
        conditions.append(WorkSample.id.not_in(_live_in(RoundStatus.CLOSED)))
    elif f.history == RoundHistory.CLOSED:
        conditions.append(WorkSample.id.in_(_live_in(RoundStatus.CLOSED)))
    if choosable and f.history == RoundHistory.OPEN:
        conditions.append(false())
    return conditions


def _count(conditions) -> int:
    return db.session.scalar(db.select(func.count(WorkSample.id))
                             .join(School, School.id == WorkSample.school_id).where(*conditions))


@dataclass(frozen=True)
class SampleRow:
    sample: WorkSample
    open_round: str | None  # the open round it is live in: it cannot be chosen
    scored_before: bool  # live work of a closed round


@dataclass(frozen=True)
class SamplePage:
    """One page of the New round form's sample list, with the counts it shows."""

    rows: list[SampleRow]
    matching: int  # samples matching the filter
    in_open_rounds: int  # samples matching every filter but history, left out: in an open round
    page: int
    pages: int
    selected: int  # chosen samples that a round could take (SampleSelection, resolved now)

    @property
    def choosable(self) -> bool:
        return any(row.open_round is None for row in self.rows)


def round_sample_page(district_id: int, f: SampleFilter, selection: SampleSelection,
                      page: int = 1, per_page: int = 50) -> SamplePage:
    """The samples of `f` by school then code, `per_page` at a time (a page past the end is
    the last one), with the counts: a fixed number of statements whatever the district's size.
    """
    conditions = _matching(district_id, f)
    matching = _count(conditions)
    in_open = 0
    if f.history != RoundHistory.OPEN:
        in_open = _count(_matching(district_id, replace(f, history=RoundHistory.OPEN)))
    pages = max(1, -(-matching // per_page))
    page = min(max(page, 1), pages)
    samples = list(db.session.execute(
        db.select(WorkSample).join(School, School.id == WorkSample.school_id).where(*conditions)
        .options(selectinload(WorkSample.school))
        .order_by(School.name, WorkSample.code).limit(per_page).offset((page - 1) * per_page)
    ).scalars())
    rounds = _rounds_of([s.id for s in samples])
    rows = [SampleRow(s, rounds.get(s.id, {}).get(RoundStatus.OPEN),
                      RoundStatus.CLOSED in rounds.get(s.id, {})) for s in samples]
    return SamplePage(rows, matching, in_open, page, pages,
                      _count_selected(district_id, f, selection))


def _rounds_of(sample_ids: list[int]) -> dict[int, dict[RoundStatus, str]]:
    """For each of these samples, a round name per status of the rounds it is live work in."""
    result: dict[int, dict[RoundStatus, str]] = {}
    if not sample_ids:
        return result
    for sample_id, status, name in db.session.execute(
            db.select(QueueItem.sample_id, ScoringRound.status, ScoringRound.name)
            .join(ScoringRound).where(QueueItem.kind == ItemKind.LIVE,
                                      QueueItem.sample_id.in_(sample_ids)).distinct()):
        result.setdefault(sample_id, {})[RoundStatus(status)] = name
    return result


def _chosen(district_id: int, f: SampleFilter, selection: SampleSelection) -> list:
    """Conditions for the samples chosen that a round could take now: ticked ones of the
    version not in an open round (whatever the filter), or all choosable ones matching it
    but the unticked."""
    if selection.all_matching:
        return [*_matching(district_id, f, choosable=True), WorkSample.id.not_in(selection.ids)]
    return [*_matching(district_id, SampleFilter(f.version_id), choosable=True),
            WorkSample.id.in_(selection.ids)]


def _count_selected(district_id: int, f: SampleFilter, selection: SampleSelection) -> int:
    if not selection.all_matching and not selection.ids:
        return 0
    return _count(_chosen(district_id, f, selection))


def chosen_samples(district_id: int, f: SampleFilter, selection: SampleSelection
                   ) -> list[WorkSample]:
    """The samples a round takes: every choosable sample of an all-matching selection, resolved
    now; for ticked ones, each ticked sample, even one that can no longer be taken (opened in
    another round since), so that the round's checks say why."""
    if not selection.all_matching:
        return samples_by_ids(sorted(selection.ids))
    return list(db.session.execute(
        db.select(WorkSample).join(School, School.id == WorkSample.school_id)
        .where(*_chosen(district_id, f, selection))
        .options(selectinload(WorkSample.school), selectinload(WorkSample.anchors))
        .order_by(WorkSample.id)).scalars())


def round_candidate_count(district_id: int, version: RubricVersion) -> int:
    """How many samples a round of `version` could take now."""
    return _count(_matching(district_id, SampleFilter(version.id)))


def samples_by_ids(sample_ids: list[int]) -> list[WorkSample]:
    return list(db.session.execute(
        db.select(WorkSample).where(WorkSample.id.in_(sample_ids))
        .options(selectinload(WorkSample.school), selectinload(WorkSample.anchors))).scalars())


def open_rounds_of(sample_ids: list[int]) -> dict[int, str]:
    """For each of these samples that is live in an open round, that round's name."""
    return dict(db.session.execute(
        db.select(QueueItem.sample_id, ScoringRound.name).join(ScoringRound)
        .where(ScoringRound.status == RoundStatus.OPEN, QueueItem.kind == ItemKind.LIVE,
               QueueItem.sample_id.in_(sample_ids)).distinct()).all())


def ready_sample_counts(version_ids: list[int]) -> dict[int, int]:
    """Ready samples per rubric version (anchor papers included), for choosing a default."""
    return dict(db.session.execute(
        db.select(WorkSample.rubric_version_id, func.count(WorkSample.id))
        .where(WorkSample.rubric_version_id.in_(version_ids),
               WorkSample.status == SampleStatus.READY)
        .group_by(WorkSample.rubric_version_id)).all())


@dataclass(frozen=True)
class Candidate:
    """A teacher of the district who could join a round's pool; `excluded` says why not."""

    user: User
    school: School
    excluded: str | None = None


def round_candidate_raters(district_id: int, opened_by=None) -> list[Candidate]:
    """Each active teacher of the district once (with their first school by name), by school
    then name; those who may not be in a pool opened by `opened_by` are marked excluded, with
    the reason (permissions.pool_exclusion)."""
    rows = db.session.execute(
        db.select(User, School).join(Membership, Membership.user_id == User.id)
        .join(School, School.id == Membership.school_id)
        .where(Membership.role == Role.TEACHER, Membership.district_id == district_id,
               User.deactivated_at.is_(None))
        .order_by(School.name, User.display_name, User.id)
    ).all()
    seen, candidates = set(), []
    for user, school in rows:
        if user.id in seen:
            continue
        seen.add(user.id)
        candidates.append(Candidate(user, school,
                                    permissions.pool_exclusion(user, district_id, opened_by)))
    return candidates


def calibration_anchors(version: RubricVersion) -> list[Anchor]:
    """Anchor papers of the version kept for rounds (the calibration pool), whose sample is
    still in use, oldest first."""
    return list(db.session.execute(
        db.select(Anchor).join(WorkSample, WorkSample.id == Anchor.sample_id)
        .where(Anchor.rubric_version_id == version.id, Anchor.pool == AnchorPool.CALIBRATION,
               WorkSample.status != SampleStatus.ARCHIVED)
        .options(selectinload(Anchor.sample))
        .order_by(Anchor.id)
    ).scalars())


# Other sources of work a user has met elsewhere, registered from create_app (scoring cannot
# import the packages above it): practice registers "the anchor papers they have practised on",
# whose agreed scores they have seen. Each takes user ids and returns user id -> sample ids.
MET_SAMPLES: list[Callable[[list[int]], dict[int, set[int]]]] = []


def register_met_samples(source: Callable[[list[int]], dict[int, set[int]]]) -> None:
    """Add `source` to MET_SAMPLES once, however many apps create_app() builds."""
    if source not in MET_SAMPLES:
        MET_SAMPLES.append(source)


def met_sample_ids(user_ids: list[int]) -> dict[int, set[int]]:
    """For each user, the work they have met: every sample in their queues of open rounds, and
    what MET_SAMPLES adds (the anchor papers they have practised on). A round gives nobody this
    work again."""
    result: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
    if not user_ids:
        return result
    for user_id, sample_id in db.session.execute(
            db.select(QueueItem.rater_id, QueueItem.sample_id).distinct().join(ScoringRound)
            .where(QueueItem.rater_id.in_(user_ids), ScoringRound.status == RoundStatus.OPEN)):
        result[user_id].add(sample_id)
    for source in MET_SAMPLES:
        for user_id, sample_ids in source(user_ids).items():
            result[user_id] |= sample_ids
    return result


def unmet_anchors(anchors: list[Anchor], met: dict[int, set[int]]) -> list[Anchor]:
    """The anchors none of these users has met (met_sample_ids): those a common calibration
    set can be drawn from."""
    seen = set().union(*met.values()) if met else set()
    return [a for a in anchors if a.sample_id not in seen]


def unmet_calibration_count(version: RubricVersion, user_ids: list[int]) -> int:
    """How many calibration anchors of the version none of these users has met: the most a
    common calibration set of a round with them as its pool can have."""
    return len(unmet_anchors(calibration_anchors(version), met_sample_ids(user_ids)))


# --- a round's page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RaterProgress:
    user: User
    school: School | None
    assigned: int
    done: int
    drafts: int


def round_progress(scoring_round: ScoringRound) -> list[RaterProgress]:
    """Counts per rater of the round (items assigned, submitted, with a saved draft): counts
    only, never scores. Items of archived samples that were never submitted are left out."""
    counts = {
        rater_id: (assigned, done, drafts)
        for rater_id, assigned, done, drafts in db.session.execute(
            db.select(QueueItem.rater_id, func.count(QueueItem.id),
                      func.count(QueueItem.submitted_at),
                      func.count(case((and_(QueueItem.submitted_at.is_(None),
                                            QueueItem.draft_saved_at.is_not(None)), 1))))
            .join(WorkSample, WorkSample.id == QueueItem.sample_id)
            .where(QueueItem.round_id == scoring_round.id, _not_withdrawn())
            .group_by(QueueItem.rater_id))
    }
    raters = db.session.execute(
        db.select(RoundRater).where(RoundRater.round_id == scoring_round.id)
        # Names only: the raters' memberships (loaded with a user by default) are not needed.
        .options(selectinload(RoundRater.user).lazyload(User.memberships),
                 selectinload(RoundRater.school))
    ).scalars()
    rows = [RaterProgress(r.user, r.school, *counts.get(r.user_id, (0, 0, 0))) for r in raters]
    return sorted(rows, key=lambda row: (row.school.name if row.school else "",
                                         row.user.display_name))


def round_totals(scoring_round: ScoringRound) -> dict[str, int]:
    """Items of the round by kind, and how many are done (for the coach's round page)."""
    totals = {"live": 0, "validity": 0, "calibration": 0, "assigned": 0, "done": 0,
              "samples": 0}
    for kind, n, done in db.session.execute(
            db.select(QueueItem.kind, func.count(QueueItem.id), func.count(QueueItem.submitted_at))
            .join(WorkSample, WorkSample.id == QueueItem.sample_id)
            .where(QueueItem.round_id == scoring_round.id, _not_withdrawn())
            .group_by(QueueItem.kind)):
        totals[ItemKind(kind).value] = n
        totals["assigned"] += n
        totals["done"] += done
    totals["samples"] = db.session.scalar(
        db.select(func.count(func.distinct(QueueItem.sample_id)))
        .where(QueueItem.round_id == scoring_round.id, QueueItem.kind == ItemKind.LIVE))
    # Left out of the counts above: the unsubmitted items of raters since deactivated.
    totals["withdrawn"] = db.session.scalar(
        db.select(func.count(QueueItem.id))
        .where(QueueItem.round_id == scoring_round.id, QueueItem.withdrawn_at.is_not(None),
               QueueItem.submitted_at.is_(None)))
    return totals


def _not_withdrawn():
    """Items still in play: submitted ones always count; pending ones of archived samples, or
    of a rater whose account was deactivated, not."""
    return (QueueItem.submitted_at.is_not(None)) | (
        (WorkSample.status != SampleStatus.ARCHIVED) & QueueItem.withdrawn_at.is_(None))


# --- a rater's queue -----------------------------------------------------------------------------

def _open_items(user):
    return (
        db.select(QueueItem)
        .join(ScoringRound, ScoringRound.id == QueueItem.round_id)
        .join(WorkSample, WorkSample.id == QueueItem.sample_id)
        .where(QueueItem.rater_id == user.id, ScoringRound.status == RoundStatus.OPEN,
               _not_withdrawn())
    )


def queue_items_for(user) -> list[QueueItem]:
    """The rater's items in open rounds, in the order they are meant to be scored."""
    return list(db.session.execute(
        _open_items(user)
        .options(selectinload(QueueItem.sample), selectinload(QueueItem.round))
        .order_by(ScoringRound.opened_at, ScoringRound.id, QueueItem.position)
    ).scalars())


def _to_score():
    """Load options for an item about to be shown with its score sheet: its sample, round and
    rubric version with every criterion and level, in a fixed few statements rather than one
    per criterion."""
    version = joinedload(QueueItem.round).joinedload(ScoringRound.rubric_version)
    return (joinedload(QueueItem.sample), version.joinedload(RubricVersion.rubric),
            version.selectinload(RubricVersion.criteria).selectinload(Criterion.levels))


def next_item(user) -> QueueItem | None:
    """The first item not yet submitted, across the rater's open rounds."""
    return db.session.execute(
        _open_items(user).where(QueueItem.submitted_at.is_(None)).options(*_to_score())
        .order_by(ScoringRound.opened_at, ScoringRound.id, QueueItem.position).limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class QueueProgress:
    round: ScoringRound
    done: int
    assigned: int


def queue_progress(user) -> list[QueueProgress]:
    """Done / assigned per open round the rater has items in."""
    rows = db.session.execute(
        db.select(ScoringRound, func.count(QueueItem.id), func.count(QueueItem.submitted_at))
        .join(QueueItem, QueueItem.round_id == ScoringRound.id)
        .join(WorkSample, WorkSample.id == QueueItem.sample_id)
        .where(QueueItem.rater_id == user.id, ScoringRound.status == RoundStatus.OPEN,
               _not_withdrawn())
        .group_by(ScoringRound.id).order_by(ScoringRound.opened_at, ScoringRound.id)
    ).all()
    return [QueueProgress(r, done, assigned) for r, assigned, done in rows]


def item_by_token(token: str) -> QueueItem | None:
    return db.session.execute(
        db.select(QueueItem).where(QueueItem.token == token).options(*_to_score())
    ).scalar_one_or_none()


def can_score_item(user, item: QueueItem) -> bool:
    """Only the item's rater, only while its round is open and its sample not withdrawn."""
    return (item.rater_id == user.id and item.round.is_open
            and (item.is_submitted or item.sample.status != SampleStatus.ARCHIVED))


def current_ratings(item: QueueItem, *, afresh: bool = False) -> dict[int, Rating]:
    """The rater's current rating (draft or submitted) of each criterion of the item.

    An item loaded as never drafted nor submitted has none, so they are not read at all
    (services set draft_saved_at or submitted_at in the transaction that writes an item's
    ratings); `afresh` reads them anyway, for a request that found another one had written.
    """
    if not afresh and item.draft_saved_at is None and item.submitted_at is None:
        return {}
    return rating_queries.current_by_criterion(Rating.queue_item_id == item.id)


# --- the sample pages a rater may open -----------------------------------------------------------

def can_view_work(user, sample: WorkSample) -> bool:
    """A rater may see the rendered work of a sample in their queue of an open round (and
    nothing else about it); registered with samples.permissions.WORK_VIEWERS. Practice shows
    anchor papers through its own addresses (practice.views.practice_page)."""
    if not getattr(user, "is_authenticated", False) or sample.is_archived:
        return False
    return db.session.scalar(
        db.select(func.count(QueueItem.id)).join(ScoringRound)
        .where(QueueItem.rater_id == user.id, QueueItem.sample_id == sample.id,
               ScoringRound.status == RoundStatus.OPEN)) > 0


def samples_of_rounds_scored_by(user) -> set[int]:
    """Every sample, live work and anchor papers alike, of each open round the user scores in;
    registered with samples.permissions.BLIND_SAMPLES so that no management page shows them to
    the user beside a school or a score."""
    rounds = (db.select(QueueItem.round_id).join(ScoringRound)
              .where(QueueItem.rater_id == user.id, ScoringRound.status == RoundStatus.OPEN))
    return set(db.session.scalars(
        db.select(QueueItem.sample_id).where(QueueItem.round_id.in_(rounds)).distinct()))


# --- the teacher's home page -------------------------------------------------------------------

@dataclass(frozen=True)
class TeacherSummary:
    open_rounds: int
    left: int
    assigned: int


def teacher_summary(user) -> TeacherSummary:
    progress = queue_progress(user)
    return TeacherSummary(
        open_rounds=len(progress),
        left=sum(p.assigned - p.done for p in progress),
        assigned=sum(p.assigned for p in progress),
    )


# --- the home pages of coaches and district administrators ---------------------------------------

@dataclass(frozen=True)
class RoundSummary:
    """A round as the home pages of coaches and administrators list it: counts, never scores."""
    round: ScoringRound
    assigned: int
    done: int
    raters: int
    raters_finished: int

    @property
    def share_done(self) -> float:
        return self.done / self.assigned if self.assigned else 0.0


@dataclass(frozen=True)
class RoundsOverview:
    open_rounds: list[RoundSummary]
    closed_rounds: list[RoundSummary]
    # Per teacher id: (items done, items assigned) across the open rounds the user follows.
    teacher_progress: dict[int, tuple[int, int]]


RECENT_CLOSED_ROUNDS = 5


def rounds_overview(user) -> RoundsOverview:
    """What needs a round manager now: the open rounds of their districts with progress, the
    latest closed rounds, and each teacher's items done and assigned in the open ones."""
    rounds = rounds_for(user)
    per_rater = _item_counts_per_round_and_rater([r.id for r in rounds])
    summaries = {r.id: _summary(r, per_rater.get(r.id, {})) for r in rounds}
    open_ids = {r.id for r in rounds if r.status == RoundStatus.OPEN}
    teacher_progress: dict[int, tuple[int, int]] = {}
    for round_id in open_ids:
        for rater_id, (done, assigned) in per_rater.get(round_id, {}).items():
            so_far = teacher_progress.get(rater_id, (0, 0))
            teacher_progress[rater_id] = (so_far[0] + done, so_far[1] + assigned)
    return RoundsOverview(
        open_rounds=[summaries[r.id] for r in rounds if r.id in open_ids],
        closed_rounds=[summaries[r.id] for r in rounds
                       if r.id not in open_ids][:RECENT_CLOSED_ROUNDS],
        teacher_progress=teacher_progress)


def _item_counts_per_round_and_rater(round_ids: list[int]) -> dict[int, dict[int, tuple]]:
    """{round id: {rater id: (done, assigned)}} in one query."""
    counts: dict[int, dict[int, tuple]] = {}
    if not round_ids:
        return counts
    for round_id, rater_id, assigned, done in db.session.execute(
            db.select(QueueItem.round_id, QueueItem.rater_id, func.count(QueueItem.id),
                      func.count(QueueItem.submitted_at))
            .join(WorkSample, WorkSample.id == QueueItem.sample_id)
            .where(QueueItem.round_id.in_(round_ids), _not_withdrawn())
            .group_by(QueueItem.round_id, QueueItem.rater_id)):
        counts.setdefault(round_id, {})[rater_id] = (done, assigned)
    return counts


def _summary(scoring_round: ScoringRound, per_rater: dict[int, tuple]) -> RoundSummary:
    return RoundSummary(
        round=scoring_round,
        assigned=sum(assigned for _, assigned in per_rater.values()),
        done=sum(done for done, _ in per_rater.values()),
        raters=len(per_rater),
        raters_finished=sum(1 for done, assigned in per_rater.values() if done == assigned))
