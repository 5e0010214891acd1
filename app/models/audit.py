"""The audit trail of operator actions that are not commands to a charger: decommissioning,
recommissioning and deleting chargers, closing transactions by hand.

Commands have their own record (``commands``: who, when, what); this table holds the rest.
The charger is named by its identity, not a foreign key, so the record outlives a deleted
charger.
"""
from __future__ import annotations

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_charger", "charger", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Who: a user name, and through what (api, console, cli).
    actor: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    # charger.decommissioned | charger.recommissioned | charger.deleted | transaction.closed
    action: Mapped[str] = mapped_column(String(32))
    charger: Mapped[str | None] = mapped_column(String(64))
    # What else it concerned, e.g. the transaction id.
    target: Mapped[str | None] = mapped_column(String(64))
    details = mapped_column(JSON)
