"""Authentication hardening: login limits shared by every worker, per account and per address,
and the trusted-proxy setting; timing, headers, password strength and CSRF rotation."""

import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis

from app import create_app
from moderation.accounts import services as account_services
from moderation.core.config import ConfigError
from moderation.core.db import utcnow
from moderation.core.extensions import db
from tests.conftest import TEST_CONFIG, csrf_token_from

REPO = Path(__file__).resolve().parents[3]
REDIS_URL = "redis://127.0.0.1:6379/0"
ACCOUNT_LIMIT = 5


# --- item 13: the limit holds across gunicorn workers ------------------------------------------

class Gunicorn:
    """`gunicorn 'app:create_app()'` in production mode with two workers and Redis, on a free
    loopback port; its access log says which worker process answered each numbered attempt."""

    def __init__(self, database_url: str, folder: Path):
        self.prefix = f"test-{secrets.token_hex(6)}"
        self.access_log, self.error_log = folder / "access.log", folder / "error.log"
        env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32),
               "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
               "RATELIMIT_KEY_PREFIX": self.prefix, "LOGIN_RATE_LIMIT": "5 per minute",
               "STORAGE_LOCAL_PATH": str(folder / "storage")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", "127.0.0.1:0",
             "--access-logfile", str(self.access_log),
             "--access-logformat", "%({x-attempt}i)s %(p)s %(s)s",
             "--error-logfile", str(self.error_log), "app:create_app()"],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL)
        self.port = self._wait_until_serving()

    def _wait_until_serving(self, seconds: float = 60) -> int:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self._errors()}"
            match = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self._errors())
            if match and self._errors().count("Booting worker") == 2:
                port = int(match.group(1))
                try:
                    if self.request(port, "GET", "/healthz")[0] == 200:
                        return port
                except OSError:
                    pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not serve within {seconds} s:\n{self._errors()}")

    def _errors(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    @staticmethod
    def request(port: int, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, str, str]:
        """(status, Set-Cookie, body). No cookie jar: production cookies are Secure, which a
        client keeps for https only, so the session cookie is sent back by hand."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = dict(headers or {})
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=urlencode(form) if form else None,
                               headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Set-Cookie", ""), response.read().decode()
        finally:
            connection.close()

    def workers_by_attempt(self, attempts: int) -> dict[str, str]:
        """attempt number -> pid of the worker that answered it, from the access log."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = self.access_log.read_text().split("\n") if self.access_log.exists() else []
            answered = dict(line.split()[:2] for line in lines if line[:1].isdigit())
            if len(answered) >= attempts:
                return answered
            time.sleep(0.1)
        raise AssertionError("gunicorn did not log every attempt")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        store = redis.Redis.from_url(REDIS_URL)
        for key in store.scan_iter(match=f"*{self.prefix}*"):
            store.delete(key)


@pytest.fixture
def gunicorn(app, database_url, tmp_path):
    # `app` empties the tables afterwards (the failed logins are audited).
    server = Gunicorn(database_url, tmp_path)
    yield server
    server.stop()


@pytest.mark.slow
def test_failed_login_limit_is_shared_by_every_gunicorn_worker(gunicorn):
    status, cookie, page = gunicorn.request(gunicorn.port, "GET", "/login")
    session = cookie.split(";", 1)[0]
    attempt = {"email": "nobody@example.org", "password": "not-the-password",
               "csrf_token": csrf_token_from(page)}
    statuses = []
    deadline = time.monotonic() + 30
    # Keep trying until both workers have answered: only then does an answer depend on a count
    # the other worker made (each sync worker takes connections as it pleases).
    while len(statuses) <= ACCOUNT_LIMIT or (
            len(set(gunicorn.workers_by_attempt(len(statuses)).values())) < 2
            and time.monotonic() < deadline):
        statuses.append(gunicorn.request(
            gunicorn.port, "POST", "/login", attempt,
            {"Cookie": session, "X-Attempt": str(len(statuses) + 1)})[0])

    workers = gunicorn.workers_by_attempt(len(statuses))
    assert len(set(workers.values())) == 2, "gunicorn sent every attempt to one worker"
    assert statuses[:ACCOUNT_LIMIT] == [422] * ACCOUNT_LIMIT
    assert set(statuses[ACCOUNT_LIMIT:]) == {429}


def test_production_without_redis_warns_that_limits_are_per_worker(
        monkeypatch, caplog, database_url):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.delenv("REDIS_URL", raising=False)
    create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert "REDIS_URL is not set" in caplog.text

    caplog.clear()
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    assert "REDIS_URL is not set" not in caplog.text


# --- item 14: per account and per address; X-Forwarded-For only from trusted proxies ----------

def login(client, email: str, password: str, **request) -> int:
    token = csrf_token_from(client.get("/login").text)
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}, **request).status_code


