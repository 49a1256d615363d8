"""Reading roster files into plain records, each with the file and line it came from.

Two formats: the platform's own CSV (one file, a row per school and per person's role; see
docs/roster.md) and the OneRoster 1.2 bulk CSV that student information systems export
(orgs.csv, users.csv, roles.csv, alone or in a zip). Pure: no request, no database (the
Role enum is its only import of ours). Problems
are collected, never raised one at a time, so an administrator sees every bad line at once;
whether a school id exists in the district is the plan's question (plan.py).
"""

import csv
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field

from moderation.accounts.models import Role

# A district's roster with every staff member is a few MB; more is a wrong file (or a zip bomb).
MAX_FILE_BYTES = 10 * 2**20
MAX_ROWS = 50_000
# The same pattern as the people pages' email check (people.EMAIL_PATTERN), kept here so this
# module imports no database code; a test keeps the two equal.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 200
MAX_EMAIL = 254
MAX_SOURCE_ID = 255

OWN = "own"
ONEROSTER = "oneroster"

OWN_REQUIRED = ("kind", "source_id", "name", "email", "role", "school")
OWN_OPTIONAL = ("grades", "status")
# The own format's role column: our values and the labels people see on the pages.
OWN_ROLES = {role.value: role for role in Role} | {role.label.lower(): role for role in Role} | {
    "coach": Role.COACH, "principal": Role.SCHOOL_LEADER, "administrator": Role.DISTRICT_ADMIN}
ACTIVE, INACTIVE = "active", "inactive"

ONEROSTER_FILES = ("orgs.csv", "users.csv", "roles.csv")
# Files of a OneRoster bulk export this import does not read (classes, enrolments, results...).
ONEROSTER_OTHER = {"manifest.csv", "academicsessions.csv", "classes.csv", "courses.csv",
                   "demographics.csv", "enrollments.csv", "resources.csv", "classresources.csv",
                   "courseresources.csv", "userprofiles.csv", "lineitems.csv", "results.csv",
                   "categories.csv", "scoringscales.csv", "lineitemlearningobjectiveids.csv",
                   "resultlearningobjectiveids.csv", "lineitemscorescales.csv",
                   "resultscorescales.csv", "userresources.csv", "scoreScales.csv".lower()}
ORGS_REQUIRED = ("sourcedId", "status", "name", "type")
USERS_REQUIRED = ("sourcedId", "status", "enabledUser", "username", "givenName", "familyName",
                  "email")
ROLES_REQUIRED = ("sourcedId", "status", "userSourcedId", "roleType", "role", "orgSourcedId")
# OneRoster 1.2 roles (RoleEnum) and what each is here. An aide supports a class but does not
# score or moderate, so aides are left out like students; so are counsellors, proctors and
# system administrators (who run the information system, not teaching).
AT_SCHOOL = {"teacher": Role.TEACHER, "principal": Role.SCHOOL_LEADER,
             "siteAdministrator": Role.SCHOOL_LEADER, "administrator": Role.SCHOOL_LEADER,
             "districtAdministrator": Role.DISTRICT_ADMIN}
AT_DISTRICT = {"districtAdministrator": Role.DISTRICT_ADMIN,
               "administrator": Role.DISTRICT_ADMIN}
IGNORED_ROLES = {"student", "guardian", "parent", "relative", "aide", "counselor", "proctor",
                 "systemAdministrator"}
