"""Chargers, their connectors with status history, and their configuration keys."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import BIG_ID, UTCDateTime, utcnow


class Charger(db.Model):
    __tablename__ = "chargers"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # accepted | pending | rejected: the answer BootNotification gets.
    registration_status: Mapped[str] = mapped_column(String(16), default="accepted")
    auto_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Record schema violations and process the message anyway (chargers with known quirks).
    lenient: Mapped[bool] = mapped_column(Boolean, default=False)
    # The version of the latest connection (each connection negotiates its own).
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    # "1.6", "2.0.1" or "2.1": the only version the charger may negotiate; NULL: the server's
    # preference among what it offers.
    ocpp_version_pin: Mapped[str | None] = mapped_column(String(8))
    vendor: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    serial_number: Mapped[str | None] = mapped_column(String(64))
    charge_box_serial_number: Mapped[str | None] = mapped_column(String(64))
    firmware_version: Mapped[str | None] = mapped_column(String(64))
    iccid: Mapped[str | None] = mapped_column(String(32))
    imsi: Mapped[str | None] = mapped_column(String(32))
    meter_type: Mapped[str | None] = mapped_column(String(64))
    meter_serial_number: Mapped[str | None] = mapped_column(String(64))
    # 2.x BootNotification reason (PowerUp, FirmwareUpdate, RemoteReset, ...); 1.6 has none.
    last_boot_reason: Mapped[str | None] = mapped_column(String(32))
    heartbeat_interval: Mapped[int | None] = mapped_column(Integer)
    local_list_version: Mapped[int | None] = mapped_column(Integer)
    local_list_updated_at = mapped_column(UTCDateTime)
    last_boot_at = mapped_column(UTCDateTime)
    last_heartbeat = mapped_column(UTCDateTime)
    # Which process holds the socket ("host:pid"), so that any process can route to it.
    connected_at = mapped_column(UTCDateTime)
    disconnected_at = mapped_column(UTCDateTime)
    session_owner: Mapped[str | None] = mapped_column(String(128))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    # Taken out of service by an operator: hidden from lists, refused at the handshake (it is
    # also disabled), its history kept; recommissioning clears it.
    decommissioned_at = mapped_column(UTCDateTime)

    connectors: Mapped[list[Connector]] = relationship(
        back_populates="charger", order_by=lambda: [Connector.evse_id, Connector.connector_id],
        cascade="all, delete-orphan",
    )

    @property
    def connected(self) -> bool:
        return self.session_owner is not None


def _same_as_connector(context) -> int | None:
    # 1.6: each connector is its own EVSE (0 is the charger), so evse_id = connector_id.
    return context.get_current_parameters().get("connector_id")


class Connector(db.Model):
    """Latest state of one connector, keyed (evse_id, connector_id).

    2.x numbers connectors within an EVSE; 1.6 numbers them over the charger, and each is
    its own EVSE (evse_id = connector_id; 0 is the whole station).
    """

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("charger_id", "evse_id", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(Integer, default=_same_as_connector)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    info: Mapped[str | None] = mapped_column(String(64))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(64))
    status_timestamp = mapped_column(UTCDateTime)
    # ChangeAvailability: what an operator asked for and what the charger confirmed.
    requested_availability: Mapped[str | None] = mapped_column(String(16))
    availability: Mapped[str | None] = mapped_column(String(16))
    availability_status: Mapped[str | None] = mapped_column(String(16))
    updated_at = mapped_column(UTCDateTime, default=utcnow)

    charger: Mapped[Charger] = relationship(back_populates="connectors")


class StatusNotification(db.Model):
    """Every StatusNotification, in order: the history behind ``Connector``."""

    __tablename__ = "status_notifications"
    __table_args__ = (Index("ix_status_charger_id", "charger_id", "id"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    # 2.x reports faults through NotifyEvent: its StatusNotification has no error code.
    error_code: Mapped[str | None] = mapped_column(String(32))
    info: Mapped[str | None] = mapped_column(String(64))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(64))
    timestamp = mapped_column(UTCDateTime)
    received_at = mapped_column(UTCDateTime)


class ConfigurationKey(db.Model):
    """A configuration key as the charger last reported it (Get/ChangeConfiguration)."""

    __tablename__ = "configuration_keys"
    __table_args__ = (UniqueConstraint("charger_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    readonly: Mapped[bool | None] = mapped_column(Boolean)
    # True when the charger listed the key as unknown.
    unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    extra = mapped_column(JSON)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
