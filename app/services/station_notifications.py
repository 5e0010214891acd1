"""What 2.x stations notify on their own, stored as the domain sees it: device events
(NotifyEvent), reservation updates, external charging limits, reported charging profiles,
customer information, display messages, and the notifications kept as sent.

Every function runs inside the caller's transaction (the group writer), so a handler replies
only once its data is committed. Retries are stored once: each table has the natural key of
what it records, and a repeat is ignored or replaces the earlier copy.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from ..models import (
    ChargerEvent,
    ChargingLimit,
    CustomerInformation,
    DisplayMessage,
    ReportedChargingProfile,
    ReportedDisplayMessage,
    Reservation,
    StationReport,
)
from ..models.base import isoformat
from .sql import fit_strings, upsert
from .values import (
    ChargingLimitValue,
    DisplayMessageValue,
    EventBatch,
    ReportedProfile,
)

charger_events = ChargerEvent.__table__
charging_limits = ChargingLimit.__table__
reported_profiles = ReportedChargingProfile.__table__
customer_information = CustomerInformation.__table__
reported_display_messages = ReportedDisplayMessage.__table__
shown_display_messages = DisplayMessage.__table__
station_reports = StationReport.__table__
reservations = Reservation.__table__

# What a reservation becomes when its station reports it Expired or Removed.
RESERVATION_UPDATES = {"Expired": "expired", "Removed": "removed"}


def _insert_new(conn: Connection, table: Table, rows: list[dict], keys: list[str]) -> int:
    """INSERT the rows whose key is not stored yet (ON CONFLICT DO NOTHING); how many were."""
    if not rows:
        return 0
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stored = 0
    for row in rows:
        result = conn.execute(insert_(table).values(**row)
                              .on_conflict_do_nothing(index_elements=keys))
        stored += result.rowcount or 0
    return stored


# Device events -----------------------------------------------------------------------------

def record_events(conn: Connection, charger_id: int, batch: EventBatch, now: datetime) -> int:
    """Store each event of ``batch`` once (key: charger, event id, time); how many were new."""
    rows = [fit_strings(charger_events, {
        "charger_id": charger_id, "event_id": e.event_id, "timestamp": e.timestamp,
        "trigger": e.trigger, "cause": e.cause, "actual_value": e.actual_value,
        "tech_code": e.tech_code, "tech_info": e.tech_info, "cleared": e.cleared,
        "transaction_id": e.charger_transaction_id, "variable_monitoring_id": e.monitor_id,
        "event_notification_type": e.notification_type, "component_name": e.component,
        "component_instance": e.component_instance, "evse_id": e.evse_id,
        "connector_id": e.connector_id, "variable_name": e.variable,
        "variable_instance": e.variable_instance, "problem": e.problem,
        "generated_at": batch.generated_at, "seq_no": batch.seq_no, "received_at": now,
    }) for e in batch.events]
    return _insert_new(conn, charger_events, rows, ["charger_id", "event_id", "timestamp"])


def events_query(charger_id: int, problem: bool | None = None) -> Select:
    """A charger's device events, newest first; ``problem`` keeps only faults (or non-faults)."""
    stmt = select(ChargerEvent).where(ChargerEvent.charger_id == charger_id)
    if problem is not None:
        stmt = stmt.where(ChargerEvent.problem == problem)
    return stmt.order_by(ChargerEvent.timestamp.desc(), ChargerEvent.id.desc())


def event_to_dict(e: ChargerEvent) -> dict[str, Any]:
    return {
        "id": e.id, "event_id": e.event_id, "timestamp": isoformat(e.timestamp),
        "trigger": e.trigger, "cause": e.cause, "actual_value": e.actual_value,
        "notification_type": e.event_notification_type, "component": e.component_name,
        "component_instance": e.component_instance, "evse_id": e.evse_id,
        "connector_id": e.connector_id, "variable": e.variable_name,
        "variable_instance": e.variable_instance, "cleared": e.cleared,
        "problem": e.problem, "tech_code": e.tech_code, "tech_info": e.tech_info,
        "charger_transaction_id": e.transaction_id,
        "variable_monitoring_id": e.variable_monitoring_id,
        "generated_at": isoformat(e.generated_at), "seq_no": e.seq_no,
        "received_at": isoformat(e.received_at),
    }


# Reservations ------------------------------------------------------------------------------

def update_reservation(conn: Connection, charger_id: int, reservation_id: int, update_: str,
                       now: datetime) -> bool:
    """Mark the charger's reservation expired or removed; False if it has no such one."""
    status = RESERVATION_UPDATES.get(update_, update_.lower())
    result = conn.execute(update(reservations).where(
        reservations.c.id == reservation_id, reservations.c.charger_id == charger_id)
        .values(status=status, updated_at=now))
    return bool(result.rowcount)


# Charging limits ---------------------------------------------------------------------------

def record_charging_limit(conn: Connection, charger_id: int, limit: ChargingLimitValue,
                          now: datetime) -> None:
    """The limit now in force for (EVSE, source); it replaces the one reported before."""
    upsert(conn, charging_limits, fit_strings(charging_limits, {
        "charger_id": charger_id, "evse_id": limit.evse_id, "source": limit.source,
        "is_grid_critical": limit.grid_critical, "is_local_generation": limit.local_generation,
        "schedules": list(limit.schedules), "reported_at": now, "cleared_at": None,
    }), ["charger_id", "evse_id", "source"])


