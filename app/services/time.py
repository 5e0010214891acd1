"""Timestamps as chargers send them: RFC 3339 date-times, parsed strictly, returned in UTC."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from .errors import InvalidReport

# OCPP's dateTime (JSON schema "date-time", RFC 3339): a date, a time and a time zone. Python's
# fromisoformat alone also takes a bare date (midnight), no zone, week dates, basic format...
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def parse_timestamp(value: str | None, field: str = "timestamp") -> datetime | None:
    """Parse an OCPP dateTime. Raises InvalidReport for a value that is not one."""
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise InvalidReport(
            f"{field}: {value!r} is not a date-time with a time zone "
            "(e.g. 2026-12-02T10:00:00Z)"[:255])
    try:
        # Python 3.11 reads at most 6 fraction digits: the rest is below a microsecond.
        head, dot, rest = value.partition(".")
        if dot:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            value = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except (ValueError, OverflowError):
        # Feb 30th; year 1 or 9999 shifted out of range by its offset.
        raise InvalidReport(
            f"{field}: {value!r} is not a valid time"[:255]
        ) from None


def iso(value: datetime) -> str:
    """``2026-11-28T18:00:00.000Z``: UTC, milliseconds, as OCPP replies carry it."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"