SCHOOL_ONLY = {"teacher", "principal", "siteAdministrator"}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the upload, where it is and what is wrong, in words."""

    file: str
    line: int | None  # None: the file as a whole
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file + (f", line {self.line}" if self.line else "") + (
            f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Where:
    file: str
    line: int


@dataclass(frozen=True)
class SchoolRecord:
    source_id: str
    name: str
    grade_band: str | None  # None: the format does not say (OneRoster); keep what is stored
    where: Where
    deleted: bool = False  # OneRoster's status tobedeleted


@dataclass(frozen=True)
class RoleRecord:
    role: Role
    school_source_id: str | None
    where: Where


@dataclass
class PersonRecord:
    source_id: str
    name: str
    email: str
    where: Where
    roles: list[RoleRecord] = field(default_factory=list)
    active: bool = True  # False: deactivate (disabled, to be deleted, or status inactive)


@dataclass
class Roster:
    format: str
    schools: list[SchoolRecord] = field(default_factory=list)
    people: list[PersonRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: Counter = field(default_factory=Counter)  # reason -> how many people


# --- files in --------------------------------------------------------------------------------

def unpack(uploads: list[tuple[str, bytes]]) -> tuple[dict[str, bytes], list[Problem]]:
    """The CSV files of an upload by lower-case base name: zips unpacked, sizes checked."""
    files: dict[str, bytes] = {}
    problems: list[Problem] = []

    def add(name: str, data: bytes) -> None:
        base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
        if not base or base.startswith("."):
            return
        if base in files:
            problems.append(Problem(base, None, None, "This file was uploaded twice."))
        else:
            files[base] = data

    for name, data in uploads:
        if len(data) > MAX_FILE_BYTES:
            problems.append(Problem(name, None, None, _too_large()))
        elif data[:4] == b"PK\x03\x04" or name.lower().endswith(".zip"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    members = [m for m in archive.infolist() if not m.is_dir()]
                    if sum(m.file_size for m in members) > MAX_FILE_BYTES:
                        problems.append(Problem(name, None, None, _too_large()))
                        continue
                    for member in members:
                        add(member.filename, archive.read(member)[:MAX_FILE_BYTES + 1])
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError,
                    RuntimeError, EOFError):
                problems.append(Problem(name, None, None,
                                        "This is not a zip file that can be opened."))
        else:
            add(name, data)
    return files, problems


def _too_large() -> str:
    return (f"The file is larger than {MAX_FILE_BYTES // 2**20} MB: a roster of every staff "
            "member is far smaller. Check that this is the right file.")


def decode(name: str, data: bytes) -> tuple[str | None, Problem | None]:
    """The file's text; UTF-8 with or without a byte-order mark, nothing else."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        return None, Problem(name, line, None, "The file is not saved as UTF-8. In your "
                             "spreadsheet choose “CSV UTF-8” when you save or export it.")
    if "\x00" in text:
        return None, Problem(name, None, None, "The file holds binary data, not CSV text.")
    return text, None


def read(files: dict[str, str]) -> Roster:
    """Read decoded files (base name -> text) in whichever format they are."""
    names = set(files)
    if names & set(ONEROSTER_FILES):
        return read_oneroster(files)
    csvs = [n for n in names if n.endswith(".csv") or n.endswith(".txt")]
    if len(csvs) == 1 and not names - set(csvs):
        return read_own(csvs[0], files[csvs[0]])
    roster = Roster(OWN)
    if not names:
        roster.problems.append(Problem("upload", None, None, "Choose the roster file to upload."))
    else:
        roster.problems.append(Problem(
            ", ".join(sorted(names)), None, None,
            "Upload one CSV file in the platform's format, or OneRoster's orgs.csv, users.csv "
            "and roles.csv (or their zip)."))
    return roster


def read_uploads(uploads: list[tuple[str, bytes]]) -> tuple[Roster, dict[str, str]]:
    """Unpack, decode and read an upload; the decoded files are what an import keeps."""
    raw, problems = unpack(uploads)
    texts: dict[str, str] = {}
    for name, data in sorted(raw.items()):
        if name in ONEROSTER_OTHER:
            continue
        text, problem = decode(name, data)
        if problem:
            problems.append(problem)
        else:
            texts[name] = text
    if problems:
        return Roster(OWN, problems=problems), texts
    return read(texts), texts


