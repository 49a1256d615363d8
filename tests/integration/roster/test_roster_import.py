"""Roster import through the pages: both formats, the dry run, apply, idempotency, changes,
deactivation, linking by email, and nothing saved when a line is wrong."""

from moderation.accounts.models import School, User
from moderation.accounts.roster.models import ImportStatus, RosterImport
from moderation.core.extensions import db
from tests.integration.roster.rosters import (
    BASIC_ROLES,
    BASIC_USERS,
    SAMPLE,
    actions,
    apply,
    dry_run,
    import_roster,
    oneroster_files,
    oneroster_user,
    own,
    people_of,
    roles_of,
    table_counts,
    zipped,
)

# --- the platform's own CSV --------------------------------------------------------------------

def test_the_sample_roster_dry_run_lists_everything_then_applies(admin, app):
    page, import_id = dry_run(admin, {"sample_roster.csv": SAMPLE.read_bytes()})
    assert "Roster dry run" in page.text and "Nothing has changed yet" in page.text
    assert "<dt>Schools to create</dt><dd>2</dd>" in page.text
    assert "<dt>People to create</dt><dd>10</dd>" in page.text
    assert "Ana Lopez" in page.text and "Harbor View Elementary" in page.text
    assert not any(email.endswith("harborview.example") for email in people_of(
        app, admin.district_id)), "a dry run changes nothing"

    done = apply(admin, import_id, page.text)
    assert done.status_code == 302
    applied = admin.client.get(done.headers["Location"])
    assert "Roster applied" in applied.text and "<dt>People created</dt><dd>10</dd>" in applied.text
    people = people_of(app, admin.district_id)
    assert roles_of(people["ana.lopez@harborview.example"]) == {
        ("teacher", "Harbor View Elementary")}
    assert roles_of(people["david.osei@harborview.example"]) == {
        ("school_leader", "Harbor View Elementary")}
    assert roles_of(people["iris.walker@district.example"]) == {("coach", None)}
    assert roles_of(people["james.brown@district.example"]) == {("district_admin", None)}
    assert people["ana.lopez@harborview.example"].password_hash is None
    with app.app_context():
        kept = db.session.get(RosterImport, import_id)
        assert kept.status == ImportStatus.APPLIED and kept.summary["new_people"] == 10
    recorded = actions(app)
    assert recorded.count("roster_person_created") == 10
    assert recorded.count("school_created") == 2 and recorded.count("roster_imported") == 1
    log = admin.client.get("/district/audit").text
    assert ("Added ana.lopez@harborview.example from the roster (id P-001): Teacher at "
            "Harbor View Elementary.") in log
    assert "Instructional coach (district-wide)" in log
    assert "Imported a roster from the platform&#39;s CSV: 2 schools created" in log \
        or "Imported a roster from the platform's CSV: 2 schools created" in log


def test_reimporting_the_same_file_changes_nothing(admin, app):
    import_roster(admin, {"sample_roster.csv": SAMPLE.read_bytes()})
    before = table_counts(app)
    page, import_id = dry_run(admin, {"sample_roster.csv": SAMPLE.read_bytes()})
    assert "Nothing to change" in page.text
    assert "<dt>Unchanged</dt><dd>2 schools, 10 people</dd>" in page.text
    assert "Apply the roster" not in page.text
    after = table_counts(app)
    assert after == {**before, "RosterImport": before["RosterImport"] + 1}


def test_changed_name_email_and_role_are_listed_then_applied(admin, app):
    import_roster(admin, {"r.csv": own(
        "person,P1,Ann Lee,ann@x.example,teacher,S1,,",
        "person,P2,Bob Ray,bob@x.example,teacher,S1,,")})
    page, import_id = dry_run(admin, {"r.csv": own(
        "person,P1,Ann Lee-Smith,ann.smith@x.example,teacher,S1,,",
        "person,P2,Bob Ray,bob@x.example,teacher,S2,,")})
    assert "<dt>People to change</dt><dd>2</dd>" in page.text
    assert "name “Ann Lee” → “Ann Lee-Smith”" in page.text
    assert "email “ann@x.example” → “ann.smith@x.example”" in page.text
    assert "new role teacher at South School" in page.text
    assert "role removed: teacher at North School" in page.text
    assert apply(admin, import_id, page.text).status_code == 302
    people = people_of(app, admin.district_id)
    assert people["ann.smith@x.example"].display_name == "Ann Lee-Smith"
    assert roles_of(people["bob@x.example"]) == {("teacher", "South School")}
    recorded = actions(app)
    assert "person_updated" in recorded and "role_revoked" in recorded


