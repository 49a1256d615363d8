"""Reads for practice: the papers a teacher may practise on, their practice so far, and who
else may see it."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from moderation.accounts.models import Membership, Role, School, User
from moderation.accounts.permissions import district_ids, school_ids
from moderation.core.db import sets_by_key
from moderation.core.extensions import db
from moderation.practice.models import PracticeAttempt
from moderation.ratings import queries as rating_queries
from moderation.ratings.models import Rating, RatingKind
from moderation.samples.models import Anchor, AnchorPool, SampleStatus, WorkSample
from moderation.scoring.models import QueueItem, RoundRater, RoundStatus, ScoringRound
from moderation.scoring.permissions import teacher_district_ids
from moderation.settings.queries import settings_for
from rubrics.models import Rubric, RubricVersion


def paper_name(anchor: Anchor) -> str:
    """The name a practice paper keeps whatever else joins or leaves the list. Never the
    sample's code: a code seen in practice must not mark the same paper when it turns up in a
    queue. The anchor's number is in the paper's address already, and says nothing of its
    agreed scores."""
    return f"Practice paper P{anchor.id}"


def _withheld_by_round(user) -> dict[int, set[int]]:
    """Round id -> the anchors seeded as validity or calibration papers in that open round,
    for each open round the user is a rater in, whoever's queue they are in: practice would
    show their agreed scores."""
    in_rounds = (db.select(RoundRater.round_id).join(ScoringRound)
                 .where(RoundRater.user_id == user.id, ScoringRound.status == RoundStatus.OPEN))
    return sets_by_key(db.session.execute(
        db.select(QueueItem.round_id, QueueItem.anchor_id).distinct()
        .where(QueueItem.round_id.in_(in_rounds), QueueItem.anchor_id.is_not(None))))


def withheld_anchor_ids(user) -> set[int]:
    return set().union(*_withheld_by_round(user).values())


def _practice_pool(user):
    """The practice pool of the teacher's districts' rubric versions, samples still in use."""
    return (db.select(Anchor).join(WorkSample, WorkSample.id == Anchor.sample_id)
            .join(RubricVersion, RubricVersion.id == Anchor.rubric_version_id)
            .join(Rubric, Rubric.id == RubricVersion.rubric_id)
            .where(Rubric.district_id.in_(teacher_district_ids(user)),
                   Anchor.pool == AnchorPool.PRACTICE, WorkSample.status != SampleStatus.ARCHIVED))


def practice_anchors_for(user) -> list[Anchor]:
    """Anchor papers the teacher may practise on: the practice pool less withheld_anchor_ids()
    (a paper moved to practice while an open round of theirs has it), by rubric then oldest
    first. Calibration anchors never appear: any teacher may practise any practice anchor, so
    those are no secret."""
    withheld = withheld_anchor_ids(user)
    anchors = db.session.execute(
        _practice_pool(user)
        .options(selectinload(Anchor.sample),
                 selectinload(Anchor.rubric_version).selectinload(RubricVersion.rubric))
        .order_by(Rubric.title, RubricVersion.number, Anchor.id)
    ).scalars()
    return [a for a in anchors if a.id not in withheld]


@dataclass(frozen=True)
class SetAside:
    """Practice papers kept out of the list while these open rounds of the teacher run."""
    count: int
    round_names: list[str]

    @property
    def notice(self) -> str:
        """What the practice list says, so that it never shrinks without a reason."""
        papers = f"{self.count} paper{'s are' if self.count != 1 else ' is'}"
        quoted = [f"“{name}”" for name in self.round_names]
        if len(quoted) == 1:
            rounds, close = f"the round {quoted[0]} is", "it closes"
        else:
            rounds = f"the rounds {', '.join(quoted[:-1])} and {quoted[-1]} are"
            close = "those rounds close"
        back = "they come" if self.count != 1 else "it comes"
        return f"{papers} set aside while {rounds} open; {back} back when {close}."


def set_aside(user) -> SetAside:
    """How many practice papers the open rounds the user scores in keep out of their list, and
    which rounds: the count only, never which papers."""
    withheld = _withheld_by_round(user)
    if not withheld:
        return SetAside(0, [])
    pool = set(db.session.scalars(_practice_pool(user).with_only_columns(Anchor.id)))
    rounds = {round_id: anchors & pool for round_id, anchors in withheld.items()}
    rounds = {round_id: anchors for round_id, anchors in rounds.items() if anchors}
    if not rounds:
        return SetAside(0, [])
    names = db.session.scalars(db.select(ScoringRound.name)
                               .where(ScoringRound.id.in_(rounds)).order_by(ScoringRound.name))
    return SetAside(len(set().union(*rounds.values())), list(names))


@dataclass(frozen=True)
class PracticePaper:
    """A paper on the practice list, with the teacher's own practice of it."""
    anchor: Anchor
    name: str
    attempts: int
    last: PracticeAttempt | None