def fail_until_limited(client, email: str, **request) -> list[int]:
    return [login(client, email, f"wrong-{i}", **request) for i in range(ACCOUNT_LIMIT + 1)]


def test_another_account_logs_in_from_the_same_address_after_one_is_limited(
        app, auth, create_teacher):
    guessed, colleague = create_teacher(), create_teacher()
    assert fail_until_limited(app.test_client(), guessed.email) == [422] * 5 + [429]
    assert login(app.test_client(), guessed.email, auth.password) == 429
    assert login(app.test_client(), colleague.email, auth.password) == 302


def test_one_address_trying_many_accounts_meets_the_address_ceiling(app, auth, create_teacher):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "8 per minute"
    guessed, other, colleague = create_teacher(), create_teacher(), create_teacher()
    client = app.test_client()
    fail_until_limited(client, guessed.email)   # 5 failures count, the sixth is refused
    assert [login(client, other.email, "wrong") for _ in range(3)] == [422, 422, 422]
    assert login(client, colleague.email, auth.password) == 429
    elsewhere = {"environ_base": {"REMOTE_ADDR": "127.0.0.2"}}
    assert login(app.test_client(), colleague.email, auth.password, **elsewhere) == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_limit_by_default(app, create_teacher):
    teacher, client = create_teacher(), app.test_client()
    statuses = [login(client, teacher.email, "wrong",
                      headers={"X-Forwarded-For": f"198.51.100.{i}"})
                for i in range(ACCOUNT_LIMIT + 1)]
    assert statuses == [422] * 5 + [429]


@pytest.fixture
def app_behind_one_proxy(app, database_url):
    # `app` empties the tables afterwards; this one shares its database.
    proxied = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                          "TRUSTED_PROXY_HOPS": 1})
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def test_the_forwarded_address_counts_behind_a_trusted_proxy(app_behind_one_proxy,
                                                             create_teacher):
    teacher, client = create_teacher(), app_behind_one_proxy.test_client()
    limited = {"headers": {"X-Forwarded-For": "203.0.113.7"}}
    assert fail_until_limited(client, teacher.email, **limited) == [422] * 5 + [429]
    # Another person behind the same proxy is another address.
    assert login(client, teacher.email, "wrong",
                 headers={"X-Forwarded-For": "203.0.113.8"}) == 422


def test_trusted_proxy_hops_must_be_a_number(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "yes")
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_HOPS must be a whole number"):
        create_app()


# --- item 15: a refused login takes as long whether or not the email has an account -----------

def _median_seconds(attempt, times: int = 7) -> float:
    durations = []
    for _ in range(times):
        started = time.perf_counter()
        attempt()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def test_unknown_and_inactive_emails_cost_a_password_check_as_a_known_one_does(database_url):
    # werkzeug's scrypt, as in production: the suite's one-round hash is too cheap to measure.
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        known = account_services.create_user("known@example.org", "Known", "long-enough-1")
        gone = account_services.create_user("gone@example.org", "Gone", "long-enough-2")
        gone.deactivated_at = utcnow()
        db.session.flush()
        authenticate = account_services.authenticate
        authenticate("nobody@example.org", "warm-up")   # the dummy hash is made once
        wrong_password = _median_seconds(lambda: authenticate(known.email, "wrong-guess"))
        unknown = _median_seconds(lambda: authenticate("nobody@example.org", "wrong-guess"))
        inactive = _median_seconds(lambda: authenticate(gone.email, "long-enough-2"))
        db.session.rollback()
        db.engine.dispose()
    # A hash check is ~50 ms of scrypt, a miss without one well under 5 ms: half is a wide
    # margin for a busy machine either way.
    assert unknown >= wrong_password / 2, (unknown, wrong_password)
    assert inactive >= wrong_password / 2, (inactive, wrong_password)


# --- item 16: HSTS in production, no-store on signed-in pages ---------------------------------

