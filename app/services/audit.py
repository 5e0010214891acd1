"""The audit trail of operator actions other than commands (``models.audit``): recorded in the
same transaction as the action, so an action is never without its record."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from ..extensions import db
from ..models import AuditEvent, utcnow
from ..models.base import isoformat


def record(action: str, *, actor: str | None, source: str, charger: str | None = None,
           target: str | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    """Add an audit record to the session; the caller commits it with the action."""
    event = AuditEvent(action=action, actor=actor, source=source, charger=charger,
                       target=target, details=details or None, created_at=utcnow())
    db.session.add(event)
    return event


def events(*, charger: str | None = None, action: str | None = None,
           actor: str | None = None) -> Select:
    """Audit records matching the filters, newest first."""
    stmt = select(AuditEvent)
    if charger:
        stmt = stmt.where(AuditEvent.charger == charger)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    return stmt.order_by(AuditEvent.id.desc())


def to_dict(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "created_at": isoformat(event.created_at), "actor": event.actor,
            "source": event.source, "action": event.action, "charger": event.charger,
            "target": event.target, "details": event.details or {}}
