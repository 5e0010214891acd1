"""Commands sent to chargers: who, when, request, reply or error, status and duration."""
from __future__ import annotations

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# pending: recorded, not yet answered; completed: CALLRESULT; error: CALLERROR or refused;
# timeout: no answer in time.
COMMAND_STATUSES = ("pending", "completed", "error", "timeout")


class Command(db.Model):
    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_charger_id", "charger_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    request = mapped_column(JSON)
    response = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_description: Mapped[str | None] = mapped_column(Text)
    error_details = mapped_column(JSON)
    message_id: Mapped[str | None] = mapped_column(String(36))
    timeout: Mapped[float] = mapped_column(Float)
    # Who asked: a user name, and through what (api, console, job).
    requested_by: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    sent_at = mapped_column(UTCDateTime)
    completed_at = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(Float)
    # Set when the outcome is stored but what it should change (command_effects.apply) failed.
    effect_error: Mapped[str | None] = mapped_column(Text)
    # The transaction a RemoteStartTransaction (RequestStartTransaction) led to.
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    # OCPP 2.x RequestStartTransaction: the remoteStartId we gave, which the charger's
    # TransactionEvents repeat; the link to the transaction.
    remote_start_id: Mapped[int | None] = mapped_column(Integer, index=True)
