"""Authorization tokens (OCPP 1.6 id tags).

Id tags are CiString20: case-insensitive. A tag is stored as it was entered and looked up with
``lower(id_tag)`` (indexed), so a reader that reports "04a2b3" matches a card registered as
"04A2B3", and two tags differing only in case cannot both exist (services.tokens).
"""
from __future__ import annotations

from sqlalchemy import Boolean, Index, String, func
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


Index("ix_id_tokens_id_tag_lower", func.lower(IdToken.id_tag))


def same_tag(column, id_tag: str):
    """SQL condition: ``column`` is ``id_tag``, compared as OCPP does (case-insensitive)."""
    return func.lower(column) == id_tag.lower()
