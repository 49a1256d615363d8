"""Reads for work samples, anchors and the student link.

Lists are filtered by the same scope rules as permissions.py; the student link is read only
through student_link(), which views call after permissions.can_see_identity().
"""

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import selectinload

from moderation.accounts.models import School
from moderation.core.extensions import db
from moderation.ratings import queries as rating_queries
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import permissions
from moderation.samples.models import Anchor, SampleStatus, StudentLink, WorkSample
from rubrics import queries as rubric_queries
from rubrics.models import RubricVersion


def sample_by_code(code: str) -> WorkSample | None:
    return db.session.execute(
        db.select(WorkSample).where(WorkSample.code == code.strip().upper())
    ).scalar_one_or_none()


def code_exists(code: str) -> bool:
    return db.session.scalar(db.select(func.count()).where(WorkSample.code == code)) > 0


def _scope_filter(user):
    """permissions.is_in_scope() as SQL."""
    return or_(WorkSample.school_id.in_(permissions.staff_school_ids(user)),
               and_(School.district_id.in_(permissions.oversight_district_ids(user)),
                    WorkSample.id.not_in(permissions.blind_sample_ids(user))))


def samples_for(user, status: SampleStatus | None = None) -> list[WorkSample]:
    """Samples the user oversees or whose school they work at, newest first; never archived
    ones unless `status` asks for them."""
    query = (
        db.select(WorkSample).join(School, School.id == WorkSample.school_id)
        .where(_scope_filter(user))
        .options(selectinload(WorkSample.school),
                 selectinload(WorkSample.rubric_version).selectinload(RubricVersion.rubric),
                 selectinload(WorkSample.anchors))
        .order_by(WorkSample.created_at.desc(), WorkSample.id.desc())
    )
    if status is None:
        query = query.where(WorkSample.status != SampleStatus.ARCHIVED)
    else:
        query = query.where(WorkSample.status == status)
    return list(db.session.execute(query).scalars())


def archived_samples_to_purge(user) -> list[WorkSample]:
    """Archived samples of the districts the user administers (only they may purge)."""
    return [s for s in samples_for(user, SampleStatus.ARCHIVED) if permissions.can_purge(user, s)]


def student_link(sample: WorkSample) -> StudentLink | None:
    """Whose work this is. Call only after permissions.can_see_identity()."""
    return db.session.execute(
        db.select(StudentLink).where(StudentLink.sample_id == sample.id)
    ).scalar_one_or_none()


def uploadable_schools(user) -> list[School]:
    ids = permissions.staff_school_ids(user)
    return list(db.session.execute(
        db.select(School).where(School.id.in_(ids)).order_by(School.name)).scalars())


def versions_for_upload(schools: list[School]) -> list[RubricVersion]:
    """Rubric versions complete enough to score, from the districts of these schools."""
    versions = []
    for district_id in sorted({s.district_id for s in schools}):
        versions += rubric_queries.versions_for_district(district_id, ready_only=True)
    return versions


def current_local_ratings(sample: WorkSample) -> dict[int, Rating]:
    """The class teacher's current local score of each criterion, by criterion id."""
    return rating_queries.current_by_criterion(Rating.sample_id == sample.id,
                                               Rating.kind == RatingKind.LOCAL)


def anchor_for(sample: WorkSample) -> Anchor | None:
    return db.session.execute(
        db.select(Anchor).where(Anchor.sample_id == sample.id,
                                Anchor.rubric_version_id == sample.rubric_version_id)
    ).scalar_one_or_none()


def anchors_for(user) -> list[Anchor]:
    """Anchor papers of samples the user may promote (coaches in scope, district admins),
    archived samples left out, by rubric then newest first."""
    query = (
        db.select(Anchor).join(WorkSample).join(School, School.id == WorkSample.school_id)
        .where(_scope_filter(user), WorkSample.status != SampleStatus.ARCHIVED)
        .options(selectinload(Anchor.sample).selectinload(WorkSample.school),
                 selectinload(Anchor.rubric_version).selectinload(RubricVersion.rubric))
        .order_by(Anchor.rubric_version_id, Anchor.created_at.desc())
    )
    return [a for a in db.session.execute(query).scalars()
            if permissions.can_promote_anchor(user, a.sample)]
