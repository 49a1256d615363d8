"""A fresh PostgreSQL database for a benchmark, beside the one DATABASE_URL names."""

import contextlib
import os
import re
import sys
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg


def _admin_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


@contextlib.contextmanager
def fresh_database(prefix: str, *, keep: bool = False) -> Iterator[str]:
    """The SQLAlchemy URL of a new empty database named `prefix`_<random>, dropped afterwards
    (also when the benchmark fails) unless `keep`: then its name is printed, to look into.
    Exits with a message when DATABASE_URL is not PostgreSQL."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgresql", "postgres:")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (a fresh one is made beside it).")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    finally:
        if keep:
            print(f"Kept the database {name}.")
        else:
            with psycopg.connect(_admin_url(base), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