def test_production_asks_browsers_for_https_only_and_other_modes_do_not(
        monkeypatch, app, client, database_url):
    assert "Strict-Transport-Security" not in client.get("/login").headers   # testing mode
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    production = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    for path in ("/login", "/healthz"):
        headers = production.test_client().get(path).headers
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_signed_in_pages_and_the_images_of_student_work_are_not_stored(
        client, auth, create_school, create_teacher, create_sample):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    school = create_school()
    teacher = create_teacher(school=school)
    sample = create_sample(school=school, uploader=teacher)
    auth.login(teacher)
    for path in ("/teacher", f"/samples/{sample.code}", f"/samples/{sample.code}/identity"):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html", path
        assert response.headers["Cache-Control"] == "no-store", path
    image = client.get(f"/samples/{sample.code}/pages/1.png")
    assert image.status_code == 200
    assert image.headers["Cache-Control"] == "private, no-store"


def test_the_audit_export_is_not_stored_either(client, auth, create_district_admin):
    auth.login(create_district_admin())
    export = client.get("/district/audit/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert export.headers["Cache-Control"] == "no-store"
    with client.get("/static/css/app.css") as stylesheet:
        assert "no-store" not in stylesheet.headers.get("Cache-Control", "")


# --- item 17: common and personal passwords are refused, with the reason ----------------------

def change_password(client, auth, new: str):
    return client.post("/account/password", data={
        "current_password": auth.password, "new_password": new, "confirm_password": new,
        "csrf_token": auth.csrf_token("/account/password")})


@pytest.mark.parametrize(("weak", "reason"), [
    ("aaaaaaaaaa", "Repeats like"),
    ("password12", "This is a very common password."),
    ("{email}", "It is made from your email, name, school or district."),
])
def test_a_guessable_new_password_is_refused_with_the_reason(client, auth, create_teacher,
                                                             weak, reason):
    teacher = create_teacher()
    auth.login(teacher)
    response = change_password(client, auth, weak.format(email=teacher.email))
    assert response.status_code == 422
    assert "Choose a stronger password." in response.text and reason in response.text
    assert auth.for_client(client.application.test_client()).login(teacher).status_code == 302


def test_the_school_the_teacher_works_at_is_personal_too(client, auth, create_school,
                                                       create_teacher):
    school = create_school(name="Northgate Elementary")
    auth.login(create_teacher(school=school))
    response = change_password(client, auth, "northgateelementary")
    assert response.status_code == 422
    assert "made from your email, name, school or district" in response.text


def test_a_passphrase_is_accepted(client, auth, create_teacher):
    teacher = create_teacher()
    auth.login(teacher)
    assert change_password(client, auth, "violet river lantern kettle").status_code == 302
    fresh = auth.for_client(client.application.test_client())
    assert fresh.login(teacher, "violet river lantern kettle").status_code == 302


def test_accounts_are_not_created_with_a_guessable_password(app):
    with app.app_context():
        for weak in ("aaaaaaaaaa", "password12", "new.person@example.org"):
            with pytest.raises(account_services.WeakPasswordError,
                               match="Choose a stronger password"):
                account_services.create_user("new.person@example.org", "New Person", weak)
        account_services.create_user("new.person@example.org", "New Person",
                                     "violet river lantern kettle")
        db.session.rollback()


# --- item 18: the CSRF token from before login is worthless after it --------------------------

def test_the_csrf_token_from_before_login_stops_working_at_login(client, auth, create_teacher):
    teacher = create_teacher()
    before = auth.login_token()
    assert client.post("/login", data={"email": teacher.email, "password": auth.password,
                                       "csrf_token": before}).status_code == 302
    refused = client.post("/logout", data={"csrf_token": before})
    assert refused.status_code == 400
    assert client.get("/teacher").status_code == 200   # still logged in
    fresh = auth.csrf_token("/teacher")
    assert fresh != before
    assert client.post("/logout", data={"csrf_token": fresh}).status_code == 302
    assert client.get("/teacher").status_code == 302   # logged out


def test_the_signed_in_csrf_token_stops_working_at_logout(client, auth, create_teacher):
    teacher = create_teacher()
    auth.login(teacher)
    signed_in = auth.csrf_token("/teacher")
    assert client.post("/logout", data={"csrf_token": signed_in}).status_code == 302
    # The next person at this browser cannot be made to submit with the last one's token.
    refused = client.post("/login", data={"email": teacher.email, "password": auth.password,
                                          "csrf_token": signed_in})
    assert refused.status_code == 400
    assert client.get("/teacher").status_code == 302   # not logged in