def _rows(name: str, text: str, required: tuple[str, ...], optional: tuple[str, ...],
          problems: list[Problem], exact_case: bool, known_extra: bool = False):
    """(line number, row dict) of a CSV file after its header is checked; nothing when the
    header is wrong. `known_extra`: columns besides those named are allowed (OneRoster has
    many that are not read here)."""
    if not text.strip():
        problems.append(Problem(name, None, None, "The file is empty."))
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as error:
        problems.append(Problem(name, 1, None, f"The header cannot be read as CSV ({error})."))
        return
    header = [h.strip() for h in header]
    keyed = header if exact_case else [h.lower() for h in header]
    missing = [c for c in required if c not in keyed]
    if missing:
        problems.append(Problem(name, 1, None, (
            "The first line must name the columns; missing: " + ", ".join(missing)
            + f". It reads: {', '.join(header)[:200] or '(empty)'}.")))
        return
    unknown = [h for h in keyed if h and h not in required + optional]
    if unknown and not known_extra:
        problems.append(Problem(name, 1, None, (
            "Unknown columns: " + ", ".join(unknown)[:200] + ". The columns are "
            + ", ".join(required + optional) + ".")))
        return
    if dupes := [c for c, n in Counter(keyed).items() if n > 1 and c]:
        problems.append(Problem(name, 1, None, "Columns named twice: " + ", ".join(dupes)))
        return
    count = 0
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                problems.append(Problem(name, line, None,
                                        f"More than {MAX_ROWS:,} rows: split the roster."))
                return
            if len(values) > len(keyed):
                problems.append(Problem(name, line, None, (
                    f"This line has {len(values)} values but the header names {len(keyed)} "
                    "columns: is there an unquoted comma?")))
                continue
            yield line, {k: (values[i].strip() if i < len(values) else "")
                         for i, k in enumerate(keyed)}
    except csv.Error as error:
        problems.append(Problem(name, reader.line_num, None,
                                f"This line cannot be read as CSV ({error})."))


def _check_email(email: str, name: str, line: int, column: str,
                 problems: list[Problem]) -> str | None:
    email = email.strip().lower()
    if not email:
        problems.append(Problem(name, line, column, "The email is missing."))
        return None
    if not EMAIL_PATTERN.match(email) or len(email) > MAX_EMAIL:
        problems.append(Problem(name, line, column, (
            f"“{email[:80]}” is not an email address such as name@school.org.")))
        return None
    return email


def _check_name(text: str, name: str, line: int, column: str, problems: list[Problem],
                what: str = "person's name") -> str | None:
    text = " ".join(text.split())
    if not text:
        problems.append(Problem(name, line, column, f"The {what} is missing."))
        return None
    if len(text) > MAX_NAME:
        problems.append(Problem(name, line, column, f"The {what} is over {MAX_NAME} characters."))
        return None
    return text


def _check_id(text: str, name: str, line: int, column: str,
              problems: list[Problem]) -> str | None:
    if not text:
        problems.append(Problem(name, line, column, "The id is missing."))
        return None
    if len(text) > MAX_SOURCE_ID:
        problems.append(Problem(name, line, column, f"The id is over {MAX_SOURCE_ID} characters."))
        return None
    return text


# --- the platform's own CSV --------------------------------------------------------------------

def read_own(name: str, text: str) -> Roster:
    """One file: a row per school (kind school) and per role of a person (kind person; a
    person with two roles has two rows with the same source_id, name and email)."""
    roster = Roster(OWN)
    problems = roster.problems
    schools: dict[str, SchoolRecord] = {}
    people: dict[str, PersonRecord] = {}
    for line, row in _rows(name, text, OWN_REQUIRED, OWN_OPTIONAL, problems, exact_case=False):
        kind = row["kind"].lower()
        source_id = _check_id(row["source_id"], name, line, "source_id", problems)
        if kind == "school":
            school_name = _check_name(row["name"], name, line, "name", problems,
                                      "school's name")
            if source_id is None or school_name is None:
                continue
            if source_id in schools:
                problems.append(Problem(name, line, "source_id", (
                    f"The school id {source_id} is already used on line "
                    f"{schools[source_id].where.line}.")))
                continue
            schools[source_id] = SchoolRecord(source_id, school_name,
                                              row.get("grades", "").strip() or None,
                                              Where(name, line))
        elif kind == "person":
            _own_person(name, line, row, source_id, people, problems)
        else:
            problems.append(Problem(name, line, "kind", (
                f"The kind must be school or person, not “{row['kind'][:40]}”.")))
    roster.schools = list(schools.values())
    roster.people = list(people.values())
    _check_emails_unique(roster)
    return roster


