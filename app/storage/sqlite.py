"""SQLite connection settings: WAL, the configured durability and a busy timeout."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_sqlite(app: Flask, engine: Engine) -> None:
    """Put every SQLite connection of ``engine`` in WAL mode with the configured synchronous."""
    if engine.dialect.name != "sqlite":
        return
    synchronous = app.config["SQLITE_SYNCHRONOUS"]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every test
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
