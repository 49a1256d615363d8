"""The district administrator's people: find them, create them, edit them, deactivate them.

People are never deleted: their ratings keep their rater. Deactivating ends their sessions,
refuses their logins (with the same words as a wrong password, so strangers learn nothing) and
takes them out of every pool and queue. Every change is audited. Reads and writes live
together here because they serve one set of pages; services flush, the view commits.
"""

import re
from dataclasses import dataclass

from sqlalchemy import func, or_

from moderation.accounts.models import District, Membership, Role, School, User
from moderation.accounts.queries import user_by_email
from moderation.accounts.services import AccountError, grant_role
from moderation.core import audit
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.scoring.models import QueueItem, RoundStatus, ScoringRound

PAGE_SIZE = 50
# Enough to catch a typing slip; delivery (the invitation) is the real test of an address.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Reserved, never delivered (RFC 2606): a rater an imported past moderation knew only by a code
# has an address here until an administrator enters their real one.
PLACEHOLDER_DOMAIN = "imported.invalid"


def has_placeholder_email(person: User) -> bool:
    return person.email.endswith("@" + PLACEHOLDER_DOMAIN)


# --- reads -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PeopleFilters:
    search: str = ""
    school_id: int | None = None
    role: Role | None = None
    page: int = 1


@dataclass(frozen=True)
class PeoplePage:
    people: list[User]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _people_of(district_id: int, filters: PeopleFilters):
    """Ids of the people holding a role in the district that matches the filters."""
    matching = db.select(Membership.user_id).where(Membership.district_id == district_id)
    if filters.school_id is not None:
        matching = matching.where(Membership.school_id == filters.school_id)
    if filters.role is not None:
        matching = matching.where(Membership.role == filters.role)
    query = db.select(User).where(User.id.in_(matching))
    words = filters.search.strip().lower()
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.display_name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    return query


