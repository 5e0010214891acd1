"""The database the tests run on: SQLite files (the default) or PostgreSQL, by TEST_DATABASE.

``TEST_DATABASE=postgresql`` runs the whole suite on PostgreSQL: one throwaway server per pytest
session, started at the first database a test asks for and stopped at exit, and a fresh
database per place a test names (a LiveServer's instance directory, a test's ``tmp_path``).
The same place gets the same database again, so a server restarted on its instance directory
finds its data, as it does with the SQLite file there.
"""
from __future__ import annotations

import atexit
import itertools
import os
import re
from pathlib import Path

BACKENDS = ("sqlite", "postgresql")

_server = None
_databases: dict[tuple[str, str], str] = {}
_numbers = itertools.count(1)


def backend() -> str:
    """``sqlite`` or ``postgresql``, from TEST_DATABASE."""
    name = os.environ.get("TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if name in ("postgres", "pg"):
        name = "postgresql"
    if name not in BACKENDS:
        raise RuntimeError(f"TEST_DATABASE={name!r}: expected one of {', '.join(BACKENDS)}")
    return name


def on_postgresql() -> bool:
    return backend() == "postgresql"


def postgres_server():
    """The session's PostgreSQL server, started on first use and stopped when pytest exits."""
    global _server
    if _server is None:
        from tests.support.postgres import PostgresServer

        _server = PostgresServer().start()
        atexit.register(stop_postgres_server)
    return _server


def stop_postgres_server() -> None:
    global _server
    if _server is not None:
        server, _server = _server, None
        server.stop()


def database_url(where: str | Path, name: str = "constellation") -> str:
    """The URL of the database for a test's directory ``where``: a SQLite file in it, or on
    PostgreSQL a database of its own (created on first use, the same one after that)."""
    if not on_postgresql():
        return f"sqlite:///{where}/{name}.db"
    key = (str(Path(where).resolve()), name)
    if key not in _databases:
        slug = re.sub(r"[^a-z0-9]+", "_", f"{Path(where).name}_{name}".lower())
        _databases[key] = postgres_server().create_database(f"t{next(_numbers)}_{slug}"[:63])
    return _databases[key]
