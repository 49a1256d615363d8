"""What an import would do: the roster's records compared with the district as it is.

A plan lists the schools and people to create, to change (name, email, roles), to link (an
existing school of the same name, a person of the same email, who had no roster id yet) and
to deactivate (people an earlier import brought in whose id is gone from the roster, or
disabled in it), and every problem, each at its line. People made by hand have no link and
are never deactivated. The database is read in a fixed few statements whatever the roster's
size: the district's links, its schools, and the people linked or matched by email.
"""

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func

from moderation.accounts.models import District, Membership, Role, School, User
from moderation.accounts.roster.formats import (
    ONEROSTER,
    PersonRecord,
    Problem,
    RoleRecord,
    Roster,
    SchoolRecord,
)
from moderation.accounts.roster.models import LinkKind, RosterLink
from moderation.core.extensions import db

# The roles a format can say; a linked person's other roles (a coach's, given by hand while
# the information system knows no coaches) are left as they are.
MANAGED = {ONEROSTER: {Role.TEACHER, Role.SCHOOL_LEADER, Role.DISTRICT_ADMIN}}
ALL_ROLES = set(Role)
# Emails are looked up this many at a time: SQLite limits the parameters of one statement.
CHUNK = 900

RoleKey = tuple[Role, str | None]  # a role and the roster id of its school


@dataclass
class SchoolPlan:
    record: SchoolRecord
    school: School | None = None  # None: to create
    linked: bool = False  # matched by name, now given the roster's id
    changes: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PersonPlan:
    record: PersonRecord
    user: User | None = None  # None: to create
    linked: bool = False  # matched by email, now given the roster's id
    changes: dict[str, list[str]] = field(default_factory=dict)  # name/email: [before, after]
    add_roles: list[RoleRecord] = field(default_factory=list)
    remove_roles: list[Membership] = field(default_factory=list)
    reactivate: bool = False


@dataclass
class Deactivation:
    user: User
    reason: str


@dataclass
class Plan:
    format: str
    problems: list[Problem] = field(default_factory=list)
    new_schools: list[SchoolPlan] = field(default_factory=list)
    changed_schools: list[SchoolPlan] = field(default_factory=list)
    new_people: list[PersonPlan] = field(default_factory=list)
    changed_people: list[PersonPlan] = field(default_factory=list)
    deactivations: list[Deactivation] = field(default_factory=list)
    held: list[tuple[str, str]] = field(default_factory=list)  # who, why left as they are
    unchanged_schools: int = 0
    # Schools an earlier import brought in that this roster leaves out: kept (schools are
    # archived by hand, never by an import).
    absent_schools: list[School] = field(default_factory=list)
    unchanged_people: int = 0
    ignored: Counter = field(default_factory=Counter)
    # Roster id -> name of every school a role may name, for the page's words.
    school_names: dict[str, str] = field(default_factory=dict)

    def school_name(self, source_id: str | None) -> str:
        return self.school_names.get(source_id, source_id or "")

    @property
    def is_empty(self) -> bool:
        return not (self.new_schools or self.changed_schools or self.new_people
                    or self.changed_people or self.deactivations)

    def counts(self) -> dict[str, int]:
        return {"new_schools": len(self.new_schools),
                "changed_schools": len(self.changed_schools),
                "new_people": len(self.new_people), "changed_people": len(self.changed_people),
                "linked_people": sum(p.linked for p in self.changed_people),
                "deactivated": len(self.deactivations),
                "unchanged_schools": self.unchanged_schools,
                "unchanged_people": self.unchanged_people,
                "ignored": sum(self.ignored.values()), "held": len(self.held)}

    def digest(self) -> str:
        """What the plan does, as a short text: the apply compares it with the one the
        administrator saw, so a plan changed meanwhile is shown again before it is applied."""
        import hashlib

        parts = [f"s+{p.record.source_id}" for p in self.new_schools]
        parts += [f"s~{p.record.source_id}{sorted(p.changes.items())}{p.linked}"
                  for p in self.changed_schools]
        parts += [f"p+{p.record.source_id}" for p in self.new_people]
        parts += [f"p~{p.record.source_id}{sorted(p.changes.items())}{p.linked}{p.reactivate}"
                  f"{[(r.role.value, r.school_source_id) for r in p.add_roles]}"
                  f"{sorted(m.id for m in p.remove_roles)}" for p in self.changed_people]
        parts += [f"d{d.user.id}" for d in self.deactivations]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def make_plan(district: District, roster: Roster, actor: User | None) -> Plan:
    """The plan of `roster` for `district`. A roster with bad lines is planned all the same
    (its bad records left out), so the lines the database refuses are listed with them."""
    plan = Plan(roster.format, problems=list(roster.problems), ignored=Counter(roster.ignored))
    if any(p.line is None or p.line == 1 for p in roster.problems):
        return plan  # a file missing, unreadable or with a wrong header: nothing to compare
    links = db.session.execute(
        db.select(RosterLink).where(RosterLink.district_id == district.id)).scalars().all()
    school_links = {link.source_id: link.school_id for link in links
                    if link.kind == LinkKind.SCHOOL}
    person_links = {link.source_id: link.user_id for link in links
                    if link.kind == LinkKind.PERSON}
    schools = {s.id: s for s in db.session.execute(
        db.select(School).where(School.district_id == district.id)).scalars()}
    school_source = _plan_schools(plan, roster, schools, school_links)
    plan.school_names = {source: school.name for source, school in school_source.items()
                         if school is not None}
    plan.school_names |= {p.record.source_id: p.record.name for p in plan.new_schools}
    _plan_people(plan, district, roster, actor, person_links, school_source)
    plan.problems.sort(key=lambda p: (p.file, p.line or 0))
    return plan


