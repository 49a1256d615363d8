"""Writes and rules for work samples and anchor papers. Services flush, never commit.

The audit log records what happened to a sample by its code; it never receives a student's name
or an original file name, because district administrators read the log.
"""

import secrets
from dataclasses import dataclass

from moderation.accounts.models import School
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.storage import Storage, delete_after_commit, discard_on_rollback
from moderation.ratings import queries as rating_queries
from moderation.ratings import services as ratings
from moderation.ratings.models import RatingKind
from moderation.samples import processing, queries
from moderation.samples.models import (
    Anchor,
    AnchorPool,
    AnchorScore,
    SamplePage,
    SampleStatus,
    StudentLink,
    WorkSample,
)
from rubrics import queries as rubric_queries
from rubrics import services as rubric_services
from rubrics.models import RubricVersion

# No 0/O, 1/I/L or U/V: a code read aloud or copied by hand survives.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"


class SampleError(ValueError):
    """A request about a sample that cannot be carried out; the message is for the user."""


class SampleStateError(ValueError):
    """The sample is not in a state that allows this (the views answer 409 with the message)."""


def new_code() -> str:
    """A fresh pseudonymous code such as WS-7K3Q-9PXM, unused so far."""
    return new_codes(1)[0]


def new_codes(n: int) -> list[str]:
    """`n` fresh distinct pseudonymous codes, unused so far: checked against the database a
    few hundred at a time (an import makes thousands of samples at once)."""
    codes: set[str] = set()
    while len(codes) < n:
        drawn = {_random_code() for _ in range(n - len(codes))} - codes
        codes |= drawn - queries.existing_codes(drawn)
    return list(codes)


def _random_code() -> str:
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"WS-{chars[:4]}-{chars[4:]}"


