"""Every OCPP frame in and out, per charger, for troubleshooting (pruned after a retention)."""
from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime


class MessageLog(db.Model):
    __tablename__ = "message_log"
    __table_args__ = (
        Index("ix_message_log_charger", "charger_id", "id"),
        Index("ix_message_log_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: frames of unknown or deleted chargers are kept too.
    charger_id: Mapped[int | None] = mapped_column(Integer)
    identity: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    created_at = mapped_column(UTCDateTime)
    message_type: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    frame: Mapped[str] = mapped_column(Text)
