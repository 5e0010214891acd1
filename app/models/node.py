"""What this node keeps about itself: an admin's feature switches and the RFID scan history."""
from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# What a scan led to (app/services/rfid.py).
SCAN_RESULTS = ("started", "stopped", "pending", "refused", "failed", "ignored")


class NodeFeature(db.Model):
    """An admin's switch of one feature: it wins over the role's default and over
    CONSTELLATION_FEATURES. No row: the configured default holds."""

    __tablename__ = "node_features"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_by: Mapped[str | None] = mapped_column(String(64))
    changed_at = mapped_column(UTCDateTime, default=utcnow)


class RfidScan(db.Model):
    """One card presented to the node's reader (after debouncing), and what came of it."""

    __tablename__ = "rfid_scans"
    __table_args__ = (Index("ix_rfid_scans_uid", "uid", "scanned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Upper-case hex, without the BCC check byte: 8, 14 or 20 digits.
    uid: Mapped[str] = mapped_column(String(32))
    scanned_at = mapped_column(UTCDateTime, default=utcnow)
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    # The charger and connector the scan acted on (identity, not a key: kept after a delete).
    charger: Mapped[str | None] = mapped_column(String(255))
    connector_id: Mapped[int | None] = mapped_column(Integer)
    command_id: Mapped[int | None] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(Integer)


class NodeMessage(db.Model):
    """A message an operator sends to the node's LCD, shown until ``expires_at``."""

    __tablename__ = "node_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(80))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    expires_at = mapped_column(UTCDateTime)