def _clean_text(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    return value[:limit] or None


def _check_upload(school: School, rubric_version: RubricVersion, title: str | None) -> str:
    title = _clean_text(title, 200)
    if not title:
        raise SampleError("Say what the task was, e.g. “Should homework be banned?”.")
    if rubric_version.rubric.district_id != school.district_id:
        raise SampleError("That rubric belongs to another district.")
    if problems := rubric_queries.version_problems(rubric_version):
        raise SampleError(f"{rubric_version.label} is not ready for scoring: {problems[0]}")
    return title


def _store_sample(clean: processing.CleanFile, *, uploader, school: School,
                  rubric_version: RubricVersion, title: str, filename: str | None,
                  storage: Storage, student_name: str | None, student_local_id: str | None
                  ) -> WorkSample:
    stored = storage.save(clean.data, clean.content_type)
    pages = [(page, storage.save(page.png, "image/png")) for page in clean.pages]
    discard_on_rollback(storage, [stored.key] + [s.key for _, s in pages])

    sample = WorkSample(
        code=new_code(), school_id=school.id, uploaded_by_id=uploader.id,
        rubric_version_id=rubric_version.id, title=title, status=SampleStatus.DRAFT,
        storage_key=stored.key, size=stored.size, content_type=stored.content_type,
        checksum_sha256=stored.checksum_sha256, page_count=clean.page_count,
        width=clean.width, height=clean.height,
        pages=[SamplePage(number=page.number, storage_key=s.key, size=s.size, width=page.width,
                          height=page.height) for page, s in pages],
    )
    db.session.add(sample)
    db.session.flush()
    db.session.add(StudentLink(sample_id=sample.id, student_name=student_name,
                               student_local_id=student_local_id,
                               original_filename=_clean_text(filename, 255)))
    audit.record("sample_uploaded", actor=uploader, obj=sample, code=sample.code,
                 school_id=school.id, content_type=clean.kind.value, size=stored.size,
                 pages=clean.page_count)
    db.session.flush()
    return sample


def _identity(student_name: str | None, student_local_id: str | None
              ) -> tuple[str | None, str | None]:
    student_name, student_local_id = (_clean_text(student_name, 200),
                                      _clean_text(student_local_id, 100))
    if not (student_name or student_local_id):
        raise SampleError("Enter the student's name or local ID, so your school can tell whose "
                          "work this is. Raters never see it.")
    return student_name, student_local_id


def upload_sample(*, uploader, school: School, rubric_version: RubricVersion, title: str,
                  data: bytes, filename: str | None, storage: Storage,
                  student_name: str | None = None, student_local_id: str | None = None
                  ) -> WorkSample:
    """Check, anonymise and store an upload as a draft sample with its student link.

    processing.SampleFileError if the file is refused, SampleError for the other fields. The
    stored file and rendered pages are removed again if the transaction does not commit.
    """
    title = _check_upload(school, rubric_version, title)
    student_name, student_local_id = _identity(student_name, student_local_id)
    clean = processing.clean(data, filename)
    return _store_sample(clean, uploader=uploader, school=school, rubric_version=rubric_version,
                         title=title, filename=filename, storage=storage,
                         student_name=student_name, student_local_id=student_local_id)


MAX_CLASS_SET_FILES = 40


@dataclass(frozen=True)
class ClassSetResult:
    samples: list[WorkSample]
    refused: list[tuple[str, str]]  # (file name as uploaded, why), shown only to the uploader


def upload_class_set(*, uploader, school: School, rubric_version: RubricVersion, title: str,
                     files: list[tuple[str | None, bytes]], storage: Storage) -> ClassSetResult:
    """Each file of a class set as its own draft sample of the same task, with no student yet
    (the uploader names each one next: set_identity). A file that is refused is reported with
    its reason and the others are kept. SampleError when the set as a whole cannot be taken."""
    title = _check_upload(school, rubric_version, title)
    files = [(name, data) for name, data in files if name or data]
    if not files:
        raise SampleError("Choose the files to upload.")
    if len(files) > MAX_CLASS_SET_FILES:
        raise SampleError(f"{len(files)} files were chosen; a class set can have at most "
                          f"{MAX_CLASS_SET_FILES}. Upload the rest in a second set.")
    samples, refused = [], []
    for filename, data in files:
        try:
            clean = processing.clean(data, filename)
        except processing.SampleFileError as error:
            refused.append((filename or "(no name)", str(error)))
            continue
        samples.append(_store_sample(
            clean, uploader=uploader, school=school, rubric_version=rubric_version,
            title=title, filename=filename, storage=storage, student_name=None,
            student_local_id=None))
    return ClassSetResult(samples, refused)


def set_identity(sample: WorkSample, user, *, student_name: str | None,
                 student_local_id: str | None) -> StudentLink:
    """Say (or correct) whose work a sample is. The audit records that it changed, never what
    it says."""
    if sample.is_archived:
        raise SampleStateError(f"{sample.code} is archived; its student can no longer change.")
    student_name, student_local_id = _identity(student_name, student_local_id)
    link = queries.student_link(sample)
    if link is None:
        link = StudentLink(sample_id=sample.id)
        db.session.add(link)
    link.student_name, link.student_local_id = student_name, student_local_id
    audit.record("sample_student_set", actor=user, obj=sample, code=sample.code)
    db.session.flush()
    return link


def confirm_redaction(sample: WorkSample, user) -> None:
    """The uploader has looked at the rendered work: no names are visible. Draft -> ready."""
    if sample.status != SampleStatus.DRAFT:
        raise SampleStateError(f"{sample.code} is {sample.status.label.lower()}; only a draft "
                               f"needs this check.")
    link = queries.student_link(sample)
    if link is None or not (link.student_name or link.student_local_id):
        raise SampleError("Enter whose work this is first: the search for names needs it, and "
                          "your school needs to know.")
    sample.status = SampleStatus.READY
    sample.redaction_confirmed_at = utcnow()
    sample.redaction_confirmed_by_id = user.id
    audit.record("sample_redaction_confirmed", actor=user, obj=sample, code=sample.code)
    db.session.flush()


def _check_scores(version: RubricVersion, scores: dict[int, int]) -> None:
    """Every criterion of the version has a score that is one of its levels."""
    if problem := rubric_queries.score_problem(version, scores):
        raise SampleError(problem)


def record_local_scores(sample: WorkSample, teacher, scores: dict[int, int]) -> int:
    """The class teacher's own score per criterion; a changed score becomes a revision.

    Returns how many scores were new or changed. Freezes the rubric version: its descriptors
    are now what a score was given against.
    """
    if sample.is_archived:
        raise SampleStateError(f"{sample.code} is archived; its scores can no longer change.")
    version = sample.rubric_version
    _check_scores(version, scores)
    current = queries.current_local_ratings(sample)
    now, changed = utcnow(), {}
    for criterion in version.criteria:
        score, previous = scores[criterion.id], current.get(criterion.id)
        if previous is not None and previous.score == score:
            continue
        if previous is None:
            ratings.record(rater_id=teacher.id, sample_id=sample.id, criterion_id=criterion.id,
                           rubric_version_id=version.id, score=score, kind=RatingKind.LOCAL,
                           submitted_at=now)
        else:
            ratings.revise(previous, score, reason="Changed by the class teacher",
                           submitted_at=now)
        changed[str(criterion.id)] = score
    if changed:
        rubric_services.freeze_version(version, reason=f"local score of {sample.code}")
        audit.record("local_scores_recorded", actor=teacher, obj=sample, code=sample.code,
                     scores=changed, revised=sum(1 for c in changed if int(c) in current))
    db.session.flush()
    return len(changed)


def promote_to_anchor(sample: WorkSample, user, scores: dict[int, int],
                      rationales: dict[int, str], pool: AnchorPool = AnchorPool.CALIBRATION
                      ) -> Anchor:
    """Make a ready sample an anchor paper of its rubric version, with an agreed score and a
    written rationale for every criterion, in the practice or the calibration pool (models.
    AnchorPool). Freezes the version."""
    if sample.status != SampleStatus.READY:
        raise SampleStateError(
            f"{sample.code} is {sample.status.label.lower()}. Only a sample whose uploader has "
            f"confirmed that no names are visible can become an anchor paper.")
    if queries.anchor_for(sample) is not None:
        raise SampleStateError(f"{sample.code} is already an anchor paper for this rubric "
                               f"version.")
    version = sample.rubric_version
    _check_scores(version, scores)
    for criterion in version.criteria:
        if not (rationales.get(criterion.id) or "").strip():
            raise SampleError(f"Explain why “{criterion.name}” earns its score: raters learn "
                              f"from the rationale.")
    anchor = Anchor(sample_id=sample.id, rubric_version_id=version.id, promoted_by_id=user.id,
                    pool=AnchorPool(pool),
                    scores=[AnchorScore(criterion_id=c.id, score=scores[c.id],
                                        rationale=rationales[c.id].strip())
                            for c in version.criteria])
    db.session.add(anchor)
    rubric_services.freeze_version(version, reason=f"anchor paper {sample.code}")
    db.session.flush()
    audit.record("anchor_promoted", actor=user, obj=anchor, code=sample.code,
                 rubric_version_id=version.id, pool=anchor.pool.value,
                 scores={str(c.id): scores[c.id] for c in version.criteria})
    return anchor


def move_anchor(anchor: Anchor, user, pool: AnchorPool) -> bool:
    """Move an anchor paper to the other pool; returns whether it moved. Safe either way: a
    paper moved to practice is withheld from the teachers of an open round it is seeded in until
    that round closes, and a practised paper moved to calibration is never put in front of a
    teacher who practised it (scoring.services)."""
    pool = AnchorPool(pool)
    if anchor.pool == pool:
        return False
    audit.record("anchor_pool_changed", actor=user, obj=anchor, code=anchor.sample.code,
                 pool=pool.value, previous=anchor.pool.value)
    anchor.pool = pool
    db.session.flush()
    return True


def _stored_keys(sample: WorkSample) -> list[str]:
    return [sample.storage_key] + [page.storage_key for page in sample.pages]


def delete_sample(sample: WorkSample, user, storage: Storage) -> SampleStatus | None:
    """Delete an unscored sample with its files and student link, or archive a scored one
    (any rating, or an anchor paper) so statistics keep it. Returns ARCHIVED or None (deleted)."""
    if sample.is_archived:
        raise SampleStateError(f"{sample.code} is already archived. A district administrator "
                               f"can purge it.")
    n_ratings = rating_queries.count_for_sample(sample.id)
    if n_ratings or sample.anchors:
        sample.status = SampleStatus.ARCHIVED
        sample.archived_at = utcnow()
        audit.record("sample_archived", actor=user, obj=sample, code=sample.code,
                     ratings=n_ratings, anchors=len(sample.anchors))
        db.session.flush()
        return SampleStatus.ARCHIVED
    audit.record("sample_deleted", actor=user, obj=sample, code=sample.code,
                 files=len(_stored_keys(sample)))
    _remove(sample, storage)
    return None


def purge_sample(sample: WorkSample, user, storage: Storage) -> dict[str, int]:
    """Delete a sample with everything recorded about it, ratings included (district admins)."""
    n_ratings = rating_queries.count_for_sample(sample.id)
    counts = {"ratings": n_ratings, "anchors": len(sample.anchors),
              "files": len(_stored_keys(sample))}
    audit.record("sample_purged", actor=user, obj=sample, code=sample.code, **counts)
    ratings.delete_for_sample(sample.id)
    _remove(sample, storage)
    return counts


def _remove(sample: WorkSample, storage: Storage) -> None:
    delete_after_commit(storage, _stored_keys(sample))
    db.session.execute(db.delete(StudentLink).where(StudentLink.sample_id == sample.id))
    db.session.delete(sample)
    db.session.flush()


def _swap_key(model, row, old_key: str, stored) -> None:
    """Point `row` at the newly stored object unless someone else changed it since it was read
    (then SampleStateError: their change is kept and this one dropped)."""
    result = db.session.execute(
        db.update(model).where(model.id == row.id, model.storage_key == old_key)
        .values(storage_key=stored.key, size=stored.size,
                **({"checksum_sha256": stored.checksum_sha256} if model is WorkSample else {}))
        .execution_options(synchronize_session="fetch"))
    if result.rowcount != 1:
        raise SampleStateError("Someone changed this sample's pages at the same moment. Open it "
                               "again and black out what is still visible.")


def redact_page(sample: WorkSample, user, number: int, boxes: list[processing.Box],
                storage: Storage) -> bool:
    """Burn opaque boxes into page `number` of the stored work (the sample image itself, for a
    photo or scan), and for a PDF rebuild the downloadable file from the page images alone, so
    no text layer keeps what was blacked out. The unredacted objects are deleted once the
    transaction commits. Returns False when the boxes changed nothing (already blacked out).

    processing.RedactionError for bad boxes; SampleError when the sample has no page images.
    """
    if sample.is_archived:
        raise SampleStateError(f"{sample.code} is archived; its pages can no longer change.")
    processing.check_boxes(boxes)
    if sample.kind == processing.FileKind.TEXT:
        raise SampleError("Plain text has no page images to black out: delete this draft and "
                          "upload the work without the names.")
    if sample.kind == processing.FileKind.PDF:
        page = next((p for p in sample.pages if p.number == number), None)
        if page is None:
            raise SampleError(f"{sample.code} has no page {number}.")
        target, model, kind, content_type = page, SamplePage, processing.FileKind.PNG, "image/png"
    else:
        if number != 1:
            raise SampleError(f"{sample.code} has one page.")
        target, model, kind, content_type = (sample, WorkSample, sample.kind,
                                             sample.content_type)
    old_key = target.storage_key
    burned = processing.burn_boxes(storage.open(old_key), kind, boxes)
    if burned is None:
        return False
    stored = storage.save(burned, content_type)
    discard_on_rollback(storage, [stored.key])
    _swap_key(model, target, old_key, stored)
    delete_after_commit(storage, [old_key])
    if sample.kind == processing.FileKind.PDF:
        old_pdf = sample.storage_key
        rebuilt = processing.pdf_from_page_images(
            [storage.open(p.storage_key) for p in sample.pages])
        stored_pdf = storage.save(rebuilt, sample.content_type)
        discard_on_rollback(storage, [stored_pdf.key])
        _swap_key(WorkSample, sample, old_pdf, stored_pdf)
        delete_after_commit(storage, [old_pdf])
    audit.record("sample_redacted", actor=user, obj=sample, code=sample.code, page=number,
                 boxes=len(boxes))
    db.session.flush()
    return True
