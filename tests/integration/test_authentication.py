"""Login, logout, password change, session invalidation, CSRF and the login rate limit."""

from moderation.core.audit import AuditEvent
from moderation.core.extensions import db


def test_login_with_right_password_lands_home(client, auth, create_teacher):
    response = auth.login(create_teacher())
    assert response.status_code == 302
    assert client.get("/", follow_redirects=True).status_code == 200


def test_wrong_password_is_refused_with_a_message(auth, create_teacher):
    response = auth.login(create_teacher(), password="not-the-password")
    assert response.status_code == 422
    assert "do not match an account" in response.text


def test_post_without_csrf_token_is_refused(client, auth, create_teacher):
    teacher = create_teacher()
    response = client.post("/login", data={"email": teacher.email, "password": auth.password})
    assert response.status_code == 400
    assert "The form expired" in response.text
    assert client.get("/teacher").status_code == 302  # still logged out


def test_copied_cookie_stops_working_after_logout(app, client, auth, create_teacher):
    auth.login(create_teacher())
    copied = client.get_cookie("session").value
    assert client.get("/teacher").status_code == 200

    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", copied)
    response = thief.get("/teacher")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, auth,
                                                                create_teacher):
    teacher = create_teacher()
    other_device = app.test_client()
    auth.for_client(other_device).login(teacher)
    auth.login(teacher)

    response = client.post("/account/password", data={
        "current_password": auth.password, "new_password": "a-brand-new-secret",
        "confirm_password": "a-brand-new-secret", "csrf_token": auth.csrf_token("/teacher")})
    assert response.status_code == 302
    assert client.get("/teacher").status_code == 200
    assert other_device.get("/teacher").status_code == 302
    assert auth.for_client(app.test_client()).login(
        teacher, password=auth.password).status_code == 422
    assert auth.for_client(app.test_client()).login(
        teacher, password="a-brand-new-secret").status_code == 302


def test_password_change_with_wrong_current_password_says_so(client, auth, create_teacher):
    auth.login(create_teacher())
    response = client.post("/account/password", data={
        "current_password": "wrong-wrong-wrong", "new_password": "a-brand-new-secret",
        "confirm_password": "a-brand-new-secret", "csrf_token": auth.csrf_token("/teacher")})
    assert response.status_code == 422
    assert "current password is not correct" in response.text


def test_sixth_rapid_failed_login_is_refused(auth, create_teacher):
    teacher = create_teacher()
    statuses = [auth.login(teacher, password=f"wrong-{i}").status_code for i in range(6)]
    assert statuses[:5] == [422] * 5
    assert statuses[5] == 429
    # The limit holds even for the right password until the window passes.
    assert auth.login(teacher).status_code == 429


def test_successful_logins_do_not_count_against_the_limit(auth, create_teacher):
    teacher = create_teacher()
    for _ in range(7):
        assert auth.login(teacher).status_code == 302
        auth.logout()


def test_next_parameter_cannot_leave_the_site(client, auth, create_teacher):
    teacher = create_teacher()
    response = client.post("/login?next=https://evil.example/", data={
        "email": teacher.email, "password": auth.password, "csrf_token": auth.login_token()})
    assert response.headers["Location"] == "/"


def test_logins_and_failures_are_audited(app, auth, create_teacher):
    teacher = create_teacher()
    auth.login(teacher, password="nope-nope-nope")
    auth.login(teacher)
    with app.app_context():
        actions = db.session.execute(
            db.select(AuditEvent.action).where(AuditEvent.actor_id == teacher.id)
            .order_by(AuditEvent.id)).scalars().all()
    assert actions[-2:] == ["login_failed", "login"]
