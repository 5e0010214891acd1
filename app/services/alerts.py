"""Alerts for reading and acknowledging (the API and the console); jobs raise and clear them
(``services.offline``)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Alert
from ..models.base import isoformat
from .errors import DomainError
from .records import identity_of


class AlertError(DomainError):
    """No such alert, or it cannot be acknowledged as asked."""


def query(charger_id: int | None = None, active: bool | None = None) -> Select:
    """Alerts, newest first; ``active`` True: not cleared yet, False: cleared."""
    stmt = select(Alert)
    if charger_id is not None:
        stmt = stmt.where(Alert.charger_id == charger_id)
    if active is True:
        stmt = stmt.where(Alert.cleared_at.is_(None))
    elif active is False:
        stmt = stmt.where(Alert.cleared_at.is_not(None))
    return stmt.order_by(Alert.raised_at.desc(), Alert.id.desc())


def acknowledge(alert_id: int, user: str, now: datetime) -> Alert:
    """Note that ``user`` has seen the alert (it stays active until its condition clears)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise AlertError(f"no alert {alert_id}", 404)
    if alert.acknowledged_at is None:
        alert.acknowledged_by = user
        alert.acknowledged_at = now
        db.session.commit()
    return alert


def to_dict(a: Alert) -> dict[str, Any]:
    return {
        "id": a.id, "charger": identity_of(a.charger_id), "kind": a.kind,
        "active": a.cleared_at is None, "raised_at": isoformat(a.raised_at),
        "cleared_at": isoformat(a.cleared_at), "detail": a.detail,
        "acknowledged_by": a.acknowledged_by, "acknowledged_at": isoformat(a.acknowledged_at),
    }
