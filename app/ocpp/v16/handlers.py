"""OCPP 1.6 charge point to CSMS: turn each request into service calls and build the reply.

Each handler gets the charger's context, the validated payload and the time, and returns the
reply payload. Anything a handler stores is committed (through the group writer) before it
returns, so the reply is never sent for data that is not safe.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...services import authorization, notifications, stations, transactions
from ...services.time import iso, parse_timestamp
from ...services.values import Authorization, BootInfo, ConnectorStatus, Token
from .. import errors
from ..context import ChargerContext
from ..errors import RemoteProtocolError

Handler = Callable[[ChargerContext, dict[str, Any], datetime], dict[str, Any]]


def boot_info(p: dict) -> BootInfo:
    """A 1.6 BootNotification as the domain's BootInfo (1.6 gives no reason)."""
    return BootInfo(
        vendor=p.get("chargePointVendor"), model=p.get("chargePointModel"),
        serial_number=p.get("chargePointSerialNumber"),
        charge_box_serial_number=p.get("chargeBoxSerialNumber"),
        firmware_version=p.get("firmwareVersion"), iccid=p.get("iccid"), imsi=p.get("imsi"),
        meter_type=p.get("meterType"), meter_serial_number=p.get("meterSerialNumber"))


def boot_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    status = ctx.writer.run(stations.record_boot, ctx.charger_id, boot_info(p), now,
                            ctx.heartbeat_interval)
    ctx.registration = status.lower()
    ctx.events.publish("boot", ctx.identity, status=status, vendor=p.get("chargePointVendor"),
                       model=p.get("chargePointModel"))
    return {"status": status, "currentTime": iso(now), "interval": ctx.heartbeat_interval}


def heartbeat(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    # Last-seen times are coalesced: a Heartbeat stores nothing else.
    return {"currentTime": iso(now)}


def status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    stations.check_connector_id(p["connectorId"])
    ctx.writer.run(stations.record_status, ctx.charger_id, ConnectorStatus(
        connector_id=p["connectorId"], status=p["status"], error_code=p["errorCode"],
        info=p.get("info"), vendor_id=p.get("vendorId"),
        vendor_error_code=p.get("vendorErrorCode"),
        timestamp=parse_timestamp(p.get("timestamp"))), now)
    ctx.events.publish("status", ctx.identity, evse_id=p["connectorId"],
                       connector_id=p["connectorId"], status=p["status"], error_code=p["errorCode"])
    return {}


def id_tag_info(decision: Authorization) -> dict:
    """A domain authorization in 1.6's words: ``{status, expiryDate?, parentIdTag?}``."""
    # 1.6 has no Unknown: a token the CSMS does not know is Invalid.
    info: dict = {"status": "Invalid" if decision.status == "Unknown" else decision.status}
    if decision.expires_at is not None:
        info["expiryDate"] = iso(decision.expires_at)
    if decision.group:
        info["parentIdTag"] = decision.group
    return info


def authorize(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    decision = ctx.writer.run(authorization.authorize, Token(p["idTag"]), now,
                              ctx.unknown_tag_policy)
    return {"idTagInfo": id_tag_info(decision)}


def start_transaction(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    stations.check_connector_id(p["connectorId"])
    start = {
        "connector_id": p["connectorId"],
        "id_tag": p["idTag"],
        "meter_start": p["meterStart"],
        "timestamp": parse_timestamp(p["timestamp"]),
        "reservation_id": p.get("reservationId"),
    }
    result = ctx.writer.run(transactions.start_transaction, ctx.charger_id, start, now,
                            ctx.unknown_tag_policy)
    if result.refused is not None:
        raise RemoteProtocolError(errors.PROPERTY_CONSTRAINT_VIOLATION, result.refused)
    ctx.remember_transaction(result.transaction_id)
    ctx.events.publish("transaction_started", ctx.identity, transaction_id=result.transaction_id,
                       connector_id=p["connectorId"], id_tag=p["idTag"])
    return {"transactionId": result.transaction_id,
            "idTagInfo": id_tag_info(result.authorization)}


def meter_values(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    stations.check_connector_id(p["connectorId"])
    for entry in p["meterValue"]:
        parse_timestamp(entry["timestamp"])  # reject a bad time before anything is stored
    tx_id = p.get("transactionId")
    if tx_id is not None:
        ours = ctx.known_transactions.get(tx_id)
        if ours is None:
            ours = ctx.writer.run(transactions.is_charger_transaction, ctx.charger_id, tx_id)
            ctx.remember_transaction(tx_id, ours)
        if not ours:
            tx_id = None  # not this charger's: keep the values, unlinked
    rows = transactions.meter_value_rows(ctx.charger_id, p["connectorId"], tx_id,
                                         p["meterValue"])
    ctx.writer.insert(transactions.meter_values, rows)
    ctx.events.publish("meter", ctx.identity, connector_id=p["connectorId"],
                       transaction_id=p.get("transactionId"), meter_value=p["meterValue"])
    return {}


def stop_transaction(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    for entry in p.get("transactionData") or ():
        parse_timestamp(entry["timestamp"])
    stop = {
        "transaction_id": p["transactionId"],
        "meter_stop": p["meterStop"],
        "timestamp": parse_timestamp(p["timestamp"]),
        "reason": p.get("reason"),
        "id_tag": p.get("idTag"),
        "transaction_data": p.get("transactionData"),
    }
    decision = ctx.writer.run(transactions.stop_transaction, ctx.charger_id, stop, now,
                              ctx.unknown_tag_policy)
    ctx.events.publish("transaction_stopped", ctx.identity, transaction_id=p["transactionId"],
                       meter_stop=p["meterStop"])
    return {} if decision is None else {"idTagInfo": id_tag_info(decision)}


def data_transfer(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    reply = notifications.data_transfer_reply(ctx.identity, p["vendorId"], p.get("messageId"),
                                              p.get("data"))
    ctx.writer.run(notifications.record_data_transfer, ctx.charger_id, "in", p["vendorId"],
                   p.get("messageId"), p.get("data"), reply, now)
    return reply


def diagnostics_status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(notifications.record_diagnostics_status, ctx.charger_id, p["status"], now)
    ctx.events.publish("diagnostics_status", ctx.identity, status=p["status"])
    return {}


def firmware_status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(notifications.record_firmware_status, ctx.charger_id, p["status"], now)
    ctx.events.publish("firmware_status", ctx.identity, status=p["status"])
    return {}


HANDLERS: dict[str, Handler] = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": diagnostics_status_notification,
    "FirmwareStatusNotification": firmware_status_notification,
    "Heartbeat": heartbeat,
    "MeterValues": meter_values,
    "StartTransaction": start_transaction,
    "StatusNotification": status_notification,
    "StopTransaction": stop_transaction,
}
