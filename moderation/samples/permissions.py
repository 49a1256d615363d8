"""Who may do what with a work sample: the one place these rules live.

- School staff (teachers and school-scoped coaches of the uploading school) upload, view, manage
  and alone see the student link (name, local id, original file name).
- Coaches in scope (school coaches of that school, district-wide coaches of its district) and
  district administrators of the district view samples and their provenance, and promote
  anchors; they never see the student link unless they are also staff of that school.
- District administrators purge.
- School leaders (principals) see their school's work and its provenance, read-only: no
  student link, no local scores, no original file, nothing to manage.
Blind scoring extends can_view_sample() (through WORK_VIEWERS) for raters assigned to a
sample; everything else here stays closed to them (school, uploader, local score, identity,
original download).
- Blindness outranks oversight: while someone scores in an open round, that round's samples and
  anchor papers are blind work to them (BLIND_SAMPLES), even if they also coach or administer
  the district (a role granted mid-round, say). Pages show them the work alone, and lists and
  anchor pages leave those rows out, so no page puts a school, uploader or score beside it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import g, has_request_context

from moderation.accounts.models import Role
from moderation.accounts.permissions import district_ids, school_ids

# Checks that let someone outside the sample's scope see the work itself and nothing else,
# registered from create_app (samples cannot import the packages that grant them): blind
# scoring registers "a rater with this sample in their queue of an open round".
WORK_VIEWERS: list[Callable[..., bool]] = []


def register_work_viewer(check: Callable[..., bool]) -> None:
    """Add `check` to WORK_VIEWERS once, however many apps create_app() builds."""
    if check not in WORK_VIEWERS:
        WORK_VIEWERS.append(check)


# The same kind of registry the other way round: sources of sample ids the user must see only
# as blind work. Blind scoring registers "the samples of each open round they score in".
BLIND_SAMPLES: list[Callable[..., set[int]]] = []


def register_blind_samples(source: Callable[..., set[int]]) -> None:
    if source not in BLIND_SAMPLES:
        BLIND_SAMPLES.append(source)


def blind_sample_ids(user) -> set[int]:
    """Samples the user must meet as blind work only (staff of a sample's own school still see
    it as staff: rounds never give them their schools' work). Asked once per request: a list
    page asks it of every row."""
    if not getattr(user, "is_authenticated", False):
        return set()
    known = g.setdefault("blind_sample_ids", {}) if has_request_context() else {}
    if user.id not in known:
        known[user.id] = set().union(*(source(user) for source in BLIND_SAMPLES))
    return known[user.id]


def staff_school_ids(user) -> set[int]:
    """Schools where the user is staff: a teacher there or a coach scoped to that school."""
    return school_ids(user, Role.TEACHER, Role.COACH)


def leader_school_ids(user) -> set[int]:
    """Schools the user leads (a principal): read-only, the work and its provenance."""
    return school_ids(user, Role.SCHOOL_LEADER)


def coach_district_ids(user) -> set[int]:
    """Districts in which the user is a district-wide coach."""
    return district_ids(user, Role.COACH, district_wide=True)


def admin_district_ids(user) -> set[int]:
    return district_ids(user, Role.DISTRICT_ADMIN)


def oversight_district_ids(user) -> set[int]:
    """Districts whose every school's samples the user oversees (district coach or admin)."""
    return coach_district_ids(user) | admin_district_ids(user)


def _district_id(sample) -> int:
    return sample.school.district_id


def is_school_staff(user, sample) -> bool:
    return sample.school_id in staff_school_ids(user)


def is_in_scope(user, sample) -> bool:
    """School staff, coaches in scope and district administrators: not blind raters."""
    if is_school_staff(user, sample):
        return True
    return (_district_id(sample) in oversight_district_ids(user)
            and sample.id not in blind_sample_ids(user))


def can_view_sample(user, sample) -> bool:
    """May see the anonymised work itself (code, task, rendered pages)."""
    return (is_in_scope(user, sample) or sample.school_id in leader_school_ids(user)
            or any(check(user, sample) for check in WORK_VIEWERS))


def can_see_identity(user, sample) -> bool:
    """May read the student link: only staff of the uploading school."""
    return is_school_staff(user, sample)


def can_record_local_score(user, sample) -> bool:
    """The class teacher: the teacher at the sample's school who uploaded it."""
    return (sample.uploaded_by_id == user.id and not sample.is_archived
            and sample.school_id in school_ids(user, Role.TEACHER))


def can_confirm_redaction(user, sample) -> bool:
    return sample.uploaded_by_id == user.id and is_school_staff(user, sample)


def can_redact(user, sample) -> bool:
    """Black out parts of the work, or say whose it is: its uploader, while it is not archived
    (a name noticed after the confirmation can still be blacked out)."""
    return can_confirm_redaction(user, sample) and not sample.is_archived


def can_manage_sample(user, sample) -> bool:
    """Delete (or, once scored, archive) the sample."""
    return is_in_scope(user, sample) and (
        is_school_staff(user, sample) or _district_id(sample) in admin_district_ids(user))


def can_promote_anchor(user, sample) -> bool:
    """Coaches in scope and district administrators of the sample's district."""
    return ((sample.school_id in school_ids(user, Role.COACH)
             or _district_id(sample) in oversight_district_ids(user))
            and sample.id not in blind_sample_ids(user))


def can_purge(user, sample) -> bool:
    return _district_id(sample) in admin_district_ids(user) and is_in_scope(user, sample)


@dataclass(frozen=True)
class SampleAccess:
    """Everything a page needs to know about one user and one sample, decided once."""

    view: bool
    in_scope: bool
    identity: bool
    local_score: bool
    confirm_redaction: bool
    redact: bool
    manage: bool
    promote: bool
    purge: bool


def access(user, sample) -> SampleAccess:
    return SampleAccess(
        view=can_view_sample(user, sample),
        in_scope=is_in_scope(user, sample),
        identity=can_see_identity(user, sample),
        local_score=can_record_local_score(user, sample),
        confirm_redaction=can_confirm_redaction(user, sample),
        redact=can_redact(user, sample),
        manage=can_manage_sample(user, sample),
        promote=can_promote_anchor(user, sample),
        purge=can_purge(user, sample),
    )
