"""Configuration, security headers, error pages and the audit log's guarantees."""

import re

import pytest

from moderation.core import audit
from moderation.core.audit import AuditEvent, AuditLogIsAppendOnly
from moderation.core.config import ConfigError, database_url, load_config
from moderation.core.extensions import db


def test_production_without_secret_key_fails_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(str(tmp_path))


def test_unknown_mode_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match="APP_ENV must be one of"):
        load_config(str(tmp_path))


def test_production_sets_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    assert load_config(str(tmp_path))["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("given,expected", [
    ("", "sqlite:///{tmp}/moderation.sqlite3"),
    ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
])
def test_database_url_defaults_to_sqlite_and_uses_psycopg3(monkeypatch, tmp_path, given,
                                                            expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url(str(tmp_path)) == expected.format(tmp=tmp_path)


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(client, auth, create_teacher):
    auth.login(create_teacher())
    response = client.get("/teacher")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert "static/js/htmx.min.js" in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html


def test_vendored_htmx_is_version_2(client):
    with client.get("/static/js/htmx.min.js") as response:
        script = response.text
    assert re.search(r'version:"2\.\d+\.\d+"', script)


def test_htmx_error_gets_a_fragment_not_a_page(client, auth, create_teacher):
    auth.login(create_teacher())
    response = client.get("/district", headers={"HX-Request": "true", "HX-Target": "x"})
    assert response.status_code == 403
    assert response.text.lstrip().startswith('<section id="error"')


def test_audit_log_refuses_changes(app, create_teacher):
    teacher = create_teacher()
    with app.app_context():
        audit.record("test_action", actor=teacher, obj=teacher, note="kept")
        db.session.commit()
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "test_action")).scalar_one()
        assert event.details == {"note": "kept"} and event.object_type == "User"
        event.action = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(event)
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.flush()
        db.session.rollback()


def test_district_admin_reads_the_audit_log(client, auth, create_district_admin, create_teacher,
                                            create_school, create_district):
    district = create_district()
    teacher = create_teacher(school=create_school(district), name="Audited Teacher")
    auth.for_client(client.application.test_client()).login(teacher)
    auth.login(create_district_admin(district=district))
    page = client.get("/district/audit").text
    assert "Audited Teacher" in page and "Logged in" in page


def test_district_admin_does_not_read_another_districts_log(client, auth, create_district_admin,
                                                           create_teacher):
    teacher = create_teacher(name="Audited Teacher")  # in a district of its own
    auth.for_client(client.application.test_client()).login(teacher)
    auth.login(create_district_admin())
    page = client.get("/district/audit").text
    assert "Audited Teacher" not in page


def test_single_sign_on_is_off_unless_configured_and_needs_all_three(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "development")
    config = load_config(str(tmp_path))
    assert config["OIDC_ISSUER"] == "" and config["OIDC_ALLOWED_DOMAINS"] == ()
    assert config["OIDC_TRUST_EMAIL"] is False
    monkeypatch.setenv("OIDC_ISSUER", "https://accounts.google.com")
    monkeypatch.setenv("OIDC_CLIENT_ID", "client")
    with pytest.raises(ConfigError, match="OIDC_CLIENT_SECRET is not set"):
        load_config(str(tmp_path))
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "secret")
    monkeypatch.setenv("OIDC_ALLOWED_DOMAINS", " Riverbend.example, eastside.example ,")
    monkeypatch.setenv("OIDC_TRUST_EMAIL", "yes")
    config = load_config(str(tmp_path))
    assert config["OIDC_ALLOWED_DOMAINS"] == ("eastside.example", "riverbend.example")
    assert config["OIDC_TRUST_EMAIL"] is True
    assert config["OIDC_LABEL"] == "Sign in with single sign-on"
    monkeypatch.setenv("OIDC_TRUST_EMAIL", "perhaps")
    with pytest.raises(ConfigError, match="OIDC_TRUST_EMAIL must be true or false"):
        load_config(str(tmp_path))


def test_production_refuses_a_plain_http_issuer(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    for name, value in (("OIDC_ISSUER", "http://idp.example"), ("OIDC_CLIENT_ID", "c"),
                        ("OIDC_CLIENT_SECRET", "s")):
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="OIDC_ISSUER must be an https:// address"):
        load_config(str(tmp_path))
