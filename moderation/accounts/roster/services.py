"""Uploading a roster (its dry run) and applying it. Services flush, never commit.

An upload with any problem saves nothing; one without is kept as a RosterImport, so the apply
uses the very files the administrator saw planned. The apply plans again against the database
as it is by then, and refuses if that plan differs from the one shown, so nothing stale is
applied. People are created in bulk statements (a roster has thousands); changes, which are
few, go through the people and schools services one by one, with their own rules and audit.
"""

import hashlib
import json

from sqlalchemy import insert

from moderation.accounts import people, schools
from moderation.accounts.models import District, Membership, School, User
from moderation.accounts.roster import formats
from moderation.accounts.roster.models import ImportStatus, LinkKind, RosterImport, RosterLink
from moderation.accounts.roster.plan import CHUNK, Plan, make_plan
from moderation.accounts.services import AccountError
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db


class RosterError(AccountError):
    """An import that cannot go ahead; the message is for the administrator."""


class RosterProblems(RosterError):
    """The roster has bad lines (now, against the database as it is): the plan lists them."""

    def __init__(self, plan: Plan):
        super().__init__(f"The roster has {len(plan.problems)} problems; nothing was saved.")
        self.plan = plan


class PlanChanged(RosterError):
    """Someone changed the district since the dry run: the new plan is to be read first."""

    def __init__(self, plan: Plan):
        super().__init__("The district changed since this dry run, so the plan did too. "
                         "Read the new plan below, then apply it.")
        self.plan = plan


