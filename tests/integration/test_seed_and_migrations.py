"""`flask db upgrade` on an empty database, then `flask seed-demo` twice: one copy of each object.

Runs the real commands in a subprocess against a fresh database of the configured kind
(PostgreSQL in CI's second run, SQLite otherwise).
"""

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, func, select

from moderation.accounts.models import District, Membership, School, User
from moderation.core.audit import AuditEvent

pytestmark = pytest.mark.slow


def flask(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url,
           "SECRET_KEY": "seed-test"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=True)


def counts(database_url: str) -> dict[str, int]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        result = {model.__name__: conn.scalar(select(func.count()).select_from(model))
                  for model in (District, School, User, Membership)}
    engine.dispose()
    return result


def test_upgrade_then_seed_twice_leaves_one_copy(fresh_databases):
    url = fresh_databases.create()
    flask("db", "upgrade", database_url=url)
    first = flask("seed-demo", database_url=url)
    after_first = counts(url)
    flask("seed-demo", database_url=url)

    assert counts(url) == after_first
    assert after_first == {"District": 1, "School": 9, "User": 58, "Membership": 59}
    assert "teach-demo-2026" in first.stdout  # the demo logins are printed


def test_migrations_match_the_models(fresh_databases):
    """A model change without its migration fails here, not in production."""
    url = fresh_databases.create()
    flask("db", "upgrade", database_url=url)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "db", "check"],
        env={**os.environ, "APP_ENV": "development", "DATABASE_URL": url,
             "SECRET_KEY": "seed-test"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_audit_events_table_exists_after_upgrade(fresh_databases):
    url = fresh_databases.create()
    flask("db", "upgrade", database_url=url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AuditEvent)) == 0
    engine.dispose()
