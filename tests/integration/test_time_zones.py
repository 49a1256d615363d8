"""Times stored in UTC read in the viewer's zone: the district's, or the person's own choice.
The forms that set them refuse unknown zones and are audited in words."""

import csv
import io
from datetime import UTC, datetime

from moderation.accounts.models import District, Role, User
from moderation.accounts.services import grant_role
from moderation.core.audit import AuditEvent, AuditEventDistrict
from moderation.core.extensions import db
from moderation.practice.models import PracticeAttempt
from tests.fixtures.scoring import score_form
from tests.fixtures.settings import settings_form

# 02:15 UTC on 4 December is still the evening of 3 December in New York.
LATE_EVENING = datetime(2026, 12, 4, 2, 15, tzinfo=UTC)


def zone_events(app) -> list[tuple[str, dict]]:
    """The time zone changes audited: each about a district or a person, with before/after."""
    with app.app_context():
        rows = list(db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action.like("%time_zone%"))
            .order_by(AuditEvent.id)).scalars())
        assert {e.object_type for e in rows} <= {"District", "User"}
        return [(e.action, e.details) for e in rows]


def set_district_zone(app, district: District | int, name: str) -> None:
    with app.app_context():
        db.session.get(District, getattr(district, "id", district)).time_zone = name
        db.session.commit()


def add_event_at(app, moment: datetime, district_id: int, action: str) -> None:
    """An event at a known time (inserting is what the log allows; it refuses only changes)."""
    with app.app_context():
        db.session.add(AuditEvent(occurred_at=moment, action=action, details={},
                                  districts=[AuditEventDistrict(district_id=district_id)]))
        db.session.commit()


# --- the district's zone -----------------------------------------------------------------------

def test_the_district_administrator_sets_the_districts_zone(client, app, auth, hx,
                                                           create_district_admin):
    admin = create_district_admin()
    district_id = admin_district_id(app, admin)
    auth.login(admin)
    assert "Times show in <strong>UTC</strong>" in client.get("/district").text
    page = client.get(f"/district/{district_id}/settings").text
    assert '<option selected value="UTC">' in page

    saved = hx.post(f"/district/{district_id}/settings", settings_form("America/Chicago"),
                    target="district-settings")
    assert saved.status_code == 200
    assert "Saved: Time zone." in saved.text
    assert '<option selected value="America/Chicago">' in saved.text
    assert zone_events(app) == [("district_time_zone_changed",
                                 {"before": "UTC", "after": "America/Chicago"})]
    log = client.get("/district/audit").text
    assert "District time zone changed" in log
    assert "Set the district&#39;s time zone to America/Chicago (was UTC)." in log

    again = hx.post(f"/district/{district_id}/settings", settings_form("America/Chicago"),
                    target="district-settings")
    assert "Nothing changed." in again.text and len(zone_events(app)) == 1


def test_an_unknown_district_zone_is_refused_with_a_message(client, app, auth, hx,
                                                           create_district_admin):
    admin = create_district_admin()
    district_id = admin_district_id(app, admin)
    auth.login(admin)
    for name in ("Mars/Olympus_Mons", "", "US/Eastern"):
        refused = hx.post(f"/district/{district_id}/settings", settings_form(name),
                          target="district-settings")
        assert refused.status_code == 422
        assert 'id="time_zone-errors"' in refused.text
        assert "is not a time zone we know" in refused.text
    plain = client.post(f"/district/{district_id}/settings",
                        data={**settings_form("Mars/Olympus_Mons"),
                              "csrf_token": auth.csrf_token("/district")})
    assert plain.status_code == 422 and "“Mars/Olympus_Mons” is not a time zone" in plain.text
    with app.app_context():
        assert db.session.get(District, district_id).time_zone == "UTC"
    assert zone_events(app) == []


def test_an_administrator_cannot_set_another_districts_zone(app, auth, hx, create_district,
                                                           create_district_admin):
    other = create_district()
    auth.login(create_district_admin())
    refused = hx.post(f"/district/{other.id}/settings", settings_form("Europe/Paris"))
    assert refused.status_code == 403
    with app.app_context():
        assert db.session.get(District, other.id).time_zone == "UTC"


def admin_district_id(app, admin) -> int:
    with app.app_context():
        return db.session.get(User, admin.id).memberships[0].district_id


# --- a person's own zone -----------------------------------------------------------------------

def test_a_person_follows_their_district_until_they_choose_their_own(client, app, auth, hx,
                                                                    create_school,
                                                                    create_teacher):
    school = create_school()
    set_district_zone(app, school.district_id, "America/New_York")
    teacher = create_teacher(school=school)
    auth.login(teacher)
    page = client.get("/account/password").text
    assert "Times on every page show in America/New_York" in page
    assert "Your district&#39;s time zone (America/New_York)" in page

    chosen = hx.post("/account/time-zone", {"time_zone": "Europe/London"}, target="own-time-zone")
    assert chosen.status_code == 200
    assert "Saved." in chosen.text and "Times on every page show in Europe/London" in chosen.text
    assert " GMT." in chosen.text  # "It is now 3 Dec 2026, 14:15 GMT."

    back = hx.post("/account/time-zone", {"time_zone": ""}, target="own-time-zone")
    assert "Times on every page show in America/New_York" in back.text
    assert zone_events(app) == [
        ("own_time_zone_changed", {"before": None, "after": "Europe/London"}),
        ("own_time_zone_changed", {"before": "Europe/London", "after": None})]

    set_district_zone(app, school.district_id, "Asia/Tokyo")
    assert "Times on every page show in Asia/Tokyo" in client.get("/account/time-zone").text


