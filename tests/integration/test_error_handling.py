"""Unexpected errors are logged under a request id the page shows, and a
database that cannot be reached answers 503 from a page that needs no database, recovering by
itself when the database is back."""

import logging
import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from app import create_app
from moderation.accounts import services as account_services
from moderation.core.extensions import db
from tests.conftest import PASSWORD, TEST_CONFIG, AuthActions, FreshDatabases, _is_postgres
from tests.fixtures.tcp_proxy import TcpProxy

MACHINE_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _add_failing_route(app):
    @app.get("/test-only/fails")
    def fails():
        raise RuntimeError("a defect the test planted")


def test_an_unexpected_error_is_logged_under_the_id_its_page_shows(app, client, auth,
                                                                   create_teacher, caplog):
    _add_failing_route(app)
    auth.login(create_teacher())
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        response = client.get("/test-only/fails")

    assert response.status_code == 500
    request_id = response.headers["X-Request-ID"]
    assert f'<code class="request-id">{request_id}</code>' in response.text
    assert "Something went wrong on our side" in response.text
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert "GET /test-only/fails" in record.getMessage()
    assert record.exc_info and "a defect the test planted" in str(record.exc_info[1])


def test_an_htmx_request_gets_the_error_fragment_with_its_id(app, client, auth, create_teacher):
    _add_failing_route(app)
    auth.login(create_teacher())
    response = client.get("/test-only/fails", headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert response.text.lstrip().startswith('<section id="error"')
    assert response.headers["X-Request-ID"] in response.text


def test_every_response_carries_a_fresh_request_id(client):
    ids = {client.get("/login").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_a_client_cannot_choose_its_request_id_unless_a_trusted_proxy_sets_it(database_url):
    chosen = {"X-Request-ID": "proxy-assigned-0123"}
    direct = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url})
    assert direct.test_client().get("/login", headers=chosen).headers["X-Request-ID"] != \
        "proxy-assigned-0123"
    behind_proxy = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                               "TRUSTED_PROXY_HOPS": 1})
    client = behind_proxy.test_client()
    assert client.get("/login", headers=chosen).headers["X-Request-ID"] == "proxy-assigned-0123"
    forged = client.get("/login", headers={"X-Request-ID": "spaces and \"quotes\" in an id"})
    assert forged.headers["X-Request-ID"].isalnum()


# --- the database out of reach -----------------------------------------------------------------

def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text[:500]
    assert "briefly unavailable" in response.text
    assert response.headers["Retry-After"].isdigit()
    assert response.headers["X-Request-ID"] in response.text


def test_sqlite_out_of_reach_answers_503(tmp_path):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"})
    client = app.test_client()
    response = AuthActions(client).login("someone@example.org")
    _assert_unavailable(response)


@pytest.fixture
def postgres_behind_proxy(tmp_path_factory):
    """A migrated PostgreSQL database reached through a TcpProxy: (database url, proxy)."""
    base = os.environ.get("DATABASE_URL", "")
    databases = FreshDatabases(tmp_path_factory)
    databases.base_url = base if _is_postgres(base) else MACHINE_POSTGRES
    try:
        direct_url = databases.create()
    except Exception as error:  # noqa: BLE001  (psycopg's connection errors vary)
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    from flask_migrate import upgrade

    migrating = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": direct_url})
    with migrating.app_context():
        upgrade()
        db.engine.dispose()
    parts = urlsplit(direct_url)
    proxy = TcpProxy(parts.hostname, parts.port or 5432)
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    yield proxied, proxy
    proxy.cut()
    databases.drop_all()


def test_a_postgresql_restart_answers_503_then_recovers_without_a_restart(
        postgres_behind_proxy, caplog):
    url, proxy = postgres_behind_proxy
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        account_services.create_user("teacher@example.org", "A Teacher", PASSWORD)
        db.session.commit()
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login("teacher@example.org").status_code == 302
    assert client.get("/", follow_redirects=True).status_code == 200

    proxy.cut()
    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        page = client.get("/")
        fragment = client.get("/", headers={"HX-Request": "true"})
        form = client.post("/logout", data={"csrf_token": "whatever"})
    _assert_unavailable(page)
    assert "<!doctype html>" in page.text and "Log out" not in page.text  # the standalone page
    _assert_unavailable(fragment)
    assert fragment.text.lstrip().startswith('<section id="error"')
    assert form.status_code in (400, 503)  # the CSRF check may answer before the database
    assert any("Database unavailable" in r.getMessage() for r in caplog.records)

    proxy.restore()
    # The same app: its pool re-connected by itself.
    assert client.get("/", follow_redirects=True).status_code == 200
    with app.app_context():
        db.engine.dispose()
