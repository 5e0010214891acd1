"""Charging transactions, their meter values, reservations and DataTransfer records."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import BIG_ID, UTCDateTime, utcnow
from .token import MAX_TOKEN_LENGTH, TOKEN_KEY_LENGTH, key_default


class Transaction(db.Model):
    __tablename__ = "transactions"
    __table_args__ = (
        # A retried 1.6 StartTransaction (same charger, connector, tag, time, meterStart) is
        # one. Not for 2.x transactions: their key is the charger's transaction id (below), and
        # two of them may well look alike here.
        Index("ix_tx_start_key", "charger_id", "connector_id", "id_tag", "started_at",
              "meter_start", unique=True,
              sqlite_where=text("charger_transaction_id IS NULL"),
              postgresql_where=text("charger_transaction_id IS NULL")),
        Index("ix_tx_charger_started", "charger_id", "started_at"),
        # OCPP 2.x: the charger's own transaction id never repeats on that charger; it is the
        # key of every TransactionEvent (NULL for 1.6 transactions, whose id is ours).
        Index("ix_tx_charger_transaction", "charger_id", "charger_transaction_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    connector_id: Mapped[int | None] = mapped_column(Integer)
    # As long as any version's token (2.1: 255).
    id_tag: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    # token.tag_key(id_tag), for case-insensitive filters (filled in on insert).
    id_tag_key: Mapped[str | None] = mapped_column(String(TOKEN_KEY_LENGTH),
                                                   default=key_default("id_tag"))
    id_tag_status: Mapped[str | None] = mapped_column(String(16))
    # 64 bits, as the charger may send them (Wh registers pass 2^31 in a fleet's lifetime;
    # Integer is 32-bit on PostgreSQL). Frames refuse integers beyond 64 bits.
    meter_start: Mapped[int | None] = mapped_column(BigInteger)
    meter_stop: Mapped[int | None] = mapped_column(BigInteger)
    # meter_stop - meter_start; None when that is negative (meter_anomaly): never counted.
    energy_wh: Mapped[float | None] = mapped_column(Float)
    # The charger's meter went backwards (meterStop < meterStart): its numbers are kept as sent.
    meter_anomaly: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at = mapped_column(UTCDateTime)
    stopped_at = mapped_column(UTCDateTime)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    stop_id_tag: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    reservation_id: Mapped[int | None] = mapped_column(BigInteger)
    # A StopTransaction for a transaction the CSMS never started (-1, or unknown after an
    # offline replay) is kept as its own record with the id the charger used.
    unmatched_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Closed by an operator (a user name) because its StopTransaction never came; the charger's
    # own StopTransaction, should it come after all, still replaces the operator's numbers.
    closed_by: Mapped[str | None] = mapped_column(String(64))
    # OCPP 2.x only (NULL for 1.6): the charger's transactionId, the EVSE, the stoppedReason as
    # sent (stop_reason holds it too, or Local when it was left out), the remoteStartId of the
    # RequestStartTransaction that led to it, the latest chargingState, and whether any event
    # of it was queued while the charger was offline.
    charger_transaction_id: Mapped[str | None] = mapped_column(String(36))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    stopped_reason: Mapped[str | None] = mapped_column(String(32))
    remote_start_id: Mapped[int | None] = mapped_column(Integer)
    charging_state: Mapped[str | None] = mapped_column(String(20))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def state(self) -> str:
        return "stopped" if self.stopped_at is not None else "active"


class TransactionEvent(db.Model):
    """One OCPP 2.x TransactionEvent received, by its seqNo: the record that makes a retry (a
    new message id in 2.0.1, the same seqNo) a duplicate, and shows gaps and late arrivals."""

    __tablename__ = "transaction_events"
    __table_args__ = (
        Index("ix_transaction_events_seq", "transaction_id", "seq_no", unique=True),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"))
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    # 2.x seqNo is an integer >= 0 with no upper bound in the schema.
    seq_no: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(16))  # Started | Updated | Ended
    trigger_reason: Mapped[str] = mapped_column(String(32))
    timestamp = mapped_column(UTCDateTime)  # when it happened (the charger's clock)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at = mapped_column(UTCDateTime, default=utcnow)


class MeterValue(db.Model):
    """One sampled value, normalised (Wh, W, ...) with the raw value and unit kept."""

    __tablename__ = "meter_values"
    __table_args__ = (
        Index("ix_meter_values_tx", "transaction_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    timestamp = mapped_column(UTCDateTime)
    measurand: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str | None] = mapped_column(String(8))
    unit: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    raw_value: Mapped[str] = mapped_column(String(64))
    raw_unit: Mapped[str | None] = mapped_column(String(16))
    context: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(16))
    format: Mapped[str | None] = mapped_column(String(16))
    # Where it came from: MeterValues, StopTransaction's transactionData or TransactionEvent.
    source: Mapped[str] = mapped_column(String(16), default="MeterValues")


class Reservation(db.Model):
    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)  # the OCPP reservationId
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    id_tag: Mapped[str] = mapped_column(String(MAX_TOKEN_LENGTH))
    parent_id_tag: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    expiry_date = mapped_column(UTCDateTime)
    # requested | Accepted | Faulted | Occupied | Rejected | Unavailable | cancelled | used
    status: Mapped[str] = mapped_column(String(16), default="requested")
    command_id: Mapped[int | None] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(Integer)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)


class DataTransfer(db.Model):
    __tablename__ = "data_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    vendor_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(16))
    response_data: Mapped[str | None] = mapped_column(Text)
    extra = mapped_column(JSON)
    created_at = mapped_column(UTCDateTime, default=utcnow)