def files_digest(files: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def upload(district: District, actor: User | None,
           uploads: list[tuple[str, bytes]]) -> tuple[RosterImport | None, Plan]:
    """The dry run of an upload: its plan, and the kept import when it has no problem."""
    roster, texts = formats.read_uploads(uploads)
    plan = make_plan(district, roster, actor)
    if plan.problems:
        return None, plan
    kept = RosterImport(district_id=district.id, uploaded_by_id=getattr(actor, "id", None),
                        format=roster.format, files=texts, sha256=files_digest(texts),
                        summary={}, note="")
    db.session.add(kept)
    db.session.flush()
    return kept, plan


def replan(kept: RosterImport, district: District, actor: User | None) -> Plan:
    if kept.district_id != district.id:
        raise RosterError("This import belongs to another district.")
    if files_digest(kept.files) != kept.sha256:
        raise RosterError("The stored files of this import changed; upload the roster again.")
    return make_plan(district, formats.read(kept.files), actor)


def apply(kept: RosterImport, district: District, actor: User | None,
          seen: str | None = None) -> Plan:
    """Apply the kept import; `seen` is the digest of the plan the administrator read."""
    if kept.status == ImportStatus.APPLIED:
        raise RosterError("This roster was already applied. Upload it again to compare it "
                          "with the district as it is now.")
    plan = replan(kept, district, actor)
    if plan.problems:
        raise RosterProblems(plan)
    if seen is not None and seen != plan.digest():
        raise PlanChanged(plan)
    # Claimed with a compare-and-set, so of two applies sent at once (a double click) one
    # goes ahead and the other, waiting on the row, finds it applied.
    claimed = db.session.execute(
        db.update(RosterImport)
        .where(RosterImport.id == kept.id, RosterImport.status == ImportStatus.PLANNED)
        .values(status=ImportStatus.APPLIED, applied_at=utcnow(),
                applied_by_id=getattr(actor, "id", None), summary=plan.counts())
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise RosterError("This roster was already applied.")
    db.session.refresh(kept)
    apply_plan(plan, district, actor)
    audit.record("roster_imported", actor=actor, obj=kept, district=district,
                 format=kept.format, sha256=kept.sha256, **plan.counts())
    db.session.flush()
    return plan


def apply_plan(plan: Plan, district: District, actor: User | None) -> None:
    by_source = _apply_schools(plan, district, actor)
    _create_people(plan, district, actor, by_source)
    for person in plan.changed_people:
        _change_person(person, district, actor, by_source)
    for deactivation in plan.deactivations:
        people.deactivate_person(deactivation.user, district, actor)
    db.session.flush()


def _apply_schools(plan: Plan, district: District, actor: User | None) -> dict[str, School]:
    """Create, change and link the schools; returns roster id -> school for every school
    the district has linked, these included."""
    for item in plan.new_schools:
        item.school = schools.create_school(district, actor, item.record.name,
                                            item.record.grade_band, {})
        db.session.add(RosterLink(district_id=district.id, kind=LinkKind.SCHOOL,
                                  source_id=item.record.source_id, school_id=item.school.id))
    for item in plan.changed_schools:
        if item.changes:
            grades = item.record.grade_band if item.record.grade_band is not None \
                else item.school.grade_band
            schools.edit_school(item.school, actor, item.record.name, grades, {})
        if item.linked:
            db.session.add(RosterLink(district_id=district.id, kind=LinkKind.SCHOOL,
                                      source_id=item.record.source_id, school_id=item.school.id))
            audit.record("roster_school_linked", actor=actor, obj=item.school,
                         source_id=item.record.source_id, name=item.school.name)
    db.session.flush()
    linked = db.session.execute(
        db.select(RosterLink.source_id, School).join(School, School.id == RosterLink.school_id)
        .where(RosterLink.district_id == district.id, RosterLink.kind == LinkKind.SCHOOL)).all()
    return {source: school for source, school in linked}


def _create_people(plan: Plan, district: District, actor: User | None,
                   by_source: dict[str, School]) -> None:
    """Everyone new in a few multi-row statements (people, roles, links, an audit event each)
    rather than thousands of flushes."""
    if not plan.new_people:
        return
    now = utcnow()
    records = [item.record for item in plan.new_people]
    # One executemany, then the ids by email: RETURNING in the rows' order would be sent row
    # by row on SQLite.
    db.session.execute(insert(User), [
        {"email": r.email, "display_name": r.name, "session_version": 1, "created_at": now}
        for r in records])
    emails = [r.email for r in records]
    id_of = {}
    for start in range(0, len(emails), CHUNK):
        id_of |= dict(db.session.execute(db.select(User.email, User.id).where(
            User.email.in_(emails[start:start + CHUNK]))).all())
    memberships, links, events = [], [], []
    for record in records:
        user_id = id_of[record.email]
        links.append({"district_id": district.id, "kind": LinkKind.PERSON,
                      "source_id": record.source_id, "user_id": user_id, "created_at": now})
        for role in record.roles:
            school = by_source[role.school_source_id] if role.school_source_id else None
            memberships.append({"user_id": user_id, "role": role.role,
                                "district_id": district.id,
                                "school_id": school.id if school else None})
        events.append((user_id, {
            "email": record.email, "source_id": record.source_id,
            "roles": [{"role": r.role.value, "school_id": by_source[r.school_source_id].id
                       if r.school_source_id else None} for r in record.roles]}))
    db.session.execute(insert(Membership), memberships)
    db.session.execute(insert(RosterLink), links)
    audit.record_many("roster_person_created", object_type="User", district_id=district.id,
                      actor=actor, items=events)


def _change_person(item, district: District, actor: User | None,
                   by_source: dict[str, School]) -> None:
    user = item.user
    if item.linked:
        db.session.add(RosterLink(district_id=district.id, kind=LinkKind.PERSON,
                                  source_id=item.record.source_id, user_id=user.id))
        audit.record("roster_person_linked", actor=actor, obj=user, district=district,
                     source_id=item.record.source_id, email=user.email)
    if item.changes:
        people.update_person(user, district, actor, item.record.name, item.record.email)
    for role in item.add_roles:
        school = by_source[role.school_source_id] if role.school_source_id else None
        people.add_role(user, district, actor, role.role, school)
    for membership in item.remove_roles:
        people.remove_role(user, district, actor, membership)
    if item.reactivate:
        people.reactivate_person(user, district, actor)
