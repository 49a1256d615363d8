"""Reads for work samples, anchors and the student link.

Lists are filtered by the same scope rules as permissions.py; the student link is read only
through student_link(), which views call after permissions.can_see_identity().
"""

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import selectinload

from moderation.accounts.models import Role, School
from moderation.core.extensions import db
from moderation.core.storage import Storage, StorageError
from moderation.ratings import queries as rating_queries
from moderation.ratings.models import Rating, RatingKind
from moderation.samples import namecheck, permissions, processing
from moderation.samples.models import Anchor, SampleStatus, StudentLink, WorkSample
from moderation.samples.processing import FileKind
from rubrics import queries as rubric_queries
from rubrics.models import RubricVersion


def sample_by_code(code: str) -> WorkSample | None:
    return db.session.execute(
        db.select(WorkSample).where(WorkSample.code == code.strip().upper())
    ).scalar_one_or_none()


def existing_codes(codes: set[str], chunk: int = 900) -> set[str]:
    """Which of `codes` samples already have."""
    ordered, found = sorted(codes), set()
    for start in range(0, len(ordered), chunk):
        found |= set(db.session.execute(db.select(WorkSample.code).where(
            WorkSample.code.in_(ordered[start:start + chunk]))).scalars())
    return found


def _scope_filter(user):
    """permissions.is_in_scope() as SQL."""
    return or_(WorkSample.school_id.in_(permissions.staff_school_ids(user)),
               and_(School.district_id.in_(permissions.oversight_district_ids(user)),
                    WorkSample.id.not_in(permissions.blind_sample_ids(user))))


def samples_for(user, status: SampleStatus | None = None) -> list[WorkSample]:
    """Samples the user oversees or whose school they work at, newest first; never archived
    ones unless `status` asks for them, never external work (known by its scores only)."""
    query = (
        db.select(WorkSample).join(School, School.id == WorkSample.school_id)
        .where(or_(_scope_filter(user),
                   WorkSample.school_id.in_(permissions.leader_school_ids(user))),
               WorkSample.is_external.is_(False))
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
        db.select(School).where(School.id.in_(ids), School.archived_at.is_(None))
        .order_by(School.name)).scalars())


def versions_for_upload(schools: list[School]) -> list[RubricVersion]:
    """Rubric versions complete enough to score, from the districts of these schools."""
    versions = []
    for district_id in sorted({s.district_id for s in schools}):
        versions += rubric_queries.versions_for_district(district_id, ready_only=True)
    return versions


def home_school(user, schools: list[School]) -> School | None:
    """Of the schools the user may upload to, the one they teach at (their first), else the
    first: the upload form's default."""
    teaching = {m.school_id for m in user.memberships if m.role == Role.TEACHER}
    return next((s for s in schools if s.id in teaching), schools[0] if schools else None)


def default_upload_version(school: School | None, versions: list[RubricVersion]
                           ) -> RubricVersion | None:
    """The rubric version the upload form starts on: one for the school's grade band."""
    if school is None:
        return None
    return rubric_queries.version_for_grade_band(
        [v for v in versions if v.rubric.district_id == school.district_id], school.grade_band)


def drafts_without_student(user) -> list[tuple[WorkSample, StudentLink | None]]:
    """The user's own drafts that do not yet say whose work they are (a class set just
    uploaded), oldest first, with their student links (for the original file name)."""
    rows = db.session.execute(
        db.select(WorkSample, StudentLink)
        .outerjoin(StudentLink, StudentLink.sample_id == WorkSample.id)
        .where(WorkSample.uploaded_by_id == user.id, WorkSample.status == SampleStatus.DRAFT,
               WorkSample.school_id.in_(permissions.staff_school_ids(user)),
               func.coalesce(StudentLink.student_name, StudentLink.student_local_id).is_(None))
        .order_by(WorkSample.created_at, WorkSample.id)
    ).all()
    return [(sample, link) for sample, link in rows]


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


def work_text(sample: WorkSample, storage: Storage) -> str | None:
    """The text of a plain-text sample, shown in the page; None for a file shown otherwise,
    and empty if the stored file has gone."""
    if sample.kind != FileKind.TEXT:
        return None
    try:
        return storage.open(sample.storage_key).decode("utf-8")
    except StorageError:
        return ""


def name_check(sample: WorkSample, storage: Storage) -> namecheck.NameCheck:
    """Where the student's identity as typed, the uploader's name and the school's name appear
    in the sample's text (plain text, or the text layers of a PDF's pages). Call only after
    permissions.can_see_identity(). An image has no text: the result says nothing was searched.
    """
    link = student_link(sample)
    terms = namecheck.search_terms([
        (namecheck.Source.STUDENT, link.student_name if link else None),
        (namecheck.Source.LOCAL_ID, link.student_local_id if link else None),
        (namecheck.Source.UPLOADER, sample.uploaded_by.display_name),
        (namecheck.Source.SCHOOL, sample.school.name)])
    pages: list[tuple[int | None, str]] = []
    if sample.kind in (FileKind.TEXT, FileKind.PDF):
        try:
            data = storage.open(sample.storage_key)
        except StorageError:
            data = b""
        if sample.kind == FileKind.TEXT:
            pages = [(None, data.decode("utf-8", errors="replace"))]
        elif data:
            try:
                pages = list(enumerate(processing.pdf_page_texts(data), start=1))
            except processing.SampleFileError:
                pages = []
            if not pages:
                pages = [(page.number, "") for page in sample.pages]
    return namecheck.find_names(terms, pages)
