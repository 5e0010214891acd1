"""Column types shared by the models: timestamps are stored as naive UTC, returned aware; the
64-bit primary key of the per-message tables."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.types import BigInteger, DateTime, Integer, TypeDecorator

# The primary key of a table that grows by rows per charger message: BIGINT on PostgreSQL, where
# INTEGER (serial) is 32 bits and a busy node's message log passes 2**31 rows within weeks;
# on SQLite an INTEGER PRIMARY KEY (the 64-bit rowid) as before.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 with a ``Z``, as OCPP and the API write times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
