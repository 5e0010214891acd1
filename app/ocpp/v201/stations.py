"""OCPP 2.0.1 (and 2.1) station handlers: BootNotification, StatusNotification, Authorize.

They turn the 2.x payloads into the domain's ``BootInfo``, ``ConnectorStatus`` and ``Token``,
store through the same services as 1.6, and word the answers in 2.x terms (a token the CSMS
does not know is Unknown here, Invalid in 1.6).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...services import authorization, stations
from ...services.time import iso, parse_timestamp
from ...services.values import BootInfo, ConnectorStatus
from ..context import ChargerContext
from . import tokens

Handler = Callable[[ChargerContext, dict[str, Any], datetime], dict[str, Any]]


def boot_info(p: dict) -> BootInfo:
    """A 2.x BootNotification as the domain's BootInfo, with its reason."""
    station = p["chargingStation"]
    modem = station.get("modem") or {}
    return BootInfo(vendor=station.get("vendorName"), model=station.get("model"),
                    serial_number=station.get("serialNumber"),
                    firmware_version=station.get("firmwareVersion"),
                    iccid=modem.get("iccid"), imsi=modem.get("imsi"), reason=p.get("reason"))


def boot_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    boot = boot_info(p)
    status = ctx.writer.run(stations.record_boot, ctx.charger_id, boot, now,
                            ctx.heartbeat_interval, True)
    ctx.registration = status.lower()
    ctx.events.publish("boot", ctx.identity, status=status, vendor=boot.vendor, model=boot.model,
                       reason=boot.reason)
    # As in 1.6: for Pending/Rejected the interval is the delay before the next boot.
    return {"currentTime": iso(now), "interval": ctx.heartbeat_interval, "status": status}


def status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    status = ConnectorStatus(connector_id=p["connectorId"], evse_id=p["evseId"],
                             status=p["connectorStatus"],
                             timestamp=parse_timestamp(p["timestamp"]))
    # Checked before the writer: a bad id is refused without waiting for a commit.
    stations.check_connector_id(status.connector_id)
    stations.check_connector_id(status.evse_id, "evseId")
    ctx.writer.run(stations.record_status, ctx.charger_id, status, now)
    ctx.events.publish("status", ctx.identity, evse_id=status.evse_id,
                       connector_id=status.connector_id, status=status.status, error_code=None)
    return {}




def authorize(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    decision = ctx.writer.run(authorization.authorize, tokens.token(p["idToken"]), now,
                              ctx.unknown_tag_policy)
    return {"idTokenInfo": tokens.id_token_info(decision)}


HANDLERS: dict[str, Handler] = {
    "Authorize": authorize,
    "BootNotification": boot_notification,
    "StatusNotification": status_notification,
}
