"""Small SQL helpers shared by the services: dialect-aware upsert, rows fitted to columns."""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import String, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from ..storage.text import storable


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE the other columns; SQLite and PostgreSQL."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values)
    changed = {k: stmt.excluded[k] for k in values if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changed))


def insert_new(conn: Connection, table: Table, values: dict[str, Any], keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT (keys) DO NOTHING; True if the row was new.

    Said by RETURNING, not rowcount: on PostgreSQL SQLAlchemy adds its own RETURNING of the
    primary key to a one-row INSERT, and rowcount is then -1 whether or not a row went in.
    """
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None


@functools.cache
def _string_limits(table: Table) -> tuple[tuple[str, int | None], ...]:
    # String and its subclasses (Text: no length); not JSON or dates.
    return tuple((column.name, column.type.length) for column in table.columns
                 if isinstance(column.type, String))


def fit_strings(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its text made to fit ``table``'s String(n) columns: clipped to n characters
    (a non-text value, possible from a lenient charger, is stored as its text), lone
    surrogates replaced (``storage.text.storable``, the one rule for charger text).

    For rows built from what chargers send: the schema bounds most fields, but not every one
    (a sampled value), and a lenient charger's violations are processed anyway. SQLite would
    store 200,000 characters in a String(64) column; PostgreSQL would fail the unit. Changes
    ``row`` in place and returns it.
    """
    for name, limit in _string_limits(table):
        value = row.get(name)
        if value is not None:
            row[name] = storable(value, limit)
    return row
