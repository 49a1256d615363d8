"""The audit log: each event belongs to its districts, admins read only theirs, failed logins keep
a keyed hash of the typed address, operators list everything from the command line."""

import csv
import hashlib
import hmac
import io
import json

import pytest

from moderation.accounts.models import District, Role, User
from moderation.accounts.services import grant_role
from moderation.core import audit
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db

TYPED_PASSWORD = "Sunflower-2026!"


def events(app, action: str | None = None) -> list[dict]:
    """Every stored event (or those of `action`) as plain dicts, with their district ids."""
    with app.app_context():
        query = db.select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return [{"action": e.action, "details": e.details, "actor_id": e.actor_id,
                 "object_type": e.object_type, "district_ids": set(e.district_ids)}
                for e in db.session.execute(query).scalars()]


def add_membership(app, user, role, district, school=None):
    with app.app_context():
        grant_role(db.session.get(User, user.id), role, db.session.get(District, district.id),
                   school)
        db.session.commit()


# --- A: scoped to the administrator's district ------------------------------------------------

def test_admin_reads_only_their_districts_events(client, app, auth, create_district_admin,
                                                 create_teacher, create_school, create_district):
    district = create_district()
    teacher = create_teacher(school=create_school(district), name="Audited Teacher")
    auth.for_client(app.test_client()).login(teacher)

    auth.login(create_district_admin(name="Other District Admin"))
    assert "Audited Teacher" not in client.get("/district/audit").text

    own = app.test_client()
    auth.for_client(own).login(create_district_admin(district=district))
    own_page = own.get("/district/audit").text
    assert "Audited Teacher" in own_page and "Logged in" in own_page


def test_failed_login_keeps_a_keyed_hash_of_the_typed_address(client, app, auth):
    auth.login(TYPED_PASSWORD, password="whatever-else")

    (event,) = events(app, "login_failed")
    stored = json.dumps(event, default=sorted)
    assert TYPED_PASSWORD.lower() not in stored.lower()
    expected = hmac.new(app.config["SECRET_KEY"].encode(), TYPED_PASSWORD.lower().encode(),
                        hashlib.sha256).hexdigest()
    assert event["details"] == {"email_digest": expected}


def test_failed_login_for_an_unknown_address_is_for_operators_only(
        client, app, auth, runner, create_district_admin):
    auth.login("nobody@nowhere.example", password="wrong-password-1")
    (event,) = events(app, "login_failed")
    assert event["district_ids"] == set()

    auth.login(create_district_admin())
    assert "Failed login" not in client.get("/district/audit").text

    result = runner.invoke(args=["audit", "list"])
    assert result.exit_code == 0, result.output
    assert "login_failed" in result.output and "(no district)" in result.output
    assert "nobody@nowhere.example" not in result.output


def test_wrong_password_for_a_known_account_reaches_its_district(client, app, auth,
                                                                 create_teacher):
    teacher = create_teacher()
    auth.login(teacher, password="not-the-password")
    (event,) = events(app, "login_failed")
    assert event["actor_id"] == teacher.id
    with app.app_context():
        home_district = db.session.get(User, teacher.id).memberships[0].district_id
    assert event["district_ids"] == {home_district}
    assert teacher.email not in json.dumps(event, default=sorted)


def test_login_of_a_user_in_two_districts_reaches_both_admins(
        client, app, auth, create_teacher, create_district, create_school,
        create_district_admin):
    first, second = create_district(), create_district()
    teacher = create_teacher(school=create_school(first), name="Two District Teacher")
    add_membership(app, teacher, Role.COACH, second)
    auth.for_client(app.test_client()).login(teacher)

    (login,) = events(app, "login")
    assert login["district_ids"] == {first.id, second.id}
    for district in (first, second):
        reader = app.test_client()
        auth.for_client(reader).login(create_district_admin(district=district))
        assert "Two District Teacher" in reader.get("/district/audit").text


