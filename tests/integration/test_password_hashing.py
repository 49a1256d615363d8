"""Passwords: the test suite hashes cheaply, every other app keeps werkzeug's scrypt."""

from app import create_app
from moderation.accounts import services as account_services
from moderation.accounts.models import User
from moderation.core.extensions import db


def test_the_suite_hashes_passwords_with_one_pbkdf2_round_and_login_still_checks_them(
        app, client, auth, create_teacher):
    teacher = create_teacher()
    with app.app_context():
        stored = db.session.get(User, teacher.id).password_hash

    assert stored.startswith("pbkdf2:sha256:1$")
    assert "Location" not in auth.login(teacher, "not-the-password").headers
    assert client.get("/teacher").status_code == 302   # still logged out
    assert auth.login(teacher).status_code == 302
    assert client.get("/teacher").status_code == 200


def test_an_app_without_the_setting_keeps_werkzeugs_default_scrypt(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        user = account_services.create_user("scrypt@example.org", "Scrypt User",
                                            "long-enough-password")
        assert user.password_hash.startswith("scrypt:")
        assert user.check_password("long-enough-password")
        db.session.rollback()
        db.engine.dispose()