def _own_person(name, line, row, source_id, people, problems) -> None:
    person_name = _check_name(row["name"], name, line, "name", problems)
    email = _check_email(row["email"], name, line, "email", problems)
    role_text = row["role"].strip()
    role = OWN_ROLES.get(role_text.lower())
    if role is None:
        problems.append(Problem(name, line, "role", (
            f"“{role_text[:40]}” is not a role: write teacher, coach, school_leader or "
            "district_admin." if role_text else "The role is missing: write teacher, coach, "
            "school_leader or district_admin.")))
    status = row.get("status", "").strip().lower() or ACTIVE
    if status not in (ACTIVE, INACTIVE):
        problems.append(Problem(name, line, "status", (
            f"The status must be active or inactive (or empty), not “{status[:40]}”.")))
    school = row["school"].strip() or None
    if role is not None:
        if role.needs_school and school is None:
            problems.append(Problem(name, line, "school", (
                f"A {role.label.lower()} belongs to a school: write the school's id.")))
            role = None
        elif role == Role.DISTRICT_ADMIN and school is not None:
            problems.append(Problem(name, line, "school", (
                "A district administrator works district-wide: leave the school empty.")))
            role = None
    if None in (source_id, person_name, email, role):
        return
    record = RoleRecord(role, school, Where(name, line))
    person = people.get(source_id)
    if person is None:
        people[source_id] = PersonRecord(source_id, person_name, email, Where(name, line),
                                         [record], active=status == ACTIVE)
        return
    if (person.name, person.email) != (person_name, email):
        problems.append(Problem(name, line, "source_id", (
            f"The person id {source_id} is already used on line {person.where.line} for "
            f"{person.name} <{person.email}>: one id, one person (a second role repeats the "
            "same name and email).")))
    elif any((r.role, r.school_source_id) == (role, school) for r in person.roles):
        problems.append(Problem(name, line, None, (
            f"This role repeats line {person.where.line}.")))
    else:
        person.roles.append(record)
        person.active = person.active and status == ACTIVE


def _check_emails_unique(roster: Roster) -> None:
    seen: dict[str, PersonRecord] = {}
    for person in roster.people:
        first = seen.setdefault(person.email, person)
        if first is not person:
            roster.problems.append(Problem(person.where.file, person.where.line, "email", (
                f"The email {person.email} is also {first.name}'s (line {first.where.line}): "
                "each person needs their own email.")))


# --- OneRoster 1.2 bulk CSV ------------------------------------------------------------------

def _used_before(lines: dict[str, int], source_id: str, file: str, line: int, what: str,
                 problems: list[Problem]) -> bool:
    """True, with a problem named, when a OneRoster file already had this sourcedId; else
    remembers the line it is on."""
    if source_id in lines:
        problems.append(Problem(file, line, "sourcedId", (
            f"The {what} id {source_id} is already used on line {lines[source_id]}.")))
        return True
    lines[source_id] = line
    return False


