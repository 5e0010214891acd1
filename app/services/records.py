"""What chargers and commands left behind, for reading: reservations, configuration keys,
firmware files and deployments, diagnostics, status history, the message log, data transfers.

Query builders return SQLAlchemy statements (newest first unless said otherwise) so that callers
can paginate them; ``*_to_dict`` give the public representation the API and console share.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from ..extensions import db
from ..models import (
    Charger,
    ConfigurationKey,
    DataTransfer,
    DiagnosticsFile,
    DiagnosticsRequest,
    DiagnosticsStatus,
    FirmwareDeployment,
    FirmwareFile,
    FirmwareStatus,
    MessageLog,
    Reservation,
    StatusNotification,
)
from ..models.base import isoformat
from .errors import DomainError

DIRECTIONS = ("in", "out")


class RecordError(DomainError):
    """A filter that cannot be applied as given (the message says why)."""


def identity_of(charger_id: int | None) -> str | None:
    # session.get answers from the identity map after the first lookup of a charger.
    charger = db.session.get(Charger, charger_id) if charger_id is not None else None
    return charger.identity if charger else None


def _for_charger(stmt: Select, column, charger_id: int | None) -> Select:
    return stmt if charger_id is None else stmt.where(column == charger_id)


# Reservations ------------------------------------------------------------------------------

def reservations(charger_id: int | None = None) -> Select:
    return _for_charger(select(Reservation), Reservation.charger_id, charger_id).order_by(
        Reservation.created_at.desc(), Reservation.id.desc())


def reservation_to_dict(r: Reservation) -> dict[str, Any]:
    return {
        "id": r.id, "charger": identity_of(r.charger_id), "connector_id": r.connector_id,
        "id_tag": r.id_tag, "parent_id_tag": r.parent_id_tag,
        "expiry_date": isoformat(r.expiry_date), "status": r.status, "command_id": r.command_id,
        "transaction_id": r.transaction_id, "created_at": isoformat(r.created_at),
        "updated_at": isoformat(r.updated_at),
    }


# Configuration -----------------------------------------------------------------------------

def configuration(charger_id: int) -> Select:
    # Keys are a set, not a history: alphabetical reads better than newest first.
    return select(ConfigurationKey).where(ConfigurationKey.charger_id == charger_id).order_by(
        ConfigurationKey.key)


def configuration_key_to_dict(k: ConfigurationKey) -> dict[str, Any]:
    return {"key": k.key, "value": k.value, "readonly": k.readonly, "unknown": k.unknown,
            "updated_at": isoformat(k.updated_at)}


# Firmware ----------------------------------------------------------------------------------

def firmware_files(charger_id: int | None = None) -> Select:
    stmt = select(FirmwareFile).order_by(FirmwareFile.id.desc())
    if charger_id is not None:
        # Files are not a charger's own: with a charger, the files deployed to it.
        stmt = stmt.where(FirmwareFile.id.in_(
            select(FirmwareDeployment.firmware_file_id)
            .where(FirmwareDeployment.charger_id == charger_id)))
    return stmt


def firmware_file_to_dict(f: FirmwareFile) -> dict[str, Any]:
    return {"id": f.id, "filename": f.filename, "size": f.size, "sha256": f.sha256,
            "description": f.description, "uploaded_by": f.uploaded_by,
            "uploaded_at": isoformat(f.uploaded_at)}


def firmware_deployments(charger_id: int | None = None, status: str | None = None) -> Select:
    stmt = _for_charger(select(FirmwareDeployment), FirmwareDeployment.charger_id, charger_id)
    if status:
        stmt = stmt.where(FirmwareDeployment.status == status)
    return stmt.order_by(FirmwareDeployment.id.desc())


def firmware_deployment_to_dict(d: FirmwareDeployment) -> dict[str, Any]:
    history = db.session.execute(
        select(FirmwareStatus).where(FirmwareStatus.deployment_id == d.id)
        .order_by(FirmwareStatus.id)).scalars()
    return {
        "id": d.id, "charger": identity_of(d.charger_id), "firmware_file_id": d.firmware_file_id,
        "location": d.location, "status": d.status, "retrieve_date": isoformat(d.retrieve_date),
        "downloads": d.downloads, "command_id": d.command_id,
        "created_at": isoformat(d.created_at), "updated_at": isoformat(d.updated_at),
        "status_history": [{"status": s.status, "received_at": isoformat(s.received_at)}
                           for s in history],
    }


# Diagnostics -------------------------------------------------------------------------------

def diagnostics_requests(charger_id: int | None = None) -> Select:
    return _for_charger(select(DiagnosticsRequest), DiagnosticsRequest.charger_id,
                        charger_id).order_by(DiagnosticsRequest.id.desc())


def diagnostics_file_to_dict(f: DiagnosticsFile) -> dict[str, Any]:
    return {"id": f.id, "request_id": f.request_id, "filename": f.filename, "size": f.size,
            "sha256": f.sha256, "received_at": isoformat(f.received_at)}


def diagnostics_request_to_dict(r: DiagnosticsRequest) -> dict[str, Any]:
    stored = db.session.execute(select(DiagnosticsFile).where(
        DiagnosticsFile.request_id == r.id).order_by(DiagnosticsFile.id)).scalars()
    history = db.session.execute(select(DiagnosticsStatus).where(
        DiagnosticsStatus.request_id == r.id).order_by(DiagnosticsStatus.id)).scalars()
    return {
        "id": r.id, "charger": identity_of(r.charger_id), "command_id": r.command_id,
        "status": r.status, "file_name": r.file_name, "location": r.location,
        "created_at": isoformat(r.created_at), "updated_at": isoformat(r.updated_at),
        "files": [diagnostics_file_to_dict(f) for f in stored],
        "status_history": [{"status": s.status, "received_at": isoformat(s.received_at)}
                           for s in history],
    }


def diagnostics_file(file_id: int) -> DiagnosticsFile | None:
    return db.session.get(DiagnosticsFile, file_id)


# Status history ----------------------------------------------------------------------------

def status_history(charger_id: int, connector_id: int | None = None) -> Select:
    stmt = select(StatusNotification).where(StatusNotification.charger_id == charger_id)
    if connector_id is not None:
        stmt = stmt.where(StatusNotification.connector_id == connector_id)
    return stmt.order_by(StatusNotification.id.desc())


def status_notification_to_dict(s: StatusNotification) -> dict[str, Any]:
    return {
        "id": s.id, "connector_id": s.connector_id, "status": s.status,
        "error_code": s.error_code, "info": s.info, "vendor_id": s.vendor_id,
        "vendor_error_code": s.vendor_error_code, "timestamp": isoformat(s.timestamp),
        "received_at": isoformat(s.received_at),
    }


# Message log -------------------------------------------------------------------------------

def messages(charger_id: int, *, direction: str | None = None, action: str | None = None,
             since: datetime | None = None) -> Select:
    stmt = select(MessageLog).where(MessageLog.charger_id == charger_id)
    if direction:
        if direction not in DIRECTIONS:
            raise RecordError(f"direction must be in or out, got {direction!r}")
        stmt = stmt.where(MessageLog.direction == direction)
    if action:
        stmt = stmt.where(MessageLog.action == action)
    if since is not None:
        stmt = stmt.where(MessageLog.created_at >= since)
    return stmt.order_by(MessageLog.id.desc())


def message_to_dict(m: MessageLog) -> dict[str, Any]:
    # frame stays the text as it went over the wire (it may not even be valid JSON).
    return {"id": m.id, "direction": m.direction, "created_at": isoformat(m.created_at),
            "message_type": m.message_type, "message_id": m.message_id, "action": m.action,
            "frame": m.frame}


# Data transfers ----------------------------------------------------------------------------

def data_transfers(charger_id: int | None = None, direction: str | None = None) -> Select:
    stmt = _for_charger(select(DataTransfer), DataTransfer.charger_id, charger_id)
    if direction:
        if direction not in DIRECTIONS:
            raise RecordError(f"direction must be in or out, got {direction!r}")
        stmt = stmt.where(DataTransfer.direction == direction)
    return stmt.order_by(DataTransfer.id.desc())


def data_transfer_to_dict(t: DataTransfer) -> dict[str, Any]:
    return {
        "id": t.id, "charger": identity_of(t.charger_id), "direction": t.direction,
        "vendor_id": t.vendor_id, "message_id": t.message_id, "data": t.data,
        "status": t.status, "response_data": t.response_data,
        "created_at": isoformat(t.created_at),
    }
