"""Shared fixtures (flaskr's conftest, indico's factory fixtures).

The suite runs against SQLite by default and against PostgreSQL when DATABASE_URL names one
(CI does both). The schema is built once per run by the real migrations; each test then starts
from empty tables.
"""

import os
import re
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import settings
from sqlalchemy import event

os.environ["APP_ENV"] = "testing"
# Property tests check results, not speed: on a shared, loaded machine Hypothesis' default
# 200 ms deadline fails examples that merely waited for a core (speed lives in benchmarks/).
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

from app import create_app  # noqa: E402  (APP_ENV must be set before the app reads it)
from moderation.accounts import services as account_services  # noqa: E402
from moderation.accounts.models import District, Role, School  # noqa: E402
from moderation.core.extensions import db  # noqa: E402

# Each domain keeps its factory fixtures in tests/fixtures/<domain>.py; list them here.
pytest_plugins: list[str] = ["tests.fixtures.samples", "tests.fixtures.rubrics",
                             "tests.fixtures.scoring", "tests.fixtures.world",
                             "tests.fixtures.mail", "tests.fixtures.oidc",
                             "tests.fixtures.analysis"]

PASSWORD = "correct-horse-battery"
# One pbkdf2 round instead of werkzeug's scrypt (about 135 ms per user created or logged in,
# which was most of a typical test's setup). What is tested is that hashes are checked, not
# their cost; tests/integration/test_password_hashing.py checks that apps keep scrypt otherwise.
TEST_CONFIG = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"}
CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'
                          r'|"X-CSRFToken": "([^"]+)"')


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql", "postgres:"))


class FreshDatabases:
    """Creates empty databases of the configured kind and removes them afterwards."""

    def __init__(self, tmp_path_factory):
        self.base_url = os.environ.get("DATABASE_URL", "")
        self.tmp_path_factory = tmp_path_factory
        self.created: list[str] = []

    def create(self) -> str:
        if not _is_postgres(self.base_url):
            path = self.tmp_path_factory.mktemp("db") / "moderation.sqlite3"
            return f"sqlite:///{path}"
        import psycopg

        # A helper sharing the server names its databases with its own prefix.
        prefix = os.environ.get("TEST_DATABASE_PREFIX", "moderation_test_")
        name = f"{prefix}{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self._admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def drop_all(self) -> None:
        if not self.created:
            return
        import psycopg

        with psycopg.connect(self._admin_url(), autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin_url(self) -> str:
        # psycopg wants a plain libpq URL, without SQLAlchemy's "+psycopg" driver suffix.
        return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", self.base_url)


@pytest.fixture(scope="session")
def fresh_databases(tmp_path_factory):
    databases = FreshDatabases(tmp_path_factory)
    yield databases
    databases.drop_all()


@pytest.fixture(scope="session")
def database_url(fresh_databases):
    """One migrated database for the whole run."""
    from flask_migrate import upgrade

    url = fresh_databases.create()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url):
    # No app context stays pushed during a test: requests must each get their own, or
    # flask.g (and with it the logged-in user) would leak from one request to the next.
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    yield app
    with app.app_context():
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "page carries no CSRF token"
    return match.group(1) or match.group(2)


class AuthActions:
    password = PASSWORD

    def __init__(self, client):
        self.client = client
        # Each login renews the CSRF token: helpers that keep one note the login it came from.
        self.logins = 0

    def for_client(self, other_client) -> "AuthActions":
        return AuthActions(other_client)

    def login_token(self) -> str:
        return csrf_token_from(self.client.get("/login").text)

    def login(self, user_or_email, password: str = PASSWORD):
        email = getattr(user_or_email, "email", user_or_email)
        self.logins += 1
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": self.login_token()})

    def csrf_token(self, path: str = "/") -> str:
        return csrf_token_from(self.client.get(path, follow_redirects=True).text)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf_token()})


@pytest.fixture
def auth(client):
    return AuthActions(client)


