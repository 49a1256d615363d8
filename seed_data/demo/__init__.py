"""The demo district: `flask seed-demo` creates it, and running it again changes nothing.

The district is described in demo_district.json: nine schools, three per grade band (K-5, 6-8,
9-12), six teachers each, two coaches, a teacher who also coaches, a district administrator, a
school leader, and for each grade band its rubric and its rounds. Every object is looked up by
its natural key before it is created, so the command is safe to run on every `make run`. The
steps after the accounts (SEED_STEPS: rubrics.py, samples.py, rounds.py, past.py) are idempotent
in the same way.
"""

import json
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import with_appcontext

from moderation.accounts import queries as account_queries
from moderation.accounts import services as account_services
from moderation.accounts.models import (
    ContextMeasure,
    District,
    MeasureUnit,
    Membership,
    Role,
    School,
    SchoolContext,
    User,
)
from moderation.core import jobs
from moderation.core.extensions import db
from seed_data.demo.past import seed_demo_past_moderation
from seed_data.demo.rounds import seed_demo_scoring
from seed_data.demo.rubrics import seed_demo_rubrics
from seed_data.demo.samples import seed_demo_samples

DEMO_FILE = Path(__file__).resolve().parents[1] / "demo_district.json"


def load_demo_spec() -> dict:
    return json.loads(DEMO_FILE.read_text())


def _district(spec: dict) -> District:
    district = account_queries.district_by_name(spec["district"])
    if district is None:
        # The zone only when the district is new: its administrator may have changed it since.
        district = District(name=spec["district"], time_zone=spec["time_zone"])
        db.session.add(district)
        db.session.flush()
    return district


def _measures(district: District, specs: list[dict]) -> dict[str, tuple[ContextMeasure, dict]]:
    """The district's context measures by key, each with its spec (the demo figures' year
    and source)."""
    existing = {m.key: m for m in account_queries.context_measures(district.id)}
    measures = {}
    for spec in specs:
        measure = existing.get(spec["key"])
        if measure is None:
            measure = ContextMeasure(district_id=district.id, key=spec["key"],
                                     label=spec["label"], unit=MeasureUnit(spec["unit"]),
                                     description=spec["description"])
            db.session.add(measure)
            db.session.flush()
        measures[spec["key"]] = (measure, spec)
    return measures


def _school(district: District, school_spec: dict, measures: dict) -> School:
    school = next((s for s in district.schools if s.name == school_spec["name"]), None)
    if school is None:
        school = School(district=district, name=school_spec["name"])
        db.session.add(school)
    school.grade_band = school_spec["grade_band"]
    rows = {row.measure_id: row for row in school.context}
    for key, value in school_spec["context"].items():
        measure, spec = measures[key]
        row = rows.get(measure.id) or SchoolContext(measure_id=measure.id)
        row.value, row.year, row.source = value, spec["year"], spec["source"]
        if measure.id not in rows:
            school.context.append(row)
    db.session.flush()
    return school


def _user(email: str, name: str, password: str) -> User:
    user = account_queries.user_by_email(email)
    return user or account_services.create_user(email, name, password)


def _ensure_role(user: User, role: Role, district: District, school: School | None) -> None:
    school_id = school.id if school else None
    held = any(m.role == role and m.district_id == district.id and m.school_id == school_id
               for m in user.memberships)
    if not held:
        account_services.grant_role(user, role, district, school)


def seed_accounts(spec: dict) -> District:
    """District, schools, teachers, coaches, the district administrator and a school leader."""
    district = _district(spec)
    passwords = spec["passwords"]
    measures = _measures(district, spec["context_measures"])
    schools = {s["name"]: _school(district, s, measures) for s in spec["schools"]}
    for school_spec in spec["schools"]:
        for teacher in school_spec["teachers"]:
            user = _user(teacher["email"], teacher["name"], passwords["teacher"])
            _ensure_role(user, Role.TEACHER, district, schools[school_spec["name"]])
    for coach in spec["coaches"]:
        user = _user(coach["email"], coach["name"], passwords["coach"])
        _ensure_role(user, Role.COACH, district, schools.get(coach["school"]))
    for extra in spec["dual_roles"]:
        user = account_queries.user_by_email(extra["email"])
        _ensure_role(user, Role(extra["role"]), district, schools[extra["school"]])
    for admin in spec["district_admins"]:
        user = _user(admin["email"], admin["name"], passwords["district_admin"])
        _ensure_role(user, Role.DISTRICT_ADMIN, district, None)
    for leader in spec["school_leaders"]:
        user = _user(leader["email"], leader["name"], passwords["school_leader"])
        _ensure_role(user, Role.SCHOOL_LEADER, district, schools[leader["school"]])
    return district


# Each step takes the demo spec and the district, in this order: rounds need the rubrics.
SEED_STEPS: list[Callable[[dict, District], None]] = [seed_demo_rubrics, seed_demo_samples,
                                                     seed_demo_scoring,
                                                     seed_demo_past_moderation]


def seed_demo() -> District:
    """Create (or complete) the demo district. Idempotent."""
    spec = load_demo_spec()
    district = seed_accounts(spec)
    for step in SEED_STEPS:
        step(spec, district)
    return district


def demo_logins(spec: dict) -> list[tuple[str, str, str]]:
    """(role, email, password) for one account of each kind, for the README and `make run`."""
    first_teacher = spec["schools"][0]["teachers"][0]
    p = spec["passwords"]
    rows = [("Teacher", first_teacher["email"], p["teacher"])]
    rows += [(f"Coach ({c['note']})", c["email"], p["coach"]) for c in spec["coaches"]]
    rows += [(f"Teacher and coach ({d['note']})", d["email"], p["teacher"])
             for d in spec["dual_roles"]]
    rows += [("District administrator", a["email"], p["district_admin"])
             for a in spec["district_admins"]]
    rows += [(f"School leader ({s['school']})", s["email"], p["school_leader"])
             for s in spec["school_leaders"]]
    return rows


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo district (safe to run again), with the analysis of each closed round."""
    with jobs.run_here():
        district = seed_demo()
        db.session.commit()
    n_users = db.session.scalar(db.select(db.func.count(db.distinct(Membership.user_id)))
                                .where(Membership.district_id == district.id))
    click.echo(f"Demo district ready: {district.name}, {len(district.schools)} schools, "
               f"{n_users} staff.")
    click.echo("Demo logins (every teacher shares the teacher password):")
    logins = demo_logins(load_demo_spec())
    width = max(len(role) for role, _, _ in logins)
    for role, email, password in logins:
        click.echo(f"  {role:<{width}}  {email:<36} {password}")
