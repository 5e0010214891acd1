"""Security events: what chargers report (SecurityEventNotification) and what the CSMS itself
sees (a failed handshake has no charger), in one list for operators.

``record`` stores one inside the caller's transaction (the group writer for chargers);
``query`` builds the newest-first list the API pages; ``to_dict`` is its public form.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy.engine import Connection

from ..models import SecurityEvent
from ..models.base import isoformat
from ..models.notification import SECURITY_EVENT_SOURCES
from .errors import DomainError
from .sql import fit_strings
from .values import SecurityEventValue

security_events = SecurityEvent.__table__


class SecurityEventError(DomainError):
    """A security event that cannot be stored or listed as asked."""


def record(conn: Connection, charger_id: int | None, event: SecurityEventValue,
           now: datetime, source: str = "charger") -> int:
    """Store ``event`` (``charger_id`` None: not tied to a known charger); return its id."""
    if source not in SECURITY_EVENT_SOURCES:
        raise SecurityEventError(f"source must be charger or csms, got {source!r}")
    row = fit_strings(security_events, {
        "charger_id": charger_id, "source": source, "type": event.type,
        "timestamp": event.timestamp, "tech_info": event.tech_info, "received_at": now,
    })
    return conn.execute(insert(security_events).values(**row)).inserted_primary_key[0]


def query(charger_id: int | None = None, source: str | None = None,
          type_: str | None = None) -> Select:
    """Security events, newest first (by the reporter's time, then arrival)."""
    stmt = select(SecurityEvent)
    if charger_id is not None:
        stmt = stmt.where(SecurityEvent.charger_id == charger_id)
    if source:
        if source not in SECURITY_EVENT_SOURCES:
            raise SecurityEventError(f"source must be charger or csms, got {source!r}")
        stmt = stmt.where(SecurityEvent.source == source)
    if type_:
        stmt = stmt.where(SecurityEvent.type == type_)
    return stmt.order_by(SecurityEvent.timestamp.desc(), SecurityEvent.id.desc())


def to_dict(e: SecurityEvent) -> dict[str, Any]:
    from .records import identity_of

    return {"id": e.id, "charger": identity_of(e.charger_id), "source": e.source,
            "type": e.type, "timestamp": isoformat(e.timestamp), "tech_info": e.tech_info,
            "received_at": isoformat(e.received_at)}