def test_people_gone_from_the_roster_are_deactivated_but_hand_made_people_stay(
        admin, app, create_teacher, create_school):
    handmade = create_teacher(school=create_school(admin.district_id, name="Hand School"),
                              name="Hand Made")
    import_roster(admin, {"r.csv": own("person,P1,Ann Lee,ann@x.example,teacher,S1,,",
                                       "person,P2,Bob Ray,bob@x.example,teacher,S1,,",
                                       "person,P3,Cy Fox,cy@x.example,teacher,S2,,")})
    page, import_id = dry_run(admin, {"r.csv": own(
        "person,P1,Ann Lee,ann@x.example,teacher,S1,,",
        "person,P3,Cy Fox,cy@x.example,teacher,S2,,inactive")})
    assert "<dt>People to deactivate</dt><dd>2</dd>" in page.text
    assert "no longer in the roster" in page.text and "disabled or to be deleted" in page.text
    assert "Hand Made" not in page.text
    assert apply(admin, import_id, page.text).status_code == 302
    people = people_of(app, admin.district_id)
    assert people["bob@x.example"].deactivated_at is not None
    assert people["cy@x.example"].deactivated_at is not None
    assert people["ann@x.example"].deactivated_at is None
    assert people[handmade.email].deactivated_at is None
    assert actions(app).count("person_deactivated") == 2

    # Back in the roster: reactivated.
    page, import_id = dry_run(admin, {"r.csv": own(
        "person,P1,Ann Lee,ann@x.example,teacher,S1,,",
        "person,P2,Bob Ray,bob@x.example,teacher,S1,,")})
    assert "reactivated" in page.text
    assert apply(admin, import_id, page.text).status_code == 302
    assert people_of(app, admin.district_id)["bob@x.example"].deactivated_at is None


def test_an_existing_person_is_matched_by_email_and_keeps_hand_given_roles(
        admin, app, create_coach, create_school):
    school = create_school(admin.district_id, name="North School")
    coach = create_coach(school=school, name="Old Name")
    page, import_id = dry_run(admin, {"r.csv": own(
        f"person,P9,New Name,{coach.email.upper()},teacher,S1,,")})
    assert "matched by email, linked to roster id P9" in page.text
    assert "Matched by name: linked to roster id S1" in page.text
    assert "<dt>Schools to create</dt><dd>1</dd>" in page.text  # South School only
    assert apply(admin, import_id, page.text).status_code == 302
    person = people_of(app, admin.district_id)[coach.email]
    assert person.display_name == "New Name"
    assert roles_of(person) == {("coach", "North School"), ("teacher", "North School")}
    assert {"roster_person_linked", "roster_school_linked"} <= set(actions(app))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(School).where(
            School.district_id == admin.district_id)) == 2


# --- OneRoster 1.2 -----------------------------------------------------------------------------

def test_oneroster_zip_maps_roles_and_ignores_students_and_guardians(admin, app):
    page, import_id = dry_run(admin, {"export.zip": zipped(
        {**oneroster_files(BASIC_USERS, BASIC_ROLES), "manifest.csv": b"propertyName,value\n"})})
    assert "<dt>Schools to create</dt><dd>2</dd>" in page.text
    assert "<dt>People to create</dt><dd>4</dd>" in page.text
    assert "<dt>Ignored</dt><dd>3: 1 aides, 1 parents and guardians, 1 students</dd>" in page.text
    assert apply(admin, import_id, page.text).status_code == 302
    people = people_of(app, admin.district_id)
    assert roles_of(people["tia@lake.example"]) == {("teacher", "Lake Elementary")}
    assert roles_of(people["pat@lake.example"]) == {("school_leader", "Lake High")}
    assert roles_of(people["dee@lake.example"]) == {("district_admin", None)}
    assert "sam@lake.example" not in people and "al@lake.example" not in people
    assert people["raj@lake.example"].display_name == "Raj Patel"


def test_oneroster_separate_files_disabled_and_deleted_users_are_deactivated(admin, app):
    import_roster(admin, oneroster_files(BASIC_USERS, BASIC_ROLES))
    users = (oneroster_user("U1", "Tia", "Moss", "tia@lake.example", enabled="false")
             + oneroster_user("U2", "Raj", "Patel", "raj@lake.example", status="tobedeleted")
             + oneroster_user("U4", "Pat", "Principal", "pat@lake.example")
             + oneroster_user("U5", "Dee", "Admin", "dee@lake.example"))
    page, import_id = dry_run(admin, oneroster_files(users, BASIC_ROLES.replace(
        "R3,active,2026-08-01,U3,primary,student,,,O1,\n", "").replace(
        "R6,active,2026-08-01,U6,primary,aide,,,O1,\n", "").replace(
        "R7,active,2026-08-01,U7,primary,guardian,,,O1,\n", "")))
    assert "<dt>People to deactivate</dt><dd>2</dd>" in page.text
    assert apply(admin, import_id, page.text).status_code == 302
    people = people_of(app, admin.district_id)
    assert people["tia@lake.example"].deactivated_at is not None
    assert people["raj@lake.example"].deactivated_at is not None
    assert people["pat@lake.example"].deactivated_at is None


