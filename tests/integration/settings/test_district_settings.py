"""The district settings page: defaults with their sources, validation beside the field, an
audit event per change, and the one reading every domain uses."""

import pytest

from moderation.accounts.models import District
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from moderation.settings.models import SETTINGS
from moderation.settings.queries import DEFAULTS, settings_for
from tests.fixtures.settings import settings_form


def setting_events(app) -> list[tuple]:
    with app.app_context():
        return [(e.details["setting"], e.details["before"], e.details["after"])
                for e in db.session.execute(db.select(AuditEvent).where(
                    AuditEvent.action == "district_setting_changed")
                    .order_by(AuditEvent.id)).scalars()]


def test_the_page_shows_every_default_with_its_source(client, auth, create_district_admin,
                                                      create_district):
    district = create_district()
    district_id = district.id
    admin = create_district_admin(district=district)
    auth.login(admin)
    district_page = client.get("/district").text
    assert f'href="/district/{district_id}/settings"' in district_page
    assert "are at their defaults" in district_page

    page = client.get(f"/district/{district_id}/settings").text
    for legend in ("Time zone", "Reliability", "Findings", "Suppression", "Privacy"):
        assert f"<legend>{legend}</legend>" in page
    for spec in SETTINGS:
        assert spec.label in page
        assert f"Default: <strong>{spec.default_text}</strong>" in page
    assert "Krippendorff, Content Analysis, 2nd ed. (2004)" in page
    assert "Benjamini &amp; Hochberg (1995)" in page
    assert 'value="0.667"' in page and 'value="0.8"' in page and 'value="3"' in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"alpha_discard": 0.8, "alpha_rely": 0.8},
     "Lowest usable reliability must be below reliable from (0.8)."),
    ({"false_discovery_rate": 0}, "False-discovery rate must be more than 0."),
    ({"false_discovery_rate": 0.6}, "False-discovery rate must be at most 0.5."),
    ({"min_raters": 1}, "Fewest raters in a result must be at least 2."),
    ({"min_cross_marked_samples": "ten"}, "Not a valid integer value."),
    ({"rater_severity": "half"}, "Not a valid decimal value."),
    ({"alpha_rely": ""}, "Enter reliable from."),
])
def test_a_bad_value_is_refused_beside_its_field_and_nothing_is_saved(
        app, hx, create_district_admin, create_district, changes, message):
    district = create_district()
    district_id = district.id
    admin = create_district_admin(district=district)
    hx.auth.login(admin)
    refused = hx.post(f"/district/{district_id}/settings", settings_form(**changes),
                      target="district-settings")
    assert refused.status_code == 422
    field = next(iter(changes))
    assert f'<ul class="errors" id="{field}-errors"><li>{message}</li></ul>' in refused.text
    with app.app_context():
        assert settings_for(district_id) == DEFAULTS
    assert setting_events(app) == []


def test_each_change_is_saved_and_audited_with_its_old_and_new_value(
        app, client, hx, create_district_admin, create_district):
    district = create_district()
    district_id = district.id
    admin = create_district_admin(district=district)
    hx.auth.login(admin)
    saved = hx.post(f"/district/{district_id}/settings",
                    settings_form("America/Chicago", alpha_rely=0.85, min_raters=5,
                                  calibration_visible_to_coaches=True),
                    target="district-settings")
    assert saved.status_code == 200
    assert ("Saved: Time zone; Reliable from; Fewest raters in a result; "
            "Coaches see individual calibration results.") in saved.text
    assert 'value="0.85"' in saved.text
    with app.app_context():
        current = settings_for(district_id)
        assert db.session.get(District, district_id).time_zone == "America/Chicago"
    assert (current.alpha_rely, current.min_raters, current.calibration_visible_to_coaches,
            current.alpha_discard) == (0.85, 5, True, 0.667)
    assert setting_events(app) == [("alpha_rely", 0.8, 0.85), ("min_raters", 3, 5),
                                   ("calibration_visible_to_coaches", False, True)]

    again = hx.post(f"/district/{district_id}/settings",
                    settings_form("America/Chicago", alpha_rely=0.85, min_raters=5,
                                  calibration_visible_to_coaches=True),
                    target="district-settings")
    assert "Nothing changed." in again.text and len(setting_events(app)) == 3

    log = client.get("/district/audit").text
    assert "Changed the district setting “Reliable from” from 0.8 to 0.85." in log
    assert ("Changed the district setting “Coaches see individual calibration results” "
            "from off to on.") in log
    district_page = client.get("/district").text
    assert "Changed from the defaults: reliable from (0.85), fewest raters in a result (5)" \
        in district_page


def test_only_the_districts_own_administrators_may_open_it(
        client, auth, create_district_admin, create_district, create_coach):
    district = create_district()
    district_id = district.id
    create_district_admin(district=district)
    auth.login(create_district_admin())
    assert client.get(f"/district/{district_id}/settings").status_code == 403
    auth.logout()
    auth.logout()
    auth.login(create_coach(district=district))
    assert client.get(f"/district/{district_id}/settings").status_code == 403


@pytest.mark.slow
def test_the_migration_moves_the_practice_privacy_choice(fresh_databases):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_databases.create()})
    with app.app_context():
        upgrade(revision="df88c2fe2988")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO districts (id, name, time_zone, created_at) VALUES "
                              "(1, 'Shares', 'UTC', '2026-01-01'), "
                              "(2, 'Keeps private', 'UTC', '2026-01-01'), "
                              "(3, 'Never chose', 'UTC', '2026-01-01')"))
            conn.execute(text("INSERT INTO scoring_settings (district_id, "
                              "practice_visible_to_coaches) VALUES (1, true), (2, false)"))
        upgrade()
        moved = {d: settings_for(d) for d in (1, 2, 3)}
        db.session.remove()
        downgrade(revision="df88c2fe2988")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT district_id, practice_visible_to_coaches "
                                          "FROM scoring_settings")).all())
        db.session.remove()
        db.engine.dispose()

    assert [moved[d].practice_visible_to_coaches for d in (1, 2, 3)] == [True, False, False]
    assert moved[1].alpha_rely == 0.8 and moved[1].min_cross_marked_samples == 10
    assert moved[3] == DEFAULTS
    assert {d: bool(v) for d, v in back.items()} == {1: True, 2: False}


def test_the_reading_has_every_setting_and_its_defaults_are_the_statistics_engines():
    from moderation.statistics.triggers import DEFAULT_THRESHOLDS

    assert set(vars(DEFAULTS)) == {spec.key for spec in SETTINGS}
    for key in ("alpha_discard", "alpha_rely", "rater_severity", "school_effect", "local_gap"):
        assert getattr(DEFAULTS, key) == getattr(DEFAULT_THRESHOLDS, key), key
