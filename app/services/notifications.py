"""Progress reports from chargers: diagnostics and firmware status, and incoming DataTransfer."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..models import (
    Command,
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
commands = Command.__table__


# Reads the requestId a stored command sent (the adapter knows its wire name): 2.x links a
# status to its request by that id.
RequestIdOf = Callable[[dict[str, Any]], Any]
# How many of a charger's latest commands of the action are searched for a requestId.
_LINK_SEARCH = 200


def _request_for(conn: Connection, requests, charger_id: int, action: str,
                 request_id: int | None, request_id_of: RequestIdOf | None) -> int | None:
    """The ``requests`` row a status reports on: with ``request_id_of`` (2.x), the one made by
    the charger's ``action`` command whose request carried ``request_id`` (None if none did);
    else (1.6, which has no request ids) the charger's latest."""
    if request_id_of is None:
        return conn.execute(
            select(requests.c.id).where(requests.c.charger_id == charger_id)
            .order_by(requests.c.id.desc()).limit(1)
        ).scalar()
    if request_id is None:
        return None
    sent = conn.execute(
        select(commands.c.id, commands.c.request).where(
            commands.c.charger_id == charger_id, commands.c.action == action)
        .order_by(commands.c.id.desc()).limit(_LINK_SEARCH))
    for command_id, request in sent:
        if isinstance(request, dict) and request_id_of(request) == request_id:
            return conn.execute(select(requests.c.id).where(
                requests.c.command_id == command_id)).scalar()
    return None


def _record_progress(conn: Connection, history, requests, link: str, charger_id: int,
                     status: str, now: datetime, request_row: int | None,
                     request_id: int | None) -> None:
    """Append ``status`` to ``history``, linked to ``request_row`` of ``requests``, and make
    it that request's status (``Idle`` says nothing about a request)."""
    status = fit_strings(history, {"status": status})["status"]
    conn.execute(insert(history).values(charger_id=charger_id, status=status, received_at=now,
                                        ocpp_request_id=request_id, **{link: request_row}))
    if request_row is not None and status != "Idle":
        conn.execute(update(requests).where(requests.c.id == request_row)
                     .values(status=status, updated_at=now))


def record_diagnostics_status(conn: Connection, charger_id: int, status: str,
                              now: datetime, request_id: int | None = None,
                              request_id_of: RequestIdOf | None = None) -> None:
    """Store the status, linked to its upload request: the charger's latest GetDiagnostics
    (1.6), or the GetLog that sent ``request_id`` (2.x LogStatusNotification)."""
    row = _request_for(conn, diagnostics_requests, charger_id, "GetLog", request_id,
                       request_id_of)
    _record_progress(conn, diagnostics_status, diagnostics_requests, "request_id", charger_id,
                     status, now, row, request_id)


def record_firmware_status(conn: Connection, charger_id: int, status: str, now: datetime,
                           request_id: int | None = None,
                           request_id_of: RequestIdOf | None = None) -> None:
    """Store the status, linked to its firmware deployment: the charger's latest (1.6), or
    the one of the UpdateFirmware that sent ``request_id`` (2.x)."""
    row = _request_for(conn, deployments, charger_id, "UpdateFirmware", request_id,
                       request_id_of)
    _record_progress(conn, firmware_status, deployments, "deployment_id", charger_id, status,
                     now, row, request_id)


# DataTransfer from chargers ----------------------------------------------------------------

# A handler gets (identity, messageId, data) and returns the reply: {"status", "data"?}.
# 1.6 data is a string; 2.x data is any JSON value.
DataTransferHandler = Callable[[str, str | None, Any], dict[str, Any]]
_handlers: dict[tuple[str, str | None], DataTransferHandler] = {}

# With no handler registered for the vendor, a charger is told its vendor is unknown (the
# spec's answer), after the message has been stored.
DEFAULT_REPLY = {"status": "UnknownVendorId"}


def register_data_transfer_handler(vendor_id: str, handler: DataTransferHandler,
                                   message_id: str | None = None) -> None:
    """Answer DataTransfer for ``vendor_id`` (and ``message_id``, or any) with ``handler``."""
    _handlers[(vendor_id, message_id)] = handler


def data_transfer_reply(identity: str, vendor_id: str, message_id: str | None,
                        data: Any) -> dict[str, Any]:
    handler = _handlers.get((vendor_id, message_id)) or _handlers.get((vendor_id, None))
    if handler is None:
        return dict(DEFAULT_REPLY)
    return handler(identity, message_id, data)


def _as_text(value: Any) -> str | None:
    # 2.x data may be any JSON value: stored as its JSON text (a string stays as it is, so
    # 1.6 records read the same).
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def record_data_transfer(conn: Connection, charger_id: int, direction: str, vendor_id: str,
                         message_id: str | None, data: Any, reply: dict[str, Any] | None,
                         now: datetime) -> None:
    conn.execute(insert(data_transfers).values(**fit_strings(data_transfers, {
        "charger_id": charger_id, "direction": direction, "vendor_id": vendor_id,
        "message_id": message_id, "data": _as_text(data), "status": (reply or {}).get("status"),
        "response_data": _as_text((reply or {}).get("data")), "created_at": now,
    })))