def _plan_schools(plan: Plan, roster: Roster, schools: dict[int, School],
                  links: dict[str, int]) -> dict[str, School | None]:
    """Plan the schools; returns roster id -> school (None: created by this import) for
    every school a person's role may name: the file's and those linked before."""
    source_of = {school_id: source for source, school_id in links.items()}
    by_name = {s.name.lower(): s for s in schools.values()}
    known: dict[str, School | None] = {source: schools.get(school_id)
                                       for source, school_id in links.items()}
    names_in_file: dict[str, SchoolRecord] = {}
    for record in roster.schools:
        if record.deleted:
            continue
        first = names_in_file.setdefault(record.name.lower(), record)
        if first is not record:
            plan.problems.append(Problem(record.where.file, record.where.line, "name", (
                f"Two schools are called {record.name} (also line {first.where.line}).")))
            continue
        school = schools.get(links.get(record.source_id, -1))
        same_name = by_name.get(record.name.lower())
        if school is None:
            if same_name is not None and same_name.id in source_of:
                plan.problems.append(Problem(record.where.file, record.where.line, "name", (
                    f"{same_name.name} came from the roster with the id "
                    f"{source_of[same_name.id]}, not {record.source_id}.")))
                continue
            if same_name is not None:
                plan.changed_schools.append(SchoolPlan(record, same_name, linked=True,
                                                       changes=_school_changes(same_name,
                                                                               record)))
                known[record.source_id] = same_name
                source_of[same_name.id] = record.source_id
            else:
                plan.new_schools.append(SchoolPlan(record))
                known[record.source_id] = None
            continue
        known[record.source_id] = school
        changes = _school_changes(school, record)
        if changes and same_name is not None and same_name is not school:
            plan.problems.append(Problem(record.where.file, record.where.line, "name", (
                f"The district already has another school called {same_name.name}.")))
        elif changes:
            plan.changed_schools.append(SchoolPlan(record, school, changes=changes))
        else:
            plan.unchanged_schools += 1
    in_file = {r.source_id for r in roster.schools if not r.deleted}
    plan.absent_schools = sorted(
        (schools[school_id] for source, school_id in links.items()
         if source not in in_file and school_id in schools
         and not schools[school_id].is_archived), key=lambda s: s.name)
    return known


def _school_changes(school: School, record: SchoolRecord) -> dict[str, list[str]]:
    changes = {}
    if school.name != record.name:
        changes["Name"] = [school.name, record.name]
    if record.grade_band is not None and record.grade_band != school.grade_band:
        changes["Grades"] = [school.grade_band or "not recorded", record.grade_band]
    return changes


def _users(ids: set[int], emails: set[str]) -> tuple[dict[int, User], dict[str, User]]:
    """The people linked in the district and those holding the roster's emails, with their
    memberships (loaded with them): one statement a chunk."""
    found: dict[int, User] = {}
    for chunk in _chunks(sorted(ids)):
        found |= {u.id: u for u in db.session.execute(
            db.select(User).where(User.id.in_(chunk))).scalars()}
    by_email = {u.email: u for u in found.values()}
    for chunk in _chunks(sorted(emails - set(by_email))):
        for user in db.session.execute(
                db.select(User).where(func.lower(User.email).in_(chunk))).scalars():
            found[user.id] = user
            by_email[user.email.lower()] = user
    return found, by_email


