"""What the scheduled jobs keep: alerts (a charger gone silent), 15-minute meter-value
aggregates (raw values folded after ``METER_VALUE_RAW_DAYS``) and the daily energy summary."""
from __future__ import annotations

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime

ALERT_KINDS = ("offline",)


class Alert(db.Model):
    """A condition a job noticed about a charger; active until ``cleared_at`` is set."""

    __tablename__ = "alerts"
    __table_args__ = (
        # The offline job looks up the active alerts of each kind on every run.
        Index("ix_alerts_active", "kind", "cleared_at"),
        Index("ix_alerts_charger", "charger_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    raised_at = mapped_column(UTCDateTime)
    cleared_at = mapped_column(UTCDateTime)
    detail: Mapped[str | None] = mapped_column(Text)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at = mapped_column(UTCDateTime)


class MeterValueAggregate(db.Model):
    """Raw meter values of one 15-minute bucket folded into one row per series."""

    __tablename__ = "meter_value_aggregates"
    __table_args__ = (
        Index("ix_meter_value_aggregates_series", "charger_id", "bucket_start"),
        Index("ix_meter_value_aggregates_tx", "transaction_id", "bucket_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    # As in meter_values: the 1.6 connector, or the 2.x EVSE.
    connector_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    measurand: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str | None] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    bucket_start = mapped_column(UTCDateTime)
    # Over the numeric values of the bucket; ``count`` of them (a NaN sample is not counted).
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    avg: Mapped[float | None] = mapped_column(Float)
    last: Mapped[float | None] = mapped_column(Float)
    last_at = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DailyEnergy(db.Model):
    """Energy of the transactions that ended on ``day`` (UTC), per charger; the row with no
    charger is the node's total. Recomputed whole for a day, so a rerun changes nothing."""

    __tablename__ = "daily_energy"
    __table_args__ = (Index("ix_daily_energy_day", "day", "charger_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day = mapped_column(Date, nullable=False)
    charger_id: Mapped[int | None] = mapped_column(ForeignKey("chargers.id",
                                                              ondelete="CASCADE"))
    energy_wh: Mapped[float] = mapped_column(Float, default=0.0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    computed_at = mapped_column(UTCDateTime)