def test_every_event_of_a_districts_work_belongs_to_that_district(
        app, scoring_world, open_round, create_district_admin):
    from moderation.scoring import services as scoring_services
    from moderation.scoring.models import ScoringRound
    from moderation.settings import services as settings_services

    world = scoring_world(n_schools=2, teachers_per_school=2, samples_per_school=1, anchors=1)
    scoring_round = open_round(world)
    with app.app_context():
        actor = db.session.get(User, world.admin.id)
        scoring_services.close_round(db.session.get(ScoringRound, scoring_round.id), actor)
        settings_services.update_settings(db.session.get(District, world.district.id),
                                          actor, {"practice_visible_to_coaches": True})
        db.session.commit()

    recorded = [e for e in events(app) if e["action"] != "user_created"]
    assert {e["action"] for e in recorded} >= {
        "role_granted", "sample_uploaded", "sample_redaction_confirmed", "anchor_promoted",
        "rubric_version_frozen", "scoring_round_opened", "scoring_round_closed",
        "district_setting_changed"}
    assert [e for e in recorded if e["district_ids"] != {world.district.id}] == []


def test_role_granted_in_a_second_district_belongs_only_to_that_district(
        app, create_teacher, create_district):
    teacher = create_teacher()
    second = create_district()
    add_membership(app, teacher, Role.COACH, second)
    grants = events(app, "role_granted")
    assert grants[-1]["district_ids"] == {second.id}
    assert second.id not in grants[0]["district_ids"]


def test_record_takes_an_explicit_district(app, create_district):
    district = create_district()
    with app.app_context():
        audit.record("district_note", district=district.id, note="kept")
        db.session.commit()
    (event,) = events(app, "district_note")
    assert event["district_ids"] == {district.id}


# --- A: the operators' command -----------------------------------------------------------------

def test_cli_lists_every_district_and_filters(app, auth, client, runner, create_teacher,
                                              create_school, create_district):
    north, south = create_district("North Valley"), create_district("South Ridge")
    north_teacher = create_teacher(school=create_school(north), name="Nora North")
    south_teacher = create_teacher(school=create_school(south), name="Sam South")
    auth.for_client(app.test_client()).login(north_teacher)
    auth.for_client(app.test_client()).login(south_teacher)
    auth.login("ghost@nowhere.example", password="wrong-password-1")

    everything = runner.invoke(args=["audit", "list"]).output
    assert "Nora North" in everything and "Sam South" in everything
    assert "(no district)" in everything

    north_only = runner.invoke(args=["audit", "list", "--district", "North Valley"]).output
    assert "Nora North" in north_only and "Sam South" not in north_only
    assert "(no district)" not in north_only

    failed = runner.invoke(args=["audit", "list", "--action", "login_failed"]).output
    assert "login_failed" in failed and "Nora North" not in failed

    by_address = runner.invoke(args=["audit", "list", "--email", "GHOST@nowhere.example"]).output
    assert "login_failed" in by_address and by_address.count("\n") == 1

    limited = runner.invoke(args=["audit", "list", "--limit", "1"]).output
    assert limited.count("\n") == 1 and "login_failed" in limited  # the newest first

    future = runner.invoke(args=["audit", "list", "--since", "2999-01-01"])
    assert future.exit_code == 0 and "No audit events" in future.output


def test_cli_names_an_unknown_district(runner):
    result = runner.invoke(args=["audit", "list", "--district", "Atlantis"])
    assert result.exit_code != 0
    assert "There is no district called “Atlantis”" in result.output


# --- B: the page: paging, filters, words, CSV --------------------------------------------------

def record_many(app, district, n: int, action: str = "test_note", actor=None, **details):
    with app.app_context():
        for i in range(n):
            audit.record(action, district=district.id,
                         actor=db.session.get(User, actor.id) if actor else None,
                         number=i, **details)
        db.session.commit()


def test_audit_log_pages_by_fifty(client, app, auth, create_district_admin, create_district):
    district = create_district()
    admin = create_district_admin(district=district)
    record_many(app, district, 120)
    auth.login(admin)

    first = client.get("/district/audit").text
    assert first.count('class="audit-row"') == 50
    assert "Next page" in first and "Previous page" not in first
    third = client.get("/district/audit?page=3").text
    assert third.count('class="audit-row"') == 122 - 100  # 120 notes, the grant, the login
    assert "Previous page" in third and "Next page" not in third
    assert "101–122 of 122" in third