def practice_list(user) -> list[PracticePaper]:
    """practice_anchors_for() with how often the teacher has practised each and their latest
    attempt."""
    anchors = practice_anchors_for(user)
    counts = dict(db.session.execute(
        db.select(PracticeAttempt.anchor_id, func.count(PracticeAttempt.id))
        .where(PracticeAttempt.user_id == user.id,
               PracticeAttempt.anchor_id.in_([a.id for a in anchors]))
        .group_by(PracticeAttempt.anchor_id)).all())
    latest: dict[int, PracticeAttempt] = {}
    for attempt in db.session.scalars(
            db.select(PracticeAttempt)
            .where(PracticeAttempt.user_id == user.id, PracticeAttempt.anchor_id.in_(counts))
            .order_by(PracticeAttempt.submitted_at, PracticeAttempt.id)):
        latest[attempt.anchor_id] = attempt
    return [PracticePaper(a, paper_name(a), counts.get(a.id, 0), latest.get(a.id))
            for a in anchors]


def can_practise(user, anchor: Anchor) -> bool:
    return (anchor.pool == AnchorPool.PRACTICE
            and anchor.rubric_version.rubric.district_id in teacher_district_ids(user)
            and anchor.sample.status != SampleStatus.ARCHIVED
            and anchor.id not in withheld_anchor_ids(user))


def practice_history(user) -> list[PracticeAttempt]:
    """The user's practice attempts, newest first."""
    return list(db.session.execute(
        db.select(PracticeAttempt).where(PracticeAttempt.user_id == user.id)
        .options(selectinload(PracticeAttempt.anchor).selectinload(Anchor.sample),
                 selectinload(PracticeAttempt.anchor).selectinload(Anchor.rubric_version)
                 .selectinload(RubricVersion.rubric))
        .order_by(PracticeAttempt.submitted_at.desc(), PracticeAttempt.id.desc())
    ).scalars())


def attempt_count(user) -> int:
    return db.session.scalar(db.select(func.count(PracticeAttempt.id))
                             .where(PracticeAttempt.user_id == user.id))


def attempt_by_nonce(nonce: str) -> PracticeAttempt | None:
    return db.session.execute(
        db.select(PracticeAttempt).where(PracticeAttempt.nonce == nonce)
    ).scalar_one_or_none()


def attempt_ratings(attempt: PracticeAttempt) -> dict[int, Rating]:
    return rating_queries.current_by_criterion(Rating.kind == RatingKind.PRACTICE,
                                               Rating.context_type == "practice",
                                               Rating.context_id == attempt.id)


def practised_sample_ids(user_ids: list[int]) -> dict[int, set[int]]:
    """For each user, the sample of every anchor paper they have practised on (so they know
    its agreed scores); registered with scoring.queries.MET_SAMPLES, so that no round gives
    them that work again."""
    return sets_by_key(db.session.execute(
        db.select(PracticeAttempt.user_id, Anchor.sample_id).distinct()
        .join(Anchor, Anchor.id == PracticeAttempt.anchor_id)
        .where(PracticeAttempt.user_id.in_(user_ids))))


# --- who else sees a teacher's practice ----------------------------------------------------------

def practice_shared_with_coaches(teacher) -> bool:
    """Whether any district the teacher teaches in lets coaches see practice."""
    return any(settings_for(d).practice_visible_to_coaches
               for d in teacher_district_ids(teacher))


def coach_scope(coach) -> tuple[set[int], set[int]]:
    """(schools the user coaches, districts they coach district-wide)."""
    return (school_ids(coach, Role.COACH), district_ids(coach, Role.COACH, district_wide=True))


def can_see_practice_of(viewer, teacher: User) -> bool:
    """The teacher themself; a coach in scope only if the district allows it."""
    return viewer.id == teacher.id or coaches_with_leave(viewer, teacher,
                                                        "practice_visible_to_coaches")


def coaches_with_leave(viewer, teacher: User, setting: str) -> bool:
    """Whether `viewer` coaches one of `teacher`'s schools (or their whole district) in a
    district whose privacy `setting` (a switch of settings.models) lets coaches see the
    teacher's own results."""
    schools, districts = coach_scope(viewer)
    return any((m.school_id in schools or m.district_id in districts)
               and getattr(settings_for(m.district_id), setting)
               for m in teacher.memberships_as(Role.TEACHER))


@dataclass(frozen=True)
class CoachedTeacher:
    user: User
    school: School
    attempts: int


def coached_practice(coach) -> tuple[list[CoachedTeacher], bool]:
    """Teachers in the coach's scope whose district lets coaches see practice, with their
    number of attempts; and whether any scope of the coach keeps practice private."""
    schools, districts = coach_scope(coach)
    rows = db.session.execute(
        db.select(User, School).join(Membership, Membership.user_id == User.id)
        .join(School, School.id == Membership.school_id)
        .where(Membership.role == Role.TEACHER,
               Membership.school_id.in_(schools) | Membership.district_id.in_(districts))
        .order_by(School.name, User.display_name)
    ).all()
    visible = {d: settings_for(d).practice_visible_to_coaches
               for d in {school.district_id for _, school in rows} | districts}
    counts = dict(db.session.execute(
        db.select(PracticeAttempt.user_id, func.count(PracticeAttempt.id))
        .where(PracticeAttempt.user_id.in_([u.id for u, _ in rows]))
        .group_by(PracticeAttempt.user_id)).all())
    seen, teachers = set(), []
    for user, school in rows:
        if visible.get(school.district_id) and user.id not in seen:
            seen.add(user.id)
            teachers.append(CoachedTeacher(user, school, counts.get(user.id, 0)))
    any_private = not all(visible.values()) if visible else True
    return teachers, any_private