def people_page(district_id: int, filters: PeopleFilters, size: int = PAGE_SIZE) -> PeoplePage:
    """One page of the district's people, by name, with the count of all that match: two
    statements plus one for the page's memberships, however many people the district has."""
    query = _people_of(district_id, filters)
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery()))
    number = min(max(1, filters.page), max(1, -(-total // size)))
    people = db.session.execute(
        query.order_by(User.display_name, User.id)  # the name's index serves the page
        .limit(size).offset((number - 1) * size)
    ).scalars().all()
    return PeoplePage(list(people), total, number, size)


def person_in_district(user_id: int, district_id: int) -> User | None:
    """The person, if they hold a role in the district (the administrator's reach)."""
    return db.session.execute(
        db.select(User).where(User.id == user_id, User.id.in_(
            db.select(Membership.user_id).where(Membership.district_id == district_id)))
    ).scalar_one_or_none()


def schools_of(district_id: int) -> list[School]:
    return list(db.session.execute(
        db.select(School).where(School.district_id == district_id).order_by(School.name)
    ).scalars())


# --- writes ------------------------------------------------------------------------------------

class PersonFieldError(AccountError):
    """Refused input of one field of the person's form; the page shows it under that field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PersonFieldError("display_name", "Enter the person's name.")
    if len(name) > 200:
        raise PersonFieldError("display_name", "Keep the name under 200 characters.")
    return name


def _clean_email(email: str | None, person: User | None = None) -> str:
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.match(email) or len(email) > 254:
        raise PersonFieldError("email", "Enter an email address such as name@school.org.")
    holder = user_by_email(email)
    if holder is not None and holder is not person:
        raise PersonFieldError("email", f"Someone already has the email {email}.")
    return email


def _check_reach(person: User, district: District) -> None:
    """Refuse changing who someone is when they also work in a district the administrator
    does not run: that district's administrator would see it happen without being asked."""
    elsewhere = {m.district_id for m in person.memberships} - {district.id}
    if elsewhere:
        raise AccountError(f"{person.display_name} also works in another district; its "
                           "administrator and yours must agree on this change.")


def create_person(district: District, actor: User, name: str, email: str, role: Role,
                  school: School | None) -> User:
    """A new person with one role in `district` and no password yet (they set one when
    invited). Audited as created, then as given the role."""
    person = User(email=_clean_email(email), display_name=_clean_name(name))
    db.session.add(person)
    db.session.flush()
    audit.record("user_created", actor=actor, obj=person, district=district, email=person.email)
    add_role(person, district, actor, role, school)
    return person


def update_person(person: User, district: District, actor: User, name: str, email: str
                  ) -> dict[str, list[str]]:
    """Change a person's name and email; the changes made, field -> [before, after]."""
    name, email = _clean_name(name), _clean_email(email, person)
    changes = {field: [before, after] for field, before, after in (
        ("name", person.display_name, name), ("email", person.email, email)) if before != after}
    if not changes:
        return changes
    _check_reach(person, district)
    person.display_name, person.email = name, email
    audit.record("person_updated", actor=actor, obj=person, district=district, changes=changes)
    db.session.flush()
    return changes


def add_role(person: User, district: District, actor: User, role: Role,
             school: School | None) -> Membership:
    if any(m.role == role and m.district_id == district.id and m.school_id == (
            school.id if school else None) for m in person.memberships):
        raise AccountError(f"{person.display_name} already has this role.")
    return grant_role(person, role, district, school, actor=actor)


def remove_role(person: User, district: District, actor: User | None,
                membership: Membership) -> None:
    """Take a role away; a person keeps at least one in the district (deactivate instead)."""
    if membership.user_id != person.id or membership.district_id != district.id:
        raise AccountError("That role is not one of this person's in your district.")
    if sum(m.district_id == district.id for m in person.memberships) == 1:
        raise AccountError(f"This is {person.display_name}'s only role in {district.name}. "
                           "Deactivate the account instead: their ratings stay theirs.")
    if membership.role == Role.DISTRICT_ADMIN and actor is not None and person.id == actor.id:
        raise AccountError("You cannot remove your own administrator role.")
    audit.record("role_revoked", actor=actor, obj=person, district=district,
                 role=membership.role.value, district_id=district.id,
                 school_id=membership.school_id)
    person.memberships.remove(membership)
    db.session.flush()


def _open_items(person: User, withdrawn: bool):
    return (db.select(QueueItem)
            .where(QueueItem.rater_id == person.id, QueueItem.submitted_at.is_(None),
                   QueueItem.withdrawn_at.is_not(None) if withdrawn
                   else QueueItem.withdrawn_at.is_(None),
                   QueueItem.round_id.in_(db.select(ScoringRound.id).where(
                       ScoringRound.status == RoundStatus.OPEN))))


def deactivate_person(person: User, district: District, actor: User | None) -> int:
    """Deactivate: no login, no session, no pool; the items they had not submitted in open
    rounds are withdrawn. Their ratings stay theirs. Returns the number withdrawn."""
    # No actor: the operator's command line (a roster import), which is no one's account.
    if actor is not None and person.id == actor.id:
        raise AccountError("You cannot deactivate your own account.")
    if person.deactivated_at is not None:
        raise AccountError(f"{person.display_name} is already deactivated.")
    _check_reach(person, district)
    now = utcnow()
    items = db.session.execute(_open_items(person, withdrawn=False)).scalars().all()
    for item in items:
        item.withdrawn_at = now
    person.deactivated_at = now
    person.session_version += 1
    audit.record("person_deactivated", actor=actor, obj=person, district=district,
                 withdrawn_items=len(items))
    db.session.flush()
    return len(items)


def reactivate_person(person: User, district: District, actor: User) -> int:
    """Let the person in again; their withdrawn items of rounds still open come back.
    Returns the number restored."""
    if person.deactivated_at is None:
        raise AccountError(f"{person.display_name} is not deactivated.")
    _check_reach(person, district)
    items = db.session.execute(_open_items(person, withdrawn=True)).scalars().all()
    for item in items:
        item.withdrawn_at = None
    person.deactivated_at = None
    audit.record("person_reactivated", actor=actor, obj=person, district=district,
                 restored_items=len(items))
    db.session.flush()
    return len(items)