def test_an_unknown_own_zone_is_refused_with_a_message(app, auth, hx, create_teacher):
    teacher = create_teacher()
    auth.login(teacher)
    refused = hx.post("/account/time-zone", {"time_zone": "Atlantis/Capital"},
                      target="own-time-zone")
    assert refused.status_code == 400 and "is not a time zone we know" in refused.text
    with app.app_context():
        assert db.session.get(User, teacher.id).time_zone is None
    assert zone_events(app) == []


def test_own_zone_changes_read_as_sentences_in_the_audit_log(client, app, auth, hx,
                                                            create_district_admin):
    admin = create_district_admin()
    auth.login(admin)
    hx.post("/account/time-zone", {"time_zone": "Europe/London"}, target="own-time-zone")
    hx.post("/account/time-zone", {"time_zone": ""}, target="own-time-zone")
    log = client.get("/district/audit").text
    assert f'<td data-label="About">{admin.display_name}</td>' in log
    assert "Chose Europe/London as their own time zone (was their district&#39;s)." in log
    assert "Went back to their district&#39;s time zone (was Europe/London)." in log


def test_someone_without_a_district_reads_utc(client, auth, create_user):
    auth.login(create_user())
    page = client.get("/account/password").text
    assert "Times on every page show in UTC" in page


# --- local times on the pages --------------------------------------------------------------

def test_the_audit_log_shows_and_filters_by_local_days(client, app, auth, create_district_admin):
    admin = create_district_admin()
    district_id = admin_district_id(app, admin)
    set_district_zone(app, district_id, "America/New_York")
    add_event_at(app, LATE_EVENING, district_id, "sample_deleted")
    auth.login(admin)

    log = client.get("/district/audit?action=sample_deleted").text
    assert "3 Dec 2026, 21:15 EST" in log
    assert 'datetime="2026-12-03T21:15:00-05:00"' in log
    assert "midnight to midnight in your time zone, America/New_York" in log
    # The event belongs to 3 December in New York, though it is 4 December in UTC.
    assert "21:15 EST" in client.get(
        "/district/audit?action=sample_deleted&since=2026-12-03&until=2026-12-03").text
    assert "No events match" in client.get(
        "/district/audit?action=sample_deleted&since=2026-12-04").text

    export = client.get("/district/audit/export.csv?action=sample_deleted")
    header, row = list(csv.reader(io.StringIO(export.text)))
    assert header[0] == "When (America/New_York)"
    assert row[0] == "2026-12-03T21:15:00-05:00"


def test_the_same_event_reads_in_each_viewers_own_zone(client, app, auth, hx,
                                                      create_district_admin):
    admin = create_district_admin()
    district_id = admin_district_id(app, admin)
    add_event_at(app, LATE_EVENING, district_id, "sample_deleted")
    auth.login(admin)
    assert "4 Dec 2026, 02:15 UTC" in client.get("/district/audit?action=sample_deleted").text
    hx.post("/account/time-zone", {"time_zone": "Asia/Kolkata"}, target="own-time-zone")
    assert "4 Dec 2026, 07:45 IST" in client.get("/district/audit?action=sample_deleted").text


def test_practice_history_shows_local_times(client, app, auth, hx, scoring_world, scoring_db):
    world = scoring_world(n_schools=1, teachers_per_school=1, samples_per_school=1, anchors=0,
                          practice_anchors=1)
    teacher, anchor = world.all_teachers[0], world.practice_anchors[0]
    set_district_zone(app, world.district, "America/Los_Angeles")
    auth.login(teacher)
    hx.post(f"/scoring/practice/papers/{anchor.id}",
            score_form(scoring_db.criteria(world.version), [3, 3], nonce="b" * 32),
            target="practice-panel")
    with app.app_context():
        attempt = db.session.execute(db.select(PracticeAttempt)).scalar_one()
        attempt.submitted_at = LATE_EVENING
        db.session.commit()
        attempt_id = attempt.id

    history = client.get("/scoring/practice").text
    assert "3 Dec 2026, 18:15 PST" in history
    assert "3 Dec 2026, 18:15 PST" in client.get(
        f"/scoring/practice/attempts/{attempt_id}").text


def test_someone_in_two_districts_reads_the_zone_of_their_first(client, app, auth,
                                                                create_school, create_teacher):
    first, second = create_school(), create_school()
    set_district_zone(app, first.district_id, "America/Denver")
    set_district_zone(app, second.district_id, "Asia/Tokyo")
    teacher = create_teacher(school=first)
    with app.app_context():
        grant_role(db.session.get(User, teacher.id), Role.COACH,
                   db.session.get(District, second.district_id))
        db.session.commit()
    auth.login(teacher)
    assert "Times on every page show in America/Denver" in client.get("/account/password").text