def _chunks(values: list):
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def _plan_people(plan: Plan, district: District, roster: Roster, actor: User | None,
                 links: dict[str, int], schools: dict[str, School | None]) -> None:
    managed = MANAGED.get(roster.format, ALL_ROLES)
    users, by_email = _users(set(links.values()), {p.email for p in roster.people})
    linked_ids = {user_id: source for source, user_id in links.items()}
    school_source = {s.id: source for source, s in schools.items() if s is not None}
    in_file: set[str] = set()

    for record in roster.people:
        in_file.add(record.source_id)
        if not _roles_known(plan, record, schools):
            continue
        user = users.get(links.get(record.source_id, -1))
        linked = False
        if user is None:
            holder = by_email.get(record.email)
            if holder is not None and holder.id in linked_ids:
                plan.problems.append(Problem(record.where.file, record.where.line, "email", (
                    f"{record.email} is {holder.display_name}'s, who came from the roster "
                    f"with the id {linked_ids[holder.id]}, not {record.source_id}.")))
                continue
            if holder is None:
                if record.active:
                    plan.new_people.append(PersonPlan(record))
                else:
                    plan.ignored["disabled in the roster and not here"] += 1
                continue
            if not record.active:
                # Made by hand: an import never turns them off; and it does not claim them.
                plan.ignored["disabled in the roster, added by hand here (left as they are)"] += 1
                continue
            user, linked = holder, True
        elif not record.active:
            if user.deactivated_at is None:
                _deactivate(plan, district, actor, user, "disabled or to be deleted in the roster")
            else:
                plan.unchanged_people += 1
            continue
        _plan_person(plan, district, actor, record, user, linked, managed, by_email,
                     school_source)

    for source, user_id in links.items():
        user = users.get(user_id)
        if source not in in_file and user is not None and user.deactivated_at is None:
            _deactivate(plan, district, actor, user, "no longer in the roster")
    if not roster.people and plan.deactivations and not roster.problems:
        plan.problems.append(Problem("upload", None, None, (
            f"The roster lists no people: importing it would deactivate all "
            f"{len(plan.deactivations)} people who came from the roster. Check the file.")))


def _roles_known(plan: Plan, record: PersonRecord, schools: dict[str, School | None]) -> bool:
    known = True
    for role in record.roles:
        if role.school_source_id is not None and role.school_source_id not in schools:
            plan.problems.append(Problem(role.where.file, role.where.line, (
                "orgSourcedId" if plan.format == ONEROSTER else "school"), (
                f"The school id {role.school_source_id} is neither in the file nor one of "
                "the district's schools from an earlier import.")))
            known = False
    return known


def _elsewhere(user: User, district: District) -> bool:
    return any(m.district_id != district.id for m in user.memberships)


def _deactivate(plan: Plan, district: District, actor: User | None, user: User,
                reason: str) -> None:
    if actor is not None and user.id == actor.id:
        plan.held.append((user.display_name, "you cannot deactivate your own account"))
    elif _elsewhere(user, district):
        plan.held.append((user.display_name, "also works in another district, whose "
                          "administrator must agree: deactivate them by hand"))
    else:
        plan.deactivations.append(Deactivation(user, reason))


def _plan_person(plan: Plan, district: District, actor: User | None, record: PersonRecord,
                 user: User, linked: bool, managed: set[Role], by_email: dict[str, User],
                 school_source: dict[int, str]) -> None:
    changes = {}
    if user.display_name != record.name:
        changes["name"] = [user.display_name, record.name]
    if user.email != record.email:
        holder = by_email.get(record.email)
        if holder is not None and holder.id != user.id:
            plan.problems.append(Problem(record.where.file, record.where.line, "email", (
                f"{record.email} is already {holder.display_name}'s email.")))
            return
        changes["email"] = [user.email, record.email]
    if changes and _elsewhere(user, district):
        plan.held.append((user.display_name, "also works in another district: their name "
                          "and email are changed by hand, with that district agreeing"))
        changes = {}
    current = {(m.role, school_source.get(m.school_id, f"#{m.school_id}")
                if m.school_id else None): m
               for m in user.memberships if m.district_id == district.id}
    wanted = {(r.role, r.school_source_id): r for r in record.roles}
    add = [r for key, r in wanted.items() if key not in current]
    remove = []
    if not linked:  # a person matched by email keeps the roles given by hand
        for key, membership in current.items():
            if key in wanted or membership.role not in managed:
                continue
            if actor is not None and user.id == actor.id and membership.role == Role.DISTRICT_ADMIN:
                plan.held.append((user.display_name, "keeps their administrator role: you "
                                  "cannot remove your own"))
                continue
            remove.append(membership)
    reactivate = user.deactivated_at is not None
    if reactivate and _elsewhere(user, district):
        plan.held.append((user.display_name, "is deactivated and also works in another "
                          "district: reactivate them by hand"))
        reactivate = False
    person = PersonPlan(record, user, linked, changes, add, remove, reactivate)
    if changes or add or remove or linked or reactivate:
        plan.changed_people.append(person)
    else:
        plan.unchanged_people += 1