class HtmxClient:
    """Sends requests the way the pages' htmx attributes do: HX-Request, HX-Target and the
    CSRF token header that base.html puts on <body>. Serves every domain's tests."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth
        self._token, self._token_login = None, None

    def headers(self, target: str | None) -> dict:
        headers = {"HX-Request": "true"}
        if target:
            headers["HX-Target"] = target
        return headers

    def get(self, url: str, target: str | None = None):
        return self.client.get(url, headers=self.headers(target))

    def post(self, url: str, data: dict | None = None, target: str | None = None, **kwargs):
        if self._token_login != self.auth.logins:   # a login renews the token
            self._token, self._token_login = self.auth.csrf_token("/rubrics/"), self.auth.logins
        return self.client.post(url, data=data or {}, **kwargs,
                                headers={**self.headers(target), "X-CSRFToken": self._token})


@pytest.fixture
def hx(client, auth):
    return HtmxClient(client, auth)


# Savepoints and transaction control are the connection's bookkeeping, not the page's reads
# and writes; drivers differ in whether they send them at all, so budgets leave them out.
TRANSACTION_CHATTER = re.compile(
    r"\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b",
    re.IGNORECASE)


class StatementLog:
    """The SQL statements sent while counting, in order."""

    def __init__(self):
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not TRANSACTION_CHATTER.match(statement):
            self.statements.append(statement)

    def report(self) -> str:
        """The statements, numbered: what a failed budget prints to show where they went."""
        lines = [f"{self.count} statements:"]
        lines += [f"{n:3}. {' '.join(s.split())}" for n, s in enumerate(self.statements, 1)]
        return "\n".join(lines)


@pytest.fixture
def count_statements(app):
    """A context manager that logs the statements the app's engine sends inside it:

        with count_statements() as log:
            client.get("/scoring/queue")
        assert log.count <= 12, log.report()
    """
    with app.app_context():
        engine = db.engine

    @contextmanager
    def counting():
        log = StatementLog()
        event.listen(engine, "before_cursor_execute", log.record)
        try:
            yield log
        finally:
            event.remove(engine, "before_cursor_execute", log.record)

    return counting


# --- factories: callables that build what a test needs and commit it -----------------------
# Each returns a detached object with its columns loaded, usable after the factory's context.

def detached(obj):
    db.session.commit()
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


@pytest.fixture
def create_district(app):
    def make(name: str | None = None) -> District:
        with app.app_context():
            district = District(name=name or f"District {uuid.uuid4().hex[:6]}")
            db.session.add(district)
            return detached(district)

    return make


@pytest.fixture
def create_school(app, create_district):
    def make(district: District | int | None = None, name: str | None = None) -> School:
        """A school in `district` (a District or its id), or in a new district."""
        district_id = getattr(district, "id", district) or create_district().id
        with app.app_context():
            school = School(district_id=district_id,
                            name=name or f"School {uuid.uuid4().hex[:6]}",
                            grade_band="9-12")
            db.session.add(school)
            return detached(school)

    return make


@pytest.fixture
def create_user(app):
    def make(role: Role | None = None, *, district: District | None = None,
             school: School | None = None, name: str | None = None):
        suffix = uuid.uuid4().hex[:8]
        with app.app_context():
            user = account_services.create_user(f"user-{suffix}@example.org",
                                                name or f"User {suffix}", PASSWORD)
            if role is not None:
                school_row = db.session.get(School, school.id) if school else None
                district_id = district.id if district else school_row.district_id
                account_services.grant_role(user, role, db.session.get(District, district_id),
                                            school_row)
            return detached(user)

    return make


@pytest.fixture
def create_teacher(create_user, create_school):
    def make(school: School | None = None, **kwargs):
        return create_user(Role.TEACHER, school=school or create_school(), **kwargs)

    return make


@pytest.fixture
def create_coach(create_user, create_school):
    def make(school: School | None = None, district: District | None = None, **kwargs):
        if school is None and district is None:
            school = create_school()
        return create_user(Role.COACH, school=school, district=district, **kwargs)

    return make


@pytest.fixture
def create_district_admin(create_user, create_district):
    def make(district: District | None = None, **kwargs):
        return create_user(Role.DISTRICT_ADMIN, district=district or create_district(), **kwargs)

    return make