def test_oneroster_reimport_is_idempotent(admin, app):
    files = oneroster_files(BASIC_USERS, BASIC_ROLES)
    import_roster(admin, files)
    before = table_counts(app)
    page, _ = dry_run(admin, files)
    assert "Nothing to change" in page.text
    assert table_counts(app)["User"] == before["User"]


# --- the apply is against the district as it is then ------------------------------------------

def test_a_plan_changed_since_the_dry_run_is_shown_again_not_applied(
        admin, app, create_teacher, create_school):
    page, import_id = dry_run(admin, {"r.csv": own("person,P1,Ann Lee,ann@x.example,teacher,S1,,")})
    # Meanwhile someone adds Ann by hand: the import would now link her instead.
    create_teacher(school=create_school(admin.district_id, name="Elsewhere"), name="Ann L")
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.display_name == "Ann L")).scalar_one()
        user.email = "ann@x.example"
        db.session.commit()
    response = apply(admin, import_id, page.text)
    assert response.status_code == 409
    assert "The district changed since this dry run" in response.text
    assert "matched by email" in response.text
    assert actions(app).count("roster_imported") == 0
    again = apply(admin, import_id, response.text)
    assert again.status_code == 302


def test_an_applied_import_is_not_applied_twice(admin, app):
    page, import_id = dry_run(admin, {"r.csv": SAMPLE.read_bytes()})
    assert apply(admin, import_id, page.text).status_code == 302
    again = apply(admin, import_id, page.text)
    assert again.status_code == 302
    assert "already applied" in admin.client.get(again.headers["Location"]).text
    assert actions(app).count("roster_imported") == 1


# --- access ------------------------------------------------------------------------------------

def test_only_the_districts_administrators_reach_its_roster(
        client, auth, admin, create_district_admin, create_teacher):
    page, import_id = dry_run(admin, {"r.csv": SAMPLE.read_bytes()})
    other = create_district_admin()
    auth.logout()
    auth.login(other)
    assert client.get(f"/district/{admin.district_id}/roster").status_code == 403
    assert client.get(f"/district/{admin.district_id}/roster/{import_id}").status_code == 403
    own_district = other.memberships[0].district_id
    assert client.get(f"/district/{own_district}/roster/{import_id}").status_code == 404
    auth.logout()
    auth.login(create_teacher())
    assert client.get(f"/district/{admin.district_id}/roster").status_code == 403


def test_the_people_page_links_to_the_roster_import(admin):
    page = admin.client.get(f"/district/{admin.district_id}/people").text
    assert f'href="/district/{admin.district_id}/roster"' in page and "Import a roster" in page


def test_apply_without_the_csrf_token_is_refused(admin, app):
    page, import_id = dry_run(admin, {"r.csv": SAMPLE.read_bytes()})
    response = admin.client.post(f"/district/{admin.district_id}/roster/{import_id}/apply",
                                 data={"plan": "x"})
    assert response.status_code == 400
    assert actions(app).count("roster_imported") == 0


def test_of_two_applies_at_once_the_second_finds_it_applied(admin, app):
    from moderation.accounts.models import District
    from moderation.accounts.roster import services

    _, import_id = dry_run(admin, {"r.csv": SAMPLE.read_bytes()})
    with app.app_context():
        kept = db.session.get(RosterImport, import_id)
        # The other request's apply committed after this one read the import.
        db.session.execute(db.update(RosterImport).where(RosterImport.id == import_id)
                           .values(status=ImportStatus.APPLIED)
                           .execution_options(synchronize_session=False))
        assert kept.status == ImportStatus.PLANNED
        try:
            services.apply(kept, db.session.get(District, admin.district_id), None)
        except services.RosterError as error:
            assert "already applied" in str(error)
        else:
            raise AssertionError("applied twice")
        db.session.rollback()
    assert actions(app).count("roster_person_created") == 0


def test_a_school_left_out_of_a_later_roster_is_kept_and_named(admin, app):
    import_roster(admin, {"r.csv": own("person,P1,Ann Lee,ann@x.example,teacher,S1,,")})
    page, _ = dry_run(admin, {"r.csv": (
        b"kind,source_id,name,email,role,school,grades,status\n"
        b"school,S1,North School,,,,K-5,\n"
        b"person,P1,Ann Lee,ann@x.example,teacher,S1,,\n")})
    assert "Schools not in this roster (1)" in page.text and "<li>South School</li>" in page.text
    with app.app_context():
        assert db.session.execute(db.select(School).where(
            School.name == "South School")).scalar_one().archived_at is None