def read_oneroster(files: dict[str, str]) -> Roster:
    roster = Roster(ONEROSTER)
    problems = roster.problems
    for needed in ONEROSTER_FILES:
        if needed not in files:
            problems.append(Problem(needed, None, None, (
                f"{needed} is missing: OneRoster needs orgs.csv, users.csv and roles.csv.")))
    if extra := sorted(set(files) - set(ONEROSTER_FILES)):
        problems.append(Problem(", ".join(extra), None, None, (
            "These files are not part of a OneRoster export this import reads.")))
    if problems:
        return roster

    org_types: dict[str, str] = {}  # sourcedId -> type
    org_lines: dict[str, int] = {}
    for line, row in _rows("orgs.csv", files["orgs.csv"], ORGS_REQUIRED,
                           ("dateLastModified", "identifier", "parentSourcedId"), problems,
                           exact_case=True, known_extra=True):
        source_id = _check_id(row["sourcedId"], "orgs.csv", line, "sourcedId", problems)
        if source_id is None:
            continue
        if _used_before(org_lines, source_id, "orgs.csv", line, "org", problems):
            continue
        org_type = row["type"].strip()
        org_types[source_id] = org_type
        if org_type == "school":
            school_name = _check_name(row["name"], "orgs.csv", line, "name", problems,
                                      "school's name")
            if school_name:
                roster.schools.append(SchoolRecord(
                    source_id, school_name, None, Where("orgs.csv", line),
                    deleted=row["status"].strip() == "tobedeleted"))

    roles_of: dict[str, list[tuple[str, str, Where]]] = {}
    role_lines: dict[str, int] = {}
    for line, row in _rows("roles.csv", files["roles.csv"], ROLES_REQUIRED,
                           ("dateLastModified", "beginDate", "endDate", "userProfileSourcedId"),
                           problems, exact_case=True, known_extra=True):
        if (rid := row["sourcedId"]) and _used_before(role_lines, rid, "roles.csv", line,
                                                       "role", problems):
            continue
        if row["status"].strip() == "tobedeleted":
            continue
        role_name = row["role"].strip()
        if role_name not in AT_SCHOOL and role_name not in AT_DISTRICT \
                and role_name not in IGNORED_ROLES:
            problems.append(Problem("roles.csv", line, "role", (
                f"“{role_name[:40]}” is not a OneRoster 1.2 role." if role_name
                else "The role is missing.")))
            continue
        roles_of.setdefault(row["userSourcedId"].strip(), []).append(
            (role_name, row["orgSourcedId"].strip(), Where("roles.csv", line)))

    user_lines: dict[str, int] = {}
    for line, row in _rows("users.csv", files["users.csv"], USERS_REQUIRED,
                           ("dateLastModified", "userIds", "middleName", "identifier", "sms",
                            "phone", "agentSourcedIds", "grades", "password",
                            "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
                            "preferredMiddleName", "preferredFamilyName",
                            "primaryOrgSourcedId", "pronouns"),
                           problems, exact_case=True, known_extra=True):
        source_id = _check_id(row["sourcedId"], "users.csv", line, "sourcedId", problems)
        if source_id is None:
            continue
        if _used_before(user_lines, source_id, "users.csv", line, "user", problems):
            continue
        _oneroster_person(roster, row, line, source_id, roles_of.pop(source_id, []), org_types)
    for user_id, rows in roles_of.items():
        for _, _, where in rows:
            problems.append(Problem("roles.csv", where.line, "userSourcedId", (
                f"The user id {user_id} is not in users.csv.")))
    _check_emails_unique(roster)
    return roster


def _oneroster_person(roster: Roster, row: dict, line: int, source_id: str,
                      role_rows: list[tuple[str, str, Where]],
                      org_types: dict[str, str]) -> None:
    problems = roster.problems
    records: list[RoleRecord] = []
    for role_name, org_id, where in role_rows:
        if org_id not in org_types:
            problems.append(Problem("roles.csv", where.line, "orgSourcedId", (
                f"The org id {org_id} is not in orgs.csv." if org_id
                else "The org id is missing.")))
            continue
        if role_name in IGNORED_ROLES:
            continue
        at_school = org_types[org_id] == "school"
        role = (AT_SCHOOL if at_school else AT_DISTRICT).get(role_name)
        if role is None:
            problems.append(Problem("roles.csv", where.line, "orgSourcedId", (
                f"A {role_name} belongs to a school, but {org_id} is a "
                f"{org_types[org_id] or 'org without a type'} in orgs.csv.")))
            continue
        record = RoleRecord(role, org_id if role.needs_school else None, where)
        if all((r.role, r.school_source_id) != (record.role, record.school_source_id)
               for r in records):
            records.append(record)
    if not records:
        if role_rows:
            kinds = {r for r, _, _ in role_rows}
            roster.ignored[_ignored_reason(kinds)] += 1
        else:
            roster.ignored["no role in roles.csv"] += 1
        return
    given = row.get("preferredGivenName") or row["givenName"]
    family = row.get("preferredFamilyName") or row["familyName"]
    person_name = _check_name(f"{given} {family}", "users.csv", line, "givenName", problems)
    email = _check_email(row["email"] or row["username"], "users.csv", line, "email", problems)
    if person_name is None or email is None:
        return
    enabled = row["enabledUser"].strip().lower()
    if enabled not in ("true", "false", ""):
        problems.append(Problem("users.csv", line, "enabledUser", (
            f"enabledUser must be true or false, not “{enabled[:20]}”.")))
        return
    active = enabled != "false" and row["status"].strip() != "tobedeleted"
    roster.people.append(PersonRecord(source_id, person_name, email, Where("users.csv", line),
                                      records, active=active))


def _ignored_reason(kinds: set[str]) -> str:
    if kinds & {"student"}:
        return "students"
    if kinds & {"guardian", "parent", "relative"}:
        return "parents and guardians"
    if "aide" in kinds:
        return "aides"
    return "other staff (counsellors, proctors, system administrators)"
