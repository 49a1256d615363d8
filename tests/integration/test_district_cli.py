"""An operator starts a district from the command line; its first administrator takes it
from there with the emailed link."""

from moderation.accounts.models import District, Role, User
from moderation.core.audit import AuditEvent
from moderation.core.extensions import db
from tests.integration.test_account_links import link_of, set_password

CREATE = ["district", "create", "Lakeside Unified School District", "--time-zone",
          "America/Chicago", "--admin-name", "Nadia Brooks", "--admin-email",
          "Nadia.Brooks@lakeside.example"]


def test_a_new_district_and_its_administrator_invited_by_email(smtp_app, smtp_server, runner,
                                                               client):
    result = runner.invoke(args=CREATE)

    assert result.exit_code == 0, result.output
    assert "Nadia Brooks <nadia.brooks@lakeside.example> is a district administrator" in (
        result.output)
    assert "on its way" in result.output
    with smtp_app.app_context():
        district = db.session.execute(db.select(District)).scalar_one()
        assert (district.name, district.time_zone) == ("Lakeside Unified School District",
                                                       "America/Chicago")
        admin = db.session.execute(db.select(User)).scalar_one()
        assert [(m.role, m.district_id, m.school_id) for m in admin.memberships] == [
            (Role.DISTRICT_ADMIN, district.id, None)]
        assert admin.password_hash is None
        actions = set(db.session.execute(db.select(AuditEvent.action)).scalars())
    assert {"district_created", "user_created", "role_granted", "invitation_sent"} <= actions

    [received] = smtp_server.received
    assert received.recipients == ["nadia.brooks@lakeside.example"]
    assert received.message["Subject"] == (
        "The platform's operator invited you to the moderation platform")
    text = received.message.get_body(("plain",)).get_content()
    assert "The platform's operator has invited you to Lakeside Unified School District" in text
    path, _ = link_of(received)
    response = set_password(client, path)
    assert response.status_code == 302
    assert client.get("/").headers["Location"].endswith("/district")


def test_a_refused_district_saves_nothing(smtp_app, smtp_server, runner):
    bad_zone = runner.invoke(args=[*CREATE[:3], "--time-zone", "Mars/Olympus", *CREATE[5:]])
    assert bad_zone.exit_code == 1
    assert "Mars/Olympus" in bad_zone.output
    bad_email = runner.invoke(args=[*CREATE[:-1], "not-an-address"])
    assert bad_email.exit_code == 1
    assert "Enter an email address" in bad_email.output
    with smtp_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(District)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
    assert smtp_server.received == []

    assert runner.invoke(args=CREATE).exit_code == 0
    again = runner.invoke(args=CREATE)
    assert again.exit_code == 1
    assert "There is already a district called “Lakeside Unified School District”" in (
        again.output)


def test_add_admin_gives_an_existing_person_the_role_or_invites_a_new_one(
        smtp_app, smtp_server, runner, create_teacher):
    teacher = create_teacher(name="Omar Haddad")
    with smtp_app.app_context():
        district_name = db.session.get(District, teacher.memberships[0].district_id).name

    existing = runner.invoke(args=["district", "add-admin", district_name, "--name",
                                   "Omar Haddad", "--email", teacher.email])
    assert existing.exit_code == 0, existing.output
    assert "Omar Haddad is now an administrator" in existing.output
    with smtp_app.app_context():
        roles = {m.role for m in db.session.get(User, teacher.id).memberships}
    assert roles == {Role.TEACHER, Role.DISTRICT_ADMIN}
    assert smtp_server.received == []  # they log in as before

    new = runner.invoke(args=["district", "add-admin", district_name, "--name", "Ruth Adler",
                              "--email", "ruth.adler@example.org"])
    assert new.exit_code == 0, new.output
    assert [r.recipients for r in smtp_server.received] == [["ruth.adler@example.org"]]

    unknown = runner.invoke(args=["district", "add-admin", "Nowhere", "--name", "A",
                                  "--email", "a@b.org"])
    assert unknown.exit_code == 1
    assert "There is no district called “Nowhere”" in unknown.output
