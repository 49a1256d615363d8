"""Roster files for the tests (both formats, built line by line) and the page steps."""

import io
import zipfile
from pathlib import Path

from moderation.accounts.models import Membership, School, User
from moderation.accounts.roster.models import RosterImport, RosterLink
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from tests.conftest import csrf_token_from

SAMPLE = Path(__file__).parents[2] / "fixtures" / "roster" / "sample_roster.csv"
HEADER = "kind,source_id,name,email,role,school,grades,status\n"
TWO_SCHOOLS = ("school,S1,North School,,,,K-5,\n"
               "school,S2,South School,,,,6-8,\n")


def own(*rows: str) -> bytes:
    return (HEADER + TWO_SCHOOLS + "".join(r + "\n" for r in rows)).encode()


ORGS = ("sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "D1,active,2026-08-01,Lake District,district,,\n"
        "O1,active,2026-08-01,Lake Elementary,school,LE,D1\n"
        "O2,active,2026-08-01,Lake High,school,LH,D1\n")
USERS_HEADER = ("sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
                "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
                "password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
                "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n")
ROLES_HEADER = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,"
                "endDate,orgSourcedId,userProfileSourcedId\n")


def oneroster_user(source_id, given, family, email, enabled="true", status="active"):
    return (f"{source_id},{status},2026-08-01,{enabled},{email},,{given},{family},,,{email},,,"
            f",,,,,,,,O1,\n")


def oneroster_files(users: str, roles: str, orgs: str = ORGS) -> dict[str, bytes]:
    return {"orgs.csv": orgs.encode(), "users.csv": (USERS_HEADER + users).encode(),
            "roles.csv": (ROLES_HEADER + roles).encode()}


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


BASIC_USERS = (oneroster_user("U1", "Tia", "Moss", "tia@lake.example")
               + oneroster_user("U2", "Raj", "Patel", "raj@lake.example")
               + oneroster_user("U3", "Sam", "Student", "sam@lake.example")
               + oneroster_user("U4", "Pat", "Principal", "pat@lake.example")
               + oneroster_user("U5", "Dee", "Admin", "dee@lake.example")
               + oneroster_user("U6", "Al", "Aide", "al@lake.example")
               + oneroster_user("U7", "Gus", "Guardian", ""))
BASIC_ROLES = ("R1,active,2026-08-01,U1,primary,teacher,,,O1,\n"
               "R2,active,2026-08-01,U2,primary,teacher,,,O2,\n"
               "R3,active,2026-08-01,U3,primary,student,,,O1,\n"
               "R4,active,2026-08-01,U4,primary,principal,,,O2,\n"
               "R5,active,2026-08-01,U5,primary,districtAdministrator,,,D1,\n"
               "R6,active,2026-08-01,U6,primary,aide,,,O1,\n"
               "R7,active,2026-08-01,U7,primary,guardian,,,O1,\n")


def upload(admin, files: dict[str, bytes]):
    url = f"/district/{admin.district_id}/roster"
    token = csrf_token_from(admin.client.get(url).text)
    return admin.client.post(url, data={"csrf_token": token, "files": [
        (io.BytesIO(data), name) for name, data in files.items()]},
        content_type="multipart/form-data")


def dry_run(admin, files: dict[str, bytes]):
    """Upload, follow to the plan page; the page and the import id."""
    response = upload(admin, files)
    assert response.status_code == 302, response.text
    page = admin.client.get(response.headers["Location"])
    assert page.status_code == 200
    return page, int(response.headers["Location"].rsplit("/", 1)[1])


def apply(admin, import_id: int, page_text: str):
    url = f"/district/{admin.district_id}/roster/{import_id}/apply"
    plan = page_text.split('name="plan" type="hidden" value="')[1].split('"')[0]
    return admin.client.post(url, data={"csrf_token": csrf_token_from(page_text), "plan": plan})


def import_roster(admin, files):
    page, import_id = dry_run(admin, files)
    response = apply(admin, import_id, page.text)
    assert response.status_code == 302, response.text
    return admin.client.get(response.headers["Location"])


def people_of(app, district_id) -> dict[str, User]:
    with app.app_context():
        users = db.session.execute(db.select(User).where(User.id.in_(
            db.select(Membership.user_id).where(Membership.district_id == district_id)))
        ).scalars().all()
        for user in users:
            _ = [(m.role, m.school and m.school.name) for m in user.memberships]
            db.session.expunge(user)
        return {u.email: u for u in users}


def roles_of(user: User) -> set[tuple[str, str | None]]:
    return {(m.role.value, m.school.name if m.school else None) for m in user.memberships}


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model))
                for model in (User, Membership, School, RosterLink, RosterImport, AuditEvent)}


def actions(app) -> list[str]:
    with app.app_context():
        return [e.action for e in db.session.execute(db.select(AuditEvent)).scalars()]


