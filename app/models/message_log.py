"""Every OCPP frame in and out, per charger, for troubleshooting (pruned after a retention)."""
from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BIG_ID, UTCDateTime


class MessageLog(db.Model):
    __tablename__ = "message_log"
    # No index on created_at: one index fewer to update per frame. Ids grow with time, so
    # retention deletes from the lowest ids (see services/retention.py).
    __table_args__ = (Index("ix_message_log_charger", "charger_id", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    # No foreign key: frames of unknown or deleted chargers are kept too.
    charger_id: Mapped[int | None] = mapped_column(Integer)
    identity: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    created_at = mapped_column(UTCDateTime)
    message_type: Mapped[int | None] = mapped_column(Integer)
    message_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    frame: Mapped[str] = mapped_column(Text)
