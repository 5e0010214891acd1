"""What 2.x stations report on their own: security events, device events (NotifyEvent),
charging limits, reported charging profiles, customer information, display messages, and the
other notifications kept as sent (monitoring reports, EV charging needs and schedules, ...)."""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# Who saw a security event: the charger (SecurityEventNotification) or the CSMS itself (a
# failed handshake, say, which has no charger).
SECURITY_EVENT_SOURCES = ("charger", "csms")


class SecurityEvent(db.Model):
    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_charger", "charger_id", "timestamp"),
                      Index("ix_security_events_timestamp", "timestamp"))

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int | None] = mapped_column(ForeignKey("chargers.id",
                                                              ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(8))
    # The list is open (FirmwareUpdated, InvalidTLSVersion, ...): 50 characters in 2.x.
    type: Mapped[str] = mapped_column(String(50))
    # When it happened, by the reporter's clock.
    timestamp = mapped_column(UTCDateTime)
    tech_info: Mapped[str | None] = mapped_column(String(255))
    received_at = mapped_column(UTCDateTime, default=utcnow)


class ChargerEvent(db.Model):
    """One eventData of a NotifyEvent: a component's variable changed, a monitor fired."""

    __tablename__ = "charger_events"
    __table_args__ = (
        # A retried NotifyEvent (new message id in 2.0.1) is stored once.
        Index("ix_charger_events_key", "charger_id", "event_id", "timestamp", unique=True),
        Index("ix_charger_events_charger_time", "charger_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    timestamp = mapped_column(UTCDateTime)
    trigger: Mapped[str] = mapped_column(String(16))
    cause: Mapped[int | None] = mapped_column(BigInteger)
    actual_value: Mapped[str] = mapped_column(Text)
    tech_code: Mapped[str | None] = mapped_column(String(50))
    tech_info: Mapped[str | None] = mapped_column(String(500))
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    transaction_id: Mapped[str | None] = mapped_column(String(36))
    variable_monitoring_id: Mapped[int | None] = mapped_column(BigInteger)
    event_notification_type: Mapped[str] = mapped_column(String(32))
    component_name: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer)
    variable_name: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    # A fault, as 2.x reports one: Problem = true, or AvailabilityState = Faulted, not cleared.
    problem: Mapped[bool] = mapped_column(Boolean, default=False)
    generated_at = mapped_column(UTCDateTime)
    seq_no: Mapped[int] = mapped_column(BigInteger)
    received_at = mapped_column(UTCDateTime, default=utcnow)


class ChargingLimit(db.Model):
    """The external limit a station last reported per EVSE (0: the whole station) and source
    (EMS, Other, SO, CSO), until it reports it cleared."""

    __tablename__ = "charging_limits"
    __table_args__ = (Index("ix_charging_limits_key", "charger_id", "evse_id", "source",
                            unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    is_grid_critical: Mapped[bool | None] = mapped_column(Boolean)
    is_local_generation: Mapped[bool | None] = mapped_column(Boolean)
    # The charging schedules as sent (OCPP's JSON).
    schedules = mapped_column(JSON)
    reported_at = mapped_column(UTCDateTime)
    cleared_at = mapped_column(UTCDateTime)


class ReportedChargingProfile(db.Model):
    """A charging profile a station reported (ReportChargingProfiles), by GetChargingProfiles
    requestId."""

    __tablename__ = "reported_charging_profiles"
    __table_args__ = (Index("ix_reported_profiles_key", "charger_id", "request_id", "source",
                            "evse_id", "profile_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(20))
    evse_id: Mapped[int] = mapped_column(Integer)
    profile_id: Mapped[int] = mapped_column(BigInteger)
    profile = mapped_column(JSON)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at = mapped_column(UTCDateTime, default=utcnow)


class CustomerInformation(db.Model):
    """One part of a NotifyCustomerInformation answer to CustomerInformation (requestId)."""

    __tablename__ = "customer_information"
    __table_args__ = (Index("ix_customer_information_key", "charger_id", "request_id",
                            "seq_no", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(BigInteger)
    seq_no: Mapped[int] = mapped_column(BigInteger)
    generated_at = mapped_column(UTCDateTime)
    data: Mapped[str] = mapped_column(Text)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at = mapped_column(UTCDateTime, default=utcnow)


class ReportedDisplayMessage(db.Model):
    """A display message a station reported (NotifyDisplayMessages), by GetDisplayMessages
    requestId."""

    __tablename__ = "reported_display_messages"
    __table_args__ = (Index("ix_reported_display_messages_key", "charger_id", "request_id",
                            "message_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(16))
    # The messageInfo as sent (OCPP's JSON: message content, display, times).
    info = mapped_column(JSON)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at = mapped_column(UTCDateTime, default=utcnow)


class DisplayMessage(db.Model):
    """A display message as the CSMS knows it is on the station: set by an accepted
    SetDisplayMessage (``source`` "csms") or found by GetDisplayMessages (``source``
    "station"), until an accepted ClearDisplayMessage (``cleared_at``)."""

    __tablename__ = "display_messages"
    __table_args__ = (Index("ix_display_messages_key", "charger_id", "message_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(16))
    transaction_id: Mapped[str | None] = mapped_column(String(36))
    # The messageInfo as sent (OCPP's JSON: message content, display, times).
    info = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(8))
    # The charger's answer to the last Set or Clear of this message (Accepted, Rejected, ...).
    last_status: Mapped[str | None] = mapped_column(String(32))
    command_id: Mapped[int | None] = mapped_column(
        ForeignKey("commands.id", ondelete="SET NULL"))
    updated_at = mapped_column(UTCDateTime, default=utcnow)
    cleared_at = mapped_column(UTCDateTime)


class StationReport(db.Model):
    """A notification kept as sent, per charger with its time: NotifyMonitoringReport,
    NotifyEVChargingNeeds, NotifyEVChargingSchedule, PublishFirmwareStatusNotification."""

    __tablename__ = "station_reports"
    __table_args__ = (Index("ix_station_reports_charger", "charger_id", "action", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int | None] = mapped_column(BigInteger)
    evse_id: Mapped[int | None] = mapped_column(Integer)
    payload = mapped_column(JSON)
    received_at = mapped_column(UTCDateTime, default=utcnow)
