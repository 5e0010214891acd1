"""Progress reports from chargers: diagnostics and firmware status, and incoming DataTransfer."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..models import (
    DataTransfer,
    DiagnosticsRequest,
    DiagnosticsStatus,
    FirmwareDeployment,
    FirmwareStatus,
)
from .sql import fit_strings

diagnostics_requests = DiagnosticsRequest.__table__
diagnostics_status = DiagnosticsStatus.__table__
deployments = FirmwareDeployment.__table__
firmware_status = FirmwareStatus.__table__
data_transfers = DataTransfer.__table__


def _record_progress(conn: Connection, history, requests, link: str, charger_id: int,
                     status: str, now: datetime) -> None:
    """Append ``status`` to ``history``, linked to the charger's latest row of ``requests``,
    and make it that request's status (``Idle`` says nothing about a request)."""
    status = fit_strings(history, {"status": status})["status"]
    request_id = conn.execute(
        select(requests.c.id).where(requests.c.charger_id == charger_id)
        .order_by(requests.c.id.desc()).limit(1)
    ).scalar()
    conn.execute(insert(history).values(charger_id=charger_id, status=status, received_at=now,
                                        **{link: request_id}))
    if request_id is not None and status != "Idle":
        conn.execute(update(requests).where(requests.c.id == request_id)
                     .values(status=status, updated_at=now))


def record_diagnostics_status(conn: Connection, charger_id: int, status: str,
                              now: datetime) -> None:
    """Store the status, linked to the charger's latest GetDiagnostics request."""
    _record_progress(conn, diagnostics_status, diagnostics_requests, "request_id", charger_id,
                     status, now)


def record_firmware_status(conn: Connection, charger_id: int, status: str, now: datetime) -> None:
    """Store the status, linked to the charger's latest firmware deployment."""
    _record_progress(conn, firmware_status, deployments, "deployment_id", charger_id, status, now)


# DataTransfer from chargers ----------------------------------------------------------------

# A handler gets (identity, messageId, data) and returns the reply: {"status", "data"?}.
DataTransferHandler = Callable[[str, str | None, str | None], dict[str, Any]]
_handlers: dict[tuple[str, str | None], DataTransferHandler] = {}

# With no handler registered for the vendor, a charger is told its vendor is unknown (the
# spec's answer), after the message has been stored.
DEFAULT_REPLY = {"status": "UnknownVendorId"}


def register_data_transfer_handler(vendor_id: str, handler: DataTransferHandler,
                                   message_id: str | None = None) -> None:
    """Answer DataTransfer for ``vendor_id`` (and ``message_id``, or any) with ``handler``."""
    _handlers[(vendor_id, message_id)] = handler


def data_transfer_reply(identity: str, vendor_id: str, message_id: str | None,
                        data: str | None) -> dict[str, Any]:
    handler = _handlers.get((vendor_id, message_id)) or _handlers.get((vendor_id, None))
    if handler is None:
        return dict(DEFAULT_REPLY)
    return handler(identity, message_id, data)


def record_data_transfer(conn: Connection, charger_id: int, direction: str, vendor_id: str,
                         message_id: str | None, data: str | None, reply: dict[str, Any] | None,
                         now: datetime) -> None:
    conn.execute(insert(data_transfers).values(**fit_strings(data_transfers, {
        "charger_id": charger_id, "direction": direction, "vendor_id": vendor_id,
        "message_id": message_id, "data": data, "status": (reply or {}).get("status"),
        "response_data": (reply or {}).get("data"), "created_at": now,
    })))