def test_audit_log_filters_by_actor_action_object_and_date(
        client, app, auth, create_district_admin, create_district, create_school,
        create_teacher):
    district = create_district()
    school = create_school(district, name="Lakeside High")
    teacher = create_teacher(school=school, name="Filter Teacher")
    admin = create_district_admin(district=district, name="Filter Admin")
    record_many(app, district, 3, action="test_note", actor=teacher)
    auth.login(admin)

    by_actor = client.get(f"/district/audit?actor={teacher.id}").text
    assert by_actor.count('class="audit-row"') == 3

    by_action = client.get("/district/audit?action=role_granted").text
    assert by_action.count('class="audit-row"') == 2  # the teacher's and the admin's grants

    by_object = client.get("/district/audit?object=User").text
    assert by_object.count('class="audit-row"') == 3  # two grants and the admin's login

    future = client.get("/district/audit?since=2999-01-01").text
    assert 'class="audit-row"' not in future and "No events match" in future
    past = client.get("/district/audit?until=2000-01-01").text
    assert 'class="audit-row"' not in past


def test_audit_log_refuses_a_bad_date_with_a_message(client, auth, create_district_admin):
    auth.login(create_district_admin())
    response = client.get("/district/audit?since=yesterday")
    assert response.status_code == 422
    assert "Enter the date as YYYY-MM-DD" in response.text


def test_audit_log_filters_swap_only_the_results(client, auth, create_district_admin):
    auth.login(create_district_admin())
    response = client.get("/district/audit?action=login",
                          headers={"HX-Request": "true", "HX-Target": "audit-results"})
    assert response.text.lstrip().startswith('<section id="audit-results"')
    assert "<form" not in response.text and "Logged in" in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_audit_log_says_what_happened_with_names_and_codes(
        client, app, auth, scoring_world, open_round):
    from moderation.scoring import services as scoring_services
    from moderation.scoring.models import QueueItem

    world = scoring_world(n_schools=2, teachers_per_school=2, samples_per_school=1, anchors=0)
    scoring_round = open_round(world, name="Autumn moderation")
    rater = world.all_teachers[0]
    with app.app_context():
        item = db.session.execute(db.select(QueueItem).where(
            QueueItem.round_id == scoring_round.id, QueueItem.rater_id == rater.id)
        ).scalars().first()
        criteria = item.sample.rubric_version.criteria
        user = db.session.get(User, rater.id)
        scoring_services.submit_item(item, user, {c.id: 2 for c in criteria}, {})
        scoring_services.revise_item(item, user, {criteria[0].id: 3, criteria[1].id: 2}, {},
                                     reason="Misread the evidence")
        code = item.sample.code
        db.session.commit()
    auth.login(world.admin)

    page = client.get("/district/audit").text
    assert f"Revised blind scores for sample {code} in round “Autumn moderation”" in page
    assert "Claim: 2 → 3" in page and "Misread the evidence" in page
    assert f"Teacher at {world.schools[0].name}" in page or \
        f"Teacher at {world.schools[1].name}" in page
    assert "Opened round “Autumn moderation”" in page
    assert '"1":' not in page and "User " + str(rater.id) not in page
    assert "Jane Student" not in page  # the factory's student: never in the log


def test_unknown_actions_read_as_a_list(client, app, auth, create_district_admin,
                                        create_district):
    district = create_district()
    admin = create_district_admin(district=district)
    record_many(app, district, 1, action="something_new", papers_checked=4)
    auth.login(admin)
    page = client.get("/district/audit?action=something_new").text
    assert "Something new" in page and "Papers checked: 4" in page


def test_audit_log_names_things_in_a_few_queries(client, app, auth, scoring_world, open_round):
    """Names come in one batch per kind of thing, not one query per row."""
    from sqlalchemy import event

    world = scoring_world(n_schools=2, teachers_per_school=3, samples_per_school=3, anchors=2)
    open_round(world)
    auth.login(world.admin)
    statements = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/district/audit")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert page.status_code == 200 and page.text.count('class="audit-row"') >= 25
    # About 18 whatever the page holds: the login, the page, its names, the filter menus.
    assert len(statements) <= 20, "\n".join(statements)


