"""Timestamps as chargers send them: ISO 8601, parsed strictly, always returned in UTC."""
from __future__ import annotations

from datetime import UTC, datetime

from ..ocpp import errors


def parse_timestamp(value: str | None, field: str = "timestamp") -> datetime | None:
    """Parse an OCPP dateTime. Raises RemoteProtocolError for a value that is not one."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise errors.RemoteProtocolError(
            errors.PROPERTY_CONSTRAINT_VIOLATION, f"{field}: {value!r} is not an ISO 8601 dateTime"
        ) from None
    if parsed.tzinfo is None:
        # A charger without a time zone means UTC (OCPP requires UTC).
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value: datetime) -> str:
    """``2026-11-28T18:00:00.000Z``: UTC, milliseconds, as OCPP replies carry it."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"
