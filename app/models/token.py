"""Authorization tokens (OCPP 1.6 id tags)."""
from __future__ import annotations

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")


class IdToken(db.Model):
    __tablename__ = "id_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_tag: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="Accepted")
    expiry_date = mapped_column(UTCDateTime)
    parent_id_tag: Mapped[str | None] = mapped_column(String(20))
    # Recorded because OCPP_UNKNOWN_ID_TAGS=accept let an unknown tag through.
    auto_created: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
