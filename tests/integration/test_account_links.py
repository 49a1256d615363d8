"""Invitations and password resets: one-time links emailed through a real SMTP server
(aiosmtpd), which set a password once, expire, are replaced by newer ones and are stored
only as hashes."""

import re
import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update

from moderation.accounts import services, tokens
from moderation.accounts.models import AccountToken, District, User
from moderation.accounts.people import deactivate_person
from moderation.core import errors
from moderation.core.audit import AuditEvent
from moderation.core.db import utcnow
from moderation.core.extensions import db
from moderation.core.mail.models import OutboxMessage
from moderation.core.mail.sender import deliver_due
from tests.conftest import PASSWORD, csrf_token_from

LINK = re.compile(r"http://127\.0\.0\.1:5000(/set-password/([A-Za-z0-9_-]+))")
ANSWER = ("If an account uses that address, we have sent a link to reset its password. "
          "It works for 1 hour.")
NEW_PASSWORD = "lantern-orchard-pebble-42"


def deliver(app):
    with app.app_context():
        return deliver_due(utcnow() + timedelta(seconds=5))


def link_of(received) -> tuple[str, str]:
    """The path of the message's link and its token, which the HTML body carries too."""
    text = received.message.get_body(("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    assert match.group(0) in received.message.get_body(("html",)).get_content()
    return match.group(1), match.group(2)


def post_form(client, url: str, data: dict, page: str | None = None):
    token = csrf_token_from(client.get(page or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(client, path, {"new_password": password,
                                    "confirm_password": password if confirm is None else confirm})


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            db.select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def admin_client(smtp_app, client, auth, create_district_admin, create_school):
    admin = create_district_admin(name="Helen Osei")
    district_id = admin.memberships[0].district_id
    school = create_school(district_id, name="Hillcrest Elementary")
    auth.login(admin)
    with smtp_app.app_context():
        name = db.session.get(District, district_id).name
    client.district = SimpleNamespace(id=district_id, name=name)
    client.school, client.admin = school, admin
    return client


@pytest.fixture
def person(admin_client, app):
    """A teacher the administrator has just added: no password, never invited."""
    district = admin_client.district
    response = post_form(admin_client, f"/district/{district.id}/people/new", {
        "display_name": "Lena Fisher", "email": "lena.fisher@riverbend.example",
        "role": "teacher", "school": str(admin_client.school.id)})
    assert response.status_code == 302
    with app.app_context():
        user_id = db.session.execute(db.select(User.id).where(
            User.email == "lena.fisher@riverbend.example")).scalar_one()
    return SimpleNamespace(id=user_id, email="lena.fisher@riverbend.example",
                           page=f"/district/{district.id}/people/{user_id}")


def invite(admin_client, person):
    return post_form(admin_client, person.page + "/invite", {}, page=person.page)


def test_an_invitation_arrives_and_its_link_sets_the_password_once(
        app, admin_client, person, smtp_server):
    page = admin_client.get(person.page).text
    assert "Not invited yet" in page and "Not set yet" in page
    assert "Send invitation" in page

    response = invite(admin_client, person)
    assert response.status_code == 302
    page = admin_client.get(person.page).text
    assert "Invitation sent to lena.fisher@riverbend.example" in page
    assert "by Helen Osei" in page and "its link works until" in page
    assert "Send again" in page
    assert deliver(app).sent == 1

    [received] = smtp_server.received
    assert received.recipients == [person.email]
    assert received.message["Subject"] == "Helen Osei invited you to the moderation platform"
    text = received.message.get_body(("plain",)).get_content()
    assert f"Helen Osei has invited you to {admin_client.district.name}" in text
    assert "works once, for 7 days: until" in text
    path, _ = link_of(received)

    teacher = app.test_client()
    form = teacher.get(path)
    assert form.status_code == 200
    assert "Welcome, Lena Fisher" in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert form.headers["Cache-Control"] == "no-store"

    weak = set_password(teacher, path, "hillcrestlena")   # her school and name
    assert weak.status_code == 422
    assert "made from your email, name, school or district" in weak.text
    assert set_password(teacher, path, confirm="something-else").status_code == 422

    done = set_password(teacher, path)
    assert done.status_code == 302
    assert done.headers["Location"] == "/"
    home = teacher.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert "Your password is set" in home.text
    assert teacher.get("/teacher").status_code == 200

    again = teacher.get(path)
    assert again.status_code == 410
    assert "This link has already been used" in again.text
    assert 'href="/forgot-password"' in again.text
    assert set_password(app.test_client(), path, "another-long-secret-99").status_code == 410
    assert app.test_client().post("/login", data={
        "email": person.email, "password": NEW_PASSWORD,
        "csrf_token": csrf_token_from(app.test_client().get("/login").text)}).status_code != 500

    page = admin_client.get(person.page).text
    assert "accepted" in page and "Send again" not in page
    assert "already set a password" not in page  # the refusal is for the button, not shown
    actions = audit_actions(app)
    assert "invitation_sent" in actions and actions[-1] == "invitation_accepted"
    log = admin_client.get("/district/audit").text
    assert "Emailed an invitation to choose a password; its link works for 7 days." in log
    assert "Chose a password with the invitation&#39;s link and logged in" in log


def test_the_new_password_logs_in_and_the_old_sessions_end(app, admin_client, person,
                                                           smtp_server, auth):
    invite(admin_client, person)
    deliver(app)
    path, _ = link_of(smtp_server.received[0])
    assert set_password(app.test_client(), path).status_code == 302
    fresh = app.test_client()
    assert auth.for_client(fresh).login(person.email, NEW_PASSWORD).status_code == 302
    assert auth.for_client(app.test_client()).login(person.email, PASSWORD).status_code == 422


def test_sending_again_makes_the_earlier_link_stop_working(app, admin_client, person,
                                                           smtp_server):
    invite(admin_client, person)
    invite(admin_client, person)
    assert deliver(app).sent == 2
    first, second = (link_of(r)[0] for r in smtp_server.received)
    assert first != second

    replaced = app.test_client().get(first)
    assert replaced.status_code == 410
    assert "This link no longer works" in replaced.text
    assert set_password(app.test_client(), second).status_code == 302
    with app.app_context():
        event = db.session.execute(db.select(AuditEvent).where(
            AuditEvent.action == "invitation_sent").order_by(AuditEvent.id.desc())).scalar()
        assert event.details["replaced"] == 1


def test_a_deactivated_person_cannot_be_invited_and_their_open_link_stops(
        app, admin_client, person, smtp_server):
    invite(admin_client, person)
    with app.app_context():
        deactivate_person(db.session.get(User, person.id),
                          db.session.get(District, admin_client.district.id),
                          db.session.get(User, admin_client.admin.id))
        db.session.commit()
    deliver(app)
    path, _ = link_of(smtp_server.received[0])

    refused = invite(admin_client, person)
    assert refused.status_code == 422
    assert "is deactivated" in refused.text
    assert "Send again" not in admin_client.get(person.page).text
    assert app.test_client().get(path).status_code == 404
    assert deliver(app).sent == 0


def test_someone_with_a_password_is_not_invited(app, admin_client, create_teacher):
    teacher = create_teacher(school=admin_client.school)
    page = f"/district/{admin_client.district.id}/people/{teacher.id}"
    assert "Send invitation" not in admin_client.get(page).text
    refused = post_form(admin_client, page + "/invite", {}, page=page)
    assert refused.status_code == 422
    assert "already set a password" in refused.text


def test_an_expired_link_says_so_and_offers_a_new_one(app, admin_client, person, smtp_server):
    invite(admin_client, person)
    deliver(app)
    path, _ = link_of(smtp_server.received[0])
    with app.app_context():
        db.session.execute(update(AccountToken).values(
            expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()

    expired = app.test_client().get(path)
    assert expired.status_code == 410
    assert "This link has expired" in expired.text
    assert 'href="/forgot-password"' in expired.text
    assert "expired" in admin_client.get(person.page).text
    # A form sent from the page before it expired is refused the same way.
    teacher = app.test_client()
    token = csrf_token_from(teacher.get("/login").text)
    response = teacher.post(path, data={"new_password": NEW_PASSWORD,
                                        "confirm_password": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 410


@pytest.mark.parametrize("token", ["not-a-token", "x" * 5000, tokens.token_digest("abc")])
def test_an_unknown_link_is_not_found(client, token):
    response = client.get(f"/set-password/{token}")
    assert response.status_code == 404
    assert "This link is not valid" in response.text


def test_the_token_is_stored_only_as_its_hash(app, admin_client, person, smtp_server):
    invite(admin_client, person)
    deliver(app)
    _, token = link_of(smtp_server.received[0])
    with app.app_context():
        rows = db.session.execute(db.select(AccountToken.__table__)).all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])
    assert rows[0].token_hash == tokens.token_digest(token)
    # The outbox kept the message until it was sent, and not its link after.
    with app.app_context():
        message = db.session.execute(db.select(OutboxMessage)).scalar_one()
        assert message.sent_at is not None and message.holds_secret
        assert token not in message.text_body and message.html_body is None


def test_two_submits_at_once_set_the_password_once(app, admin_client, person, smtp_server):
    invite(admin_client, person)
    deliver(app)
    path, _ = link_of(smtp_server.received[0])
    clients = [app.test_client(), app.test_client()]
    csrf = [csrf_token_from(c.get(path).text) for c in clients]
    barrier = threading.Barrier(2)
    statuses = []

    def submit(client, token, password):
        barrier.wait()
        response = client.post(path, data={"new_password": password,
                                           "confirm_password": password, "csrf_token": token})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=submit, args=(c, t, p)) for c, t, p in zip(
        clients, csrf, [NEW_PASSWORD, "quartz-meadow-violin-17"], strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [302, 410]
    assert audit_actions(app).count("invitation_accepted") == 1


# --- password reset ----------------------------------------------------------------------------

def answer_text(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def ask_reset(client, email: str):
    return post_form(client, "/forgot-password", {"email": email})


def test_the_login_page_offers_a_reset(client):
    assert 'href="/forgot-password"' in client.get("/login").text
    assert "Reset your password" in client.get("/forgot-password").text


def test_a_reset_link_arrives_works_once_and_ends_other_sessions(
        smtp_app, client, auth, create_teacher, smtp_server):
    app = smtp_app
    teacher = create_teacher()
    other_device = app.test_client()
    auth.for_client(other_device).login(teacher)
    assert other_device.get("/teacher").status_code == 200

    answer = ask_reset(client, teacher.email.upper())
    assert answer.status_code == 200
    assert ANSWER in answer_text(answer.text)
    assert deliver(app).sent == 1
    [received] = smtp_server.received
    assert received.recipients == [teacher.email]
    assert "works once, for 1 hour: until" in received.message.get_body(("plain",)).get_content()
    path, _ = link_of(received)

    assert "Choose a new password" in client.get(path).text
    assert set_password(client, path).status_code == 302
    assert client.get("/teacher").status_code == 200
    assert other_device.get("/teacher").status_code == 302   # logged out
    assert client.get(path).status_code == 410
    assert auth.for_client(app.test_client()).login(teacher, NEW_PASSWORD).status_code == 302
    assert auth.for_client(app.test_client()).login(teacher).status_code == 422
    actions = audit_actions(app)
    assert actions[actions.index("password_reset_requested") + 1] == "password_reset"


def test_unknown_and_deactivated_addresses_get_the_same_answer_and_no_mail(
        smtp_app, app, create_teacher, create_district_admin, smtp_server):
    known, off = create_teacher(), create_teacher()
    with app.app_context():
        user = db.session.get(User, off.id)
        user.deactivated_at = utcnow()
        db.session.commit()
    answers = []
    for email in (known.email, "nobody@nowhere.example", off.email):
        response = ask_reset(app.test_client(), email)
        answers.append((response.status_code, answer_text(response.text)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200
    assert deliver(app).sent == 1
    assert [r.recipients for r in smtp_server.received] == [[known.email]]
    assert audit_actions(app)[-3:] == ["password_reset_requested", "password_reset_refused",
                                       "password_reset_refused"]


def test_the_answer_takes_the_same_fixed_time_with_or_without_an_account(
        app, create_teacher):
    teacher = create_teacher()
    for email in (teacher.email, "nobody@nowhere.example"):
        client = app.test_client()
        token = csrf_token_from(client.get("/forgot-password").text)
        started = time.monotonic()
        response = client.post("/forgot-password", data={"email": email, "csrf_token": token})
        assert response.status_code == 200
        assert time.monotonic() - started >= app.config["PASSWORD_RESET_ANSWER_SECONDS"] == 0.2


def test_an_empty_address_is_asked_for_again(client):
    response = post_form(client, "/forgot-password", {"email": "  "})
    assert response.status_code == 422
    assert "Enter the email address you log in with" in response.text


def test_resets_are_limited_per_typed_address_whether_or_not_it_exists(
        smtp_app, client, create_teacher, smtp_server):
    teacher = create_teacher()
    for email in (teacher.email, "nobody@nowhere.example"):
        statuses = [ask_reset(client, email).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
    limited = ask_reset(client, teacher.email)
    assert "Too many reset links were asked for" in limited.text
    assert ask_reset(client, "someone.else@nowhere.example").status_code == 200
    assert deliver(smtp_app).sent == 3   # the person's inbox got three, not more


def test_resets_are_limited_per_client_address(app, client):
    app.config["PASSWORD_RESET_ADDRESS_RATE_LIMIT"] = "5 per hour"
    statuses = [ask_reset(client, f"guess-{i}@nowhere.example").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]


def test_a_closed_door_for_local_passwords_stops_every_path(
        app, admin_client, person, smtp_server, monkeypatch, create_teacher):
    """Single sign-on fills in may_use_password; every path here asks it."""
    teacher = create_teacher()
    invite(admin_client, person)
    deliver(app)
    path, _ = link_of(smtp_server.received[0])
    monkeypatch.setattr(services, "may_use_password", lambda user: False)

    assert app.test_client().get(path).status_code == 404
    assert ask_reset(app.test_client(), teacher.email).status_code == 200
    assert invite(admin_client, person).status_code == 422
    assert deliver(app).sent == 0


def test_without_a_public_address_no_link_is_emailed(app, admin_client, person):
    app.config["PUBLIC_URL"] = ""
    refused = invite(admin_client, person)
    assert refused.status_code == 422
    assert "PUBLIC_URL" in refused.text
    assert ask_reset(app.test_client(), person.email).status_code == 503
    with app.app_context():
        assert db.session.execute(db.select(OutboxMessage)).first() is None


def test_the_logs_never_hold_a_link_token(app):
    with app.test_request_context("/set-password/secret-token-value"):
        assert errors._logged_path() == "/set-password/<token>"
    with app.test_request_context("/login"):
        assert errors._logged_path() == "/login"


def test_people_never_invited_can_be_invited_from_the_list(app, admin_client, person,
                                                           smtp_server):
    people_list = f"/district/{admin_client.district.id}/people"
    page = admin_client.get(people_list).text
    assert "Not yet invited" in page and "Send invitation<span" in page
    response = post_form(admin_client, person.page + "/invite", {"from": "list"},
                         page=people_list)
    assert response.status_code == 302
    assert response.headers["Location"] == people_list
    page = admin_client.get(people_list).text
    assert "Invitation sent to Lena Fisher" in page
    assert "Invited, no password yet" in page and "Send invitation<span" not in page
    assert deliver(app).sent == 1


def test_the_claim_is_a_compare_and_set_even_after_the_link_was_read(
        app, admin_client, person, smtp_server, monkeypatch):
    """Another submit uses the link between this one's read and its claim: the claim finds no
    row to update and changes nothing."""
    invite(admin_client, person)
    deliver(app)
    _, token = link_of(smtp_server.received[0])
    checked = tokens.check_password_strength

    def the_other_submit_wins(password, context):
        checked(password, context)
        with db.engine.begin() as other:   # its own connection and transaction
            other.execute(update(AccountToken).values(used_at=utcnow()))

    monkeypatch.setattr(tokens, "check_password_strength", the_other_submit_wins)
    with app.app_context():
        with pytest.raises(tokens.LinkError) as refused:
            tokens.set_password(token, NEW_PASSWORD)
        assert refused.value.state == tokens.LinkState.USED
        db.session.rollback()
        assert db.session.get(User, person.id).password_hash is None
