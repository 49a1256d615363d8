"""Time of importing a district's roster on PostgreSQL: dry run, apply, then the same file again.

Generates a roster of 3,000 teachers in 40 schools (with a school leader each, a few
district-wide coaches and an administrator), in the platform's CSV or as OneRoster 1.2 bulk
CSV, into a fresh database next to the one DATABASE_URL names (created, migrated and dropped
here), and times the steps the page runs: the dry run (read, plan, keep the upload, commit),
the apply (plan again, write, commit), and the second import of the same file, which must
change nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/roster_import.py
    ... benchmarks/roster_import.py --format oneroster --teachers 10000 --schools 120
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("APP_ENV", "testing")

from app import create_app  # noqa: E402
from benchmarks.postgres import fresh_database  # noqa: E402
from moderation.accounts import services as account_services  # noqa: E402
from moderation.accounts.models import District, Role, User  # noqa: E402
from moderation.accounts.roster import services  # noqa: E402
from moderation.core.extensions import db  # noqa: E402

ROLES_HEADER = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,"
                "endDate,orgSourcedId,userProfileSourcedId")
USERS_HEADER = ("sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,"
                "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,"
                "password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,"
                "preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns")


def people(teachers: int, schools: int):
    """(id, given, family, email, role, school index or None) of everyone in the roster."""
    for i in range(teachers):
        yield f"T{i:05d}", f"Teacher{i}", f"Family{i % 997}", f"t{i}@bench.example", \
            "teacher", i % schools
    for s in range(schools):
        yield f"L{s:03d}", f"Leader{s}", "Principal", f"l{s}@bench.example", "leader", s
    for c in range(5):
        yield f"C{c}", f"Coach{c}", "District", f"c{c}@bench.example", "coach", None
    yield "A0", "Ada", "Admin", "a0@bench.example", "admin", None


def own_roster(teachers: int, schools: int) -> list[tuple[str, bytes]]:
    role = {"teacher": "teacher", "leader": "school_leader", "coach": "coach",
            "admin": "district_admin"}
    lines = ["kind,source_id,name,email,role,school,grades,status"]
    lines += [f"school,S{s:03d},Bench School {s},,,,K-5," for s in range(schools)]
    lines += [f"person,{pid},{given} {family},{email},{role[kind]},"
              f"{'' if school is None else f'S{school:03d}'},,"
              for pid, given, family, email, kind, school in people(teachers, schools)]
    return [("roster.csv", ("\n".join(lines) + "\n").encode())]


def oneroster(teachers: int, schools: int) -> list[tuple[str, bytes]]:
    role = {"teacher": "teacher", "leader": "principal", "coach": "teacher",
            "admin": "districtAdministrator"}
    orgs = ["sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            "D0,active,2026-08-01,Bench District,district,,"]
    orgs += [f"S{s:03d},active,2026-08-01,Bench School {s},school,,D0" for s in range(schools)]
    users, roles = [USERS_HEADER], [ROLES_HEADER]
    for n, (pid, given, family, email, kind, school) in enumerate(people(teachers, schools)):
        org = "D0" if kind == "admin" else f"S{(school or 0):03d}"
        users.append(f"{pid},active,2026-08-01,true,{email},,{given},{family},,,{email},,,,,,,,"
                     f",,,{org},")
        roles.append(f"R{n},active,2026-08-01,{pid},primary,{role[kind]},,,{org},")
    return [(name, ("\n".join(rows) + "\n").encode())
            for name, rows in (("orgs.csv", orgs), ("users.csv", users), ("roles.csv", roles))]


def timed(step):
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", type=int, default=3_000)
    parser.add_argument("--schools", type=int, default=40)
    parser.add_argument("--format", choices=("own", "oneroster"), default="own")
    args = parser.parse_args()
    with fresh_database("roster_bench") as url:
        run(args, url)


def run(args, url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    files = (own_roster if args.format == "own" else oneroster)(args.teachers, args.schools)
    size = sum(len(data) for _, data in files)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
        district = District(name="Bench District")
        db.session.add(district)
        admin = account_services.create_user("admin@bench.example", "Bench Admin",
                                             "correct-horse-battery-staple")
        account_services.grant_role(admin, Role.DISTRICT_ADMIN, district)
        db.session.commit()
        district_id, admin_id = district.id, admin.id

    def dry_run():
        with app.app_context():
            kept, plan = services.upload(db.session.get(District, district_id),
                                         db.session.get(User, admin_id), files)
            assert not plan.problems, plan.problems[:5]
            db.session.commit()
            return kept.id, plan.digest(), plan.counts()

    def apply(import_id, digest):
        from moderation.accounts.roster.models import RosterImport

        with app.app_context():
            plan = services.apply(db.session.get(RosterImport, import_id),
                                  db.session.get(District, district_id),
                                  db.session.get(User, admin_id), seen=digest)
            db.session.commit()
            return plan.counts()

    print(f"Roster: {args.teachers:,} teachers, {args.schools} schools, format {args.format}, "
          f"{size / 2**20:.1f} MB, PostgreSQL")
    (first_id, first_digest, counts), first_dry = timed(dry_run)
    print(f"{'first import, dry run':<32}{first_dry:>8.2f} s   {counts['new_people']:,} people "
          f"and {counts['new_schools']} schools to create")
    _, first_apply = timed(lambda: apply(first_id, first_digest))
    print(f"{'first import, apply':<32}{first_apply:>8.2f} s")
    (second_id, second_digest, counts), second_dry = timed(dry_run)
    print(f"{'second import, dry run':<32}{second_dry:>8.2f} s   {counts['unchanged_people']:,}"
          f" unchanged, {counts['new_people'] + counts['changed_people']} to create or change")
    assert counts["new_people"] == counts["changed_people"] == counts["deactivated"] == 0
    _, second_apply = timed(lambda: apply(second_id, second_digest))
    print(f"{'second import, apply':<32}{second_apply:>8.2f} s")
    print(f"{'first import, total':<32}{first_dry + first_apply:>8.2f} s")


if __name__ == "__main__":
    main()