def clear_charging_limit(conn: Connection, charger_id: int, source: str,
                         evse_id: int | None, now: datetime) -> None:
    """The limit of ``source`` is gone: on ``evse_id``, or on every EVSE when None (the
    station named none). A limit never reported is recorded as cleared, so it is known."""
    table = charging_limits
    stmt = update(table).where(table.c.charger_id == charger_id, table.c.source == source,
                               table.c.cleared_at.is_(None))
    if evse_id is not None:
        stmt = stmt.where(table.c.evse_id == evse_id)
    if conn.execute(stmt.values(cleared_at=now)).rowcount == 0 and evse_id is not None:
        upsert(conn, table, fit_strings(table, {
            "charger_id": charger_id, "evse_id": evse_id, "source": source,
            "schedules": [], "reported_at": now, "cleared_at": now,
        }), ["charger_id", "evse_id", "source"])


# Reported charging profiles ----------------------------------------------------------------

def record_profiles(conn: Connection, charger_id: int, request_id: int, source: str,
                    evse_id: int, profiles: tuple[ReportedProfile, ...], tbc: bool,
                    now: datetime) -> None:
    """The profiles a GetChargingProfiles (``request_id``) found; a repeat replaces them."""
    for p in profiles:
        upsert(conn, reported_profiles, fit_strings(reported_profiles, {
            "charger_id": charger_id, "request_id": request_id, "source": source,
            "evse_id": evse_id, "profile_id": p.profile_id, "profile": p.profile,
            "tbc": tbc, "received_at": now,
        }), ["charger_id", "request_id", "source", "evse_id", "profile_id"])


# Customer information ----------------------------------------------------------------------

def record_customer_information(conn: Connection, charger_id: int, request_id: int,
                                seq_no: int, generated_at: datetime, data: str, tbc: bool,
                                now: datetime) -> None:
    """One part (``seq_no``) of the answer to CustomerInformation ``request_id``."""
    upsert(conn, customer_information, fit_strings(customer_information, {
        "charger_id": charger_id, "request_id": request_id, "seq_no": seq_no,
        "generated_at": generated_at, "data": data, "tbc": tbc, "received_at": now,
    }), ["charger_id", "request_id", "seq_no"])


def customer_information_text(conn: Connection, charger_id: int, request_id: int) -> str:
    """The parts received so far, joined in order."""
    t = customer_information
    return "".join(conn.execute(select(t.c.data).where(
        t.c.charger_id == charger_id, t.c.request_id == request_id).order_by(t.c.seq_no)
    ).scalars())


# Display messages --------------------------------------------------------------------------

def record_display_messages(conn: Connection, charger_id: int, request_id: int,
                            messages: tuple[DisplayMessageValue, ...], tbc: bool,
                            now: datetime) -> None:
    """The messages a GetDisplayMessages (``request_id``) found; a repeat replaces them. Each
    is on the station now, so it is also one of the charger's display messages."""
    for m in messages:
        upsert(conn, reported_display_messages, fit_strings(reported_display_messages, {
            "charger_id": charger_id, "request_id": request_id, "message_id": m.message_id,
            "priority": m.priority, "state": m.state, "info": m.info, "tbc": tbc,
            "received_at": now,
        }), ["charger_id", "request_id", "message_id"])
        upsert(conn, shown_display_messages, fit_strings(shown_display_messages, {
            "charger_id": charger_id, "message_id": m.message_id, "priority": m.priority,
            "state": m.state, "transaction_id": m.transaction_id, "info": m.info,
            "source": "station", "updated_at": now, "cleared_at": None,
        }), ["charger_id", "message_id"])


def display_messages_query(charger_id: int, cleared: bool = False) -> Select:
    """The charger's display messages, newest change first; cleared ones only when asked."""
    stmt = select(DisplayMessage).where(DisplayMessage.charger_id == charger_id)
    if not cleared:
        stmt = stmt.where(DisplayMessage.cleared_at.is_(None))
    return stmt.order_by(DisplayMessage.updated_at.desc(), DisplayMessage.id.desc())


def display_message_to_dict(m: DisplayMessage) -> dict[str, Any]:
    return {"message_id": m.message_id, "priority": m.priority, "state": m.state,
            "transaction_id": m.transaction_id, "message": m.info, "source": m.source,
            "last_status": m.last_status, "command_id": m.command_id,
            "updated_at": isoformat(m.updated_at), "cleared_at": isoformat(m.cleared_at)}


# Other notifications, kept as sent ---------------------------------------------------------

def record_report(conn: Connection, charger_id: int, action: str, payload: dict,
                  now: datetime, request_id: int | None = None,
                  evse_id: int | None = None) -> None:
    """Keep a notification the domain does not act on yet, whole, with its time."""
    conn.execute(insert(station_reports).values(**fit_strings(station_reports, {
        "charger_id": charger_id, "action": action, "request_id": request_id,
        "evse_id": evse_id, "payload": payload, "received_at": now,
    })))
