"""OCPP 2.0.1 (and 2.1) station notifications: security events, device events (NotifyEvent),
firmware, log and publish-firmware progress, DataTransfer, reservation updates, charging
limits, reported charging profiles, customer information, display messages, monitoring
reports and EV charging needs and schedules.

Each handler turns the validated payload into domain values, stores them through the group
writer (committed before the reply), publishes a live event where the console shows one, and
answers per the version's response schema (most are empty).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...services import notifications, security_events, station_notifications
from ...services.time import parse_timestamp
from ...services.values import (
    ChargingLimitValue,
    DeviceEvent,
    DisplayMessageValue,
    EventBatch,
    ReportedProfile,
    SecurityEventValue,
)
from ..context import ChargerContext

Handler = Callable[[ChargerContext, dict[str, Any], datetime], dict[str, Any]]


def _request_id_of(request: dict[str, Any]) -> Any:
    # The requestId an UpdateFirmware or GetLog we sent carried (2.x wire name).
    return request.get("requestId")


def security_event_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    event = SecurityEventValue(p["type"], parse_timestamp(p["timestamp"]), p.get("techInfo"))
    event_id = ctx.writer.run(security_events.record, ctx.charger_id, event, now)
    ctx.events.publish("security_event", ctx.identity, id=event_id, type=event.type,
                       timestamp=p["timestamp"], tech_info=event.tech_info)
    return {}


def _device_event(e: dict) -> DeviceEvent:
    component, variable = e["component"], e["variable"]
    evse = component.get("evse") or {}
    return DeviceEvent(
        event_id=e["eventId"], timestamp=parse_timestamp(e["timestamp"], "eventData.timestamp"),
        trigger=e["trigger"], actual_value=e["actualValue"],
        notification_type=e["eventNotificationType"], component=component["name"],
        variable=variable["name"], component_instance=component.get("instance"),
        evse_id=evse.get("id"), connector_id=evse.get("connectorId"),
        variable_instance=variable.get("instance"), cause=e.get("cause"),
        tech_code=e.get("techCode"), tech_info=e.get("techInfo"),
        cleared=bool(e.get("cleared", False)), charger_transaction_id=e.get("transactionId"),
        monitor_id=e.get("variableMonitoringId"))


def notify_event(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    # Every time is checked before anything is stored: one bad event refuses the message.
    batch = EventBatch(parse_timestamp(p["generatedAt"], "generatedAt"), p["seqNo"],
                       tuple(_device_event(e) for e in p["eventData"]), bool(p.get("tbc")))
    ctx.writer.run(station_notifications.record_events, ctx.charger_id, batch, now)
    for e in batch.events:
        ctx.events.publish("charger_event", ctx.identity, event_id=e.event_id,
                           component=e.component, variable=e.variable,
                           actual_value=e.actual_value, evse_id=e.evse_id, problem=e.problem,
                           cleared=e.cleared)
    return {}


def firmware_status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(notifications.record_firmware_status, ctx.charger_id, p["status"], now,
                   p.get("requestId"), _request_id_of)
    ctx.events.publish("firmware_status", ctx.identity, status=p["status"],
                       request_id=p.get("requestId"))
    return {}


def log_status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(notifications.record_diagnostics_status, ctx.charger_id, p["status"], now,
                   p.get("requestId"), _request_id_of)
    ctx.events.publish("log_status", ctx.identity, status=p["status"],
                       request_id=p.get("requestId"))
    return {}


def publish_firmware_status_notification(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(station_notifications.record_report, ctx.charger_id,
                   "PublishFirmwareStatusNotification", p, now, p.get("requestId"))
    return {}


def data_transfer(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    reply = notifications.data_transfer_reply(ctx.identity, p["vendorId"], p.get("messageId"),
                                              p.get("data"))
    ctx.writer.run(notifications.record_data_transfer, ctx.charger_id, "in", p["vendorId"],
                   p.get("messageId"), p.get("data"), reply, now)
    # A registered handler answers in 1.6's words ({status, data?}): the same in 2.x.
    return {k: v for k, v in reply.items() if k in ("status", "data")}


def reservation_status_update(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(station_notifications.update_reservation, ctx.charger_id,
                   p["reservationId"], p["reservationUpdateStatus"], now)
    ctx.events.publish("reservation", ctx.identity, reservation_id=p["reservationId"],
                       status=p["reservationUpdateStatus"])
    return {}


def notify_charging_limit(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    limit = p["chargingLimit"]
    value = ChargingLimitValue(
        source=limit["chargingLimitSource"], evse_id=p.get("evseId") or 0,
        grid_critical=limit.get("isGridCritical"),
        local_generation=limit.get("isLocalGeneration"),
        schedules=tuple(p.get("chargingSchedule") or ()))
    ctx.writer.run(station_notifications.record_charging_limit, ctx.charger_id, value, now)
    return {}


def cleared_charging_limit(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(station_notifications.clear_charging_limit, ctx.charger_id,
                   p["chargingLimitSource"], p.get("evseId"), now)
    return {}


def report_charging_profiles(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    profiles = tuple(ReportedProfile(profile["id"], profile) for profile in p["chargingProfile"])
    ctx.writer.run(station_notifications.record_profiles, ctx.charger_id, p["requestId"],
                   p["chargingLimitSource"], p["evseId"], profiles, bool(p.get("tbc")), now)
    return {}


def notify_customer_information(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(station_notifications.record_customer_information, ctx.charger_id,
                   p["requestId"], p["seqNo"], parse_timestamp(p["generatedAt"], "generatedAt"),
                   p["data"], bool(p.get("tbc")), now)
    return {}


def notify_display_messages(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    messages = tuple(DisplayMessageValue(m["id"], m["priority"], m, m.get("state"),
                                         m.get("transactionId"))
                     for m in p.get("messageInfo") or ())
    ctx.writer.run(station_notifications.record_display_messages, ctx.charger_id,
                   p["requestId"], messages, bool(p.get("tbc")), now)
    return {}


def notify_monitoring_report(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    parse_timestamp(p["generatedAt"], "generatedAt")
    ctx.writer.run(station_notifications.record_report, ctx.charger_id,
                   "NotifyMonitoringReport", p, now, p["requestId"])
    return {}


def notify_ev_charging_needs(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    ctx.writer.run(station_notifications.record_report, ctx.charger_id,
                   "NotifyEVChargingNeeds", p, now, None, p["evseId"])
    # Accepted: a schedule will follow (from smart charging, when there is one); the needs
    # are stored for it. The EV goes on charging within the limits it already has.
    return {"status": "Accepted"}


def notify_ev_charging_schedule(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    parse_timestamp(p["timeBase"], "timeBase")
    ctx.writer.run(station_notifications.record_report, ctx.charger_id,
                   "NotifyEVChargingSchedule", p, now, None, p["evseId"])
    return {"status": "Accepted"}


HANDLERS: dict[str, Handler] = {
    "ClearedChargingLimit": cleared_charging_limit,
    "DataTransfer": data_transfer,
    "FirmwareStatusNotification": firmware_status_notification,
    "LogStatusNotification": log_status_notification,
    "NotifyChargingLimit": notify_charging_limit,
    "NotifyCustomerInformation": notify_customer_information,
    "NotifyDisplayMessages": notify_display_messages,
    "NotifyEVChargingNeeds": notify_ev_charging_needs,
    "NotifyEVChargingSchedule": notify_ev_charging_schedule,
    "NotifyEvent": notify_event,
    "NotifyMonitoringReport": notify_monitoring_report,
    "PublishFirmwareStatusNotification": publish_firmware_status_notification,
    "ReportChargingProfiles": report_charging_profiles,
    "ReservationStatusUpdate": reservation_status_update,
    "SecurityEventNotification": security_event_notification,
}