def test_csv_export_keeps_the_filters_and_defuses_formulas(
        client, app, auth, create_district_admin, create_district, create_user):
    district = create_district()
    admin = create_district_admin(district=district)
    # Display names are typed by people, so a spreadsheet must not run them.
    names = ['=HYPERLINK("http://x.example")', "+1+1", "-2+3", "@SUM(A1)"]
    for name in names:
        record_many(app, district, 1, action="formula_probe", actor=create_user(name=name))
    auth.login(admin)

    response = client.get("/district/audit/export.csv?action=formula_probe")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["When (UTC)", "Who", "Action"]
    assert len(body) == 4 and {row[2] for row in body} == {"Formula probe"}
    assert sorted(row[1] for row in body) == sorted("'" + name for name in names)


def test_csv_export_is_scoped_to_the_district(client, app, auth, create_district_admin,
                                              create_district):
    mine, theirs = create_district(), create_district()
    record_many(app, theirs, 2, action="their_note")
    auth.login(create_district_admin(district=mine))
    text = client.get("/district/audit/export.csv").get_data(as_text=True)
    assert "Their note" not in text and "Logged in" in text


# --- A: the migration links earlier events and hashes earlier typed addresses ------------------

@pytest.mark.slow
def test_migration_backfills_districts_and_hashes_typed_addresses(fresh_databases):
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_databases.create()})
    with app.app_context():
        upgrade(revision="5dfc79807584")
        with db.engine.begin() as conn:
            run = conn.execute
            run(text("INSERT INTO districts (id, name, created_at) VALUES "
                     "(1, 'North', '2026-01-01'), (2, 'South', '2026-01-01')"))
            run(text("INSERT INTO schools (id, district_id, name, created_at) VALUES "
                     "(10, 1, 'North High', '2026-01-01')"))
            run(text("INSERT INTO users (id, email, display_name, password_hash, "
                     "session_version, is_active_account, created_at) VALUES "
                     "(5, 'two@x.example', 'Two', 'x', 1, true, '2026-01-01')"))
            run(text("INSERT INTO memberships (user_id, role, district_id, school_id) VALUES "
                     "(5, 'teacher', 1, 10), (5, 'coach', 2, NULL)"))
            rows = [
                (1, None, "login", "User", "5", {}),
                (2, None, "login_failed", None, None, {"email": " Secret-Pass1 "}),
                (3, 5, "login_failed", None, None, {"email": "two@x.example"}),
                (4, None, "role_granted", "User", "5", {"role": "coach", "district_id": 2}),
                (5, 5, "sample_uploaded", "WorkSample", "99", {"code": "K7", "school_id": 10}),
                (6, 5, "sample_deleted", "WorkSample", "99", {"code": "K7", "files": 1}),
                (7, 5, "practice_privacy_changed", "District", "2", {}),
            ]
            for event_id, actor, action, object_type, object_id, details in rows:
                run(text("INSERT INTO audit_events (id, occurred_at, actor_id, action, "
                         "object_type, object_id, details) VALUES (:id, '2026-02-01', :actor, "
                         ":action, :type, :object, :details)"),
                    {"id": event_id, "actor": actor, "action": action, "type": object_type,
                     "object": object_id, "details": json.dumps(details)})
        upgrade()
        linked = {}
        for event_id, district_id in db.session.execute(
                text("SELECT event_id, district_id FROM audit_event_districts")):
            linked.setdefault(event_id, set()).add(district_id)
        typed = db.session.get(AuditEvent, 2).details
        db.session.remove()
        db.engine.dispose()

    assert linked == {1: {1, 2}, 3: {1, 2}, 4: {2}, 5: {1}, 6: {1}, 7: {2}}
    with app.app_context():
        assert typed == {"email_digest": audit.email_digest("secret-pass1")}
