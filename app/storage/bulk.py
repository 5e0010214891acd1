"""Bulk inserts for the per-message path, straight through the database driver.

SQLAlchemy's executemany spends ~15 µs of Python per row on parameter processing, and the
driver's executemany runs one statement per row; the message log alone writes two rows per OCPP
message. Here rows go in as multi-row INSERTs whose SQL is built once per table, dialect and row
count, and values are converted once, the way the models' column types would store them, so rows
written here read back through the ORM like any other.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection

from ..models.base import UTCDateTime

_statements: dict[tuple[str, str, tuple[str, ...], int], str] = {}
# Rows per INSERT: many rows in one statement is one sqlite3_step, and every step releases and
# re-takes the GIL, a wait each time the event loop is busy. Powers of two keep the number of
# distinct statements (each prepared once and cached by the driver) to nine per table.
MAX_ROWS_PER_STATEMENT = 256


def _sqlite_datetime(value: datetime) -> str:
    # The storage format of SQLAlchemy's SQLite DateTime ("YYYY-MM-DD HH:MM:SS.ffffff"), so
    # that comparisons and sorting agree; isoformat is C and drops only the "+00:00" here.
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _statement(conn: Connection, table: Table, columns: tuple[str, ...], count: int) -> str:
    key = (conn.dialect.name, table.name, columns, count)
    sql = _statements.get(key)
    if sql is None:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        row = f"({', '.join([mark] * len(columns))})"
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES {', '.join([row] * count)}")
        _statements[key] = sql
    return sql


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table`` with multi-row statements."""
    if not rows:
        return
    columns = tuple(rows[0])
    convert = _sqlite_datetime if conn.dialect.name == "sqlite" else _naive_utc
    time_columns = [i for i, name in enumerate(columns)
                    if isinstance(table.c[name].type, UTCDateTime)]
    values: list[Any] = []
    if time_columns:
        for row in rows:
            record = [row[name] for name in columns]
            for i in time_columns:
                if record[i] is not None:
                    record[i] = convert(record[i])
            values.extend(record)
    else:
        for row in rows:
            values.extend([row[name] for name in columns])
    width, done, total = len(columns), 0, len(rows)
    while done < total:
        count = min(MAX_ROWS_PER_STATEMENT, 1 << ((total - done).bit_length() - 1))
        conn.exec_driver_sql(_statement(conn, table, columns, count),
                             tuple(values[done * width:(done + count) * width]))
        done += count
