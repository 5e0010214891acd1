"""Firmware files and deployments, diagnostics requests and uploads, and their status history."""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class FirmwareFile(db.Model):
    __tablename__ = "firmware_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[str | None] = mapped_column(String(64))
    uploaded_at = mapped_column(UTCDateTime, default=utcnow)


class FirmwareDeployment(db.Model):
    """One UpdateFirmware to one charger, with the download token the app serves it under."""

    __tablename__ = "firmware_deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    firmware_file_id: Mapped[int | None] = mapped_column(ForeignKey("firmware_files.id"))
    location: Mapped[str] = mapped_column(String(512))
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at = mapped_column(UTCDateTime)
    retrieve_date = mapped_column(UTCDateTime)
    command_id: Mapped[int | None] = mapped_column(ForeignKey("commands.id"))
    # The latest FirmwareStatusNotification status, or requested/rejected from the command.
    status: Mapped[str] = mapped_column(String(32), default="requested")
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)


class FirmwareStatus(db.Model):
    __tablename__ = "firmware_status_notifications"
    __table_args__ = (Index("ix_fw_status_charger_id", "charger_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("firmware_deployments.id"))
    # 2.x: the requestId of the UpdateFirmware it reports on, as the charger sent it.
    ocpp_request_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    received_at = mapped_column(UTCDateTime, default=utcnow)


class DiagnosticsRequest(db.Model):
    """One GetDiagnostics: the upload URL handed to the charger and what came of it."""

    __tablename__ = "diagnostics_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    command_id: Mapped[int | None] = mapped_column(ForeignKey("commands.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    token_expires_at = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(String(512))
    # The file name GetDiagnostics.conf announced, if any.
    file_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="requested")
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow)


class DiagnosticsFile(db.Model):
    __tablename__ = "diagnostics_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("diagnostics_requests.id"))
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at = mapped_column(UTCDateTime, default=utcnow)


class DiagnosticsStatus(db.Model):
    __tablename__ = "diagnostics_status_notifications"
    __table_args__ = (Index("ix_diag_status_charger_id", "charger_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("diagnostics_requests.id"))
    # 2.x LogStatusNotification: the requestId of the GetLog it reports on, as sent.
    ocpp_request_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(32))
    received_at = mapped_column(UTCDateTime, default=utcnow)
