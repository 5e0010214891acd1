"""What chargers report about themselves: boot data, connections, connector status.

Functions taking ``conn`` run inside the group-commit writer.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from ..models import Charger, Connector, StatusNotification
from .device_model import apply_pending_values
from .errors import InvalidReport
from .sql import fit_strings, upsert
from .values import BootInfo, ConnectorStatus

chargers = Charger.__table__
connectors = Connector.__table__
status_history = StatusNotification.__table__

# A charger once reported 1,634,030,126 connectors: bound what input can make us store.
MAX_CONNECTOR_ID = 128

# BootInfo field -> chargers column (the same names but for the reason).
BOOT_COLUMNS = {**{name: name for name in BootInfo.__dataclass_fields__ if name != "reason"},
                "reason": "last_boot_reason"}

REGISTRATION_REPLY = {"accepted": "Accepted", "pending": "Pending", "rejected": "Rejected"}


def enrol(conn: Connection, identity: str, registration_status: str, now: datetime) -> int:
    """Register an unknown charger (auto-enrolment); return its id. Safe if two race."""
    insert_ = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert_(chargers).values(
        identity=identity, registration_status=registration_status, auto_enrolled=True,
        enabled=True, lenient=False, created_at=now,
    ).on_conflict_do_nothing(index_elements=["identity"]))
    return conn.execute(select(chargers.c.id).where(chargers.c.identity == identity)).scalar_one()


# Statements built once: a fleet reconnecting at once runs these thousands of times a second.
_BOOT = update(chargers).where(chargers.c.id == bindparam("cid")).values(
    last_boot_at=bindparam("now"), last_heartbeat=bindparam("now"),
    **{column: bindparam(column) for column in BOOT_COLUMNS.values()})
_REGISTRATION = select(chargers.c.registration_status).where(chargers.c.id == bindparam("cid"))
_HEARTBEAT_INTERVAL = update(chargers).where(chargers.c.id == bindparam("cid")).values(
    heartbeat_interval=bindparam("interval"))
_CONNECTED = update(chargers).where(chargers.c.id == bindparam("cid")).values(
    session_owner=bindparam("owner"), connected_at=bindparam("now"),
    ocpp_version=bindparam("version"), last_heartbeat=bindparam("now"))
# Only the owner clears: a newer connection elsewhere may already have replaced this one.
_DISCONNECTED = update(chargers).where(
    chargers.c.id == bindparam("cid"), chargers.c.session_owner == bindparam("owner")
).values(session_owner=None, disconnected_at=bindparam("now"))


def record_boot(conn: Connection, charger_id: int, boot: BootInfo, now: datetime,
                heartbeat_interval: int | None = None, has_device_model: bool = False) -> str:
    """Store the boot data; return the registration status (Accepted, Pending, Rejected).

    ``heartbeat_interval`` is the interval the reply tells the charger: it is the charger's
    heartbeat interval only when the boot is Accepted (otherwise it is a retry delay).
    ``has_device_model``: the charger has one (2.x), and the values it took for after a reboot are
    now in force, whatever the CSMS answers.
    """
    values = fit_strings(chargers, {column: getattr(boot, name)
                                    for name, column in BOOT_COLUMNS.items()})
    conn.execute(_BOOT, {"cid": charger_id, "now": now, **values})
    if has_device_model:
        apply_pending_values(conn, charger_id, now)
    status = REGISTRATION_REPLY.get(
        conn.execute(_REGISTRATION, {"cid": charger_id}).scalar_one(), "Rejected")
    if status == "Accepted" and heartbeat_interval is not None:
        conn.execute(_HEARTBEAT_INTERVAL, {"cid": charger_id, "interval": heartbeat_interval})
    return status


# Stored in an INTEGER column: a charger reporting HeartbeatInterval=1e20 must not break it.
MAX_HEARTBEAT_INTERVAL = 2**31 - 1


def parse_heartbeat_interval(value: Any) -> int | None:
    """A reported HeartbeatInterval as seconds, or None when it is not a usable number."""
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds <= MAX_HEARTBEAT_INTERVAL else None


def record_connected(conn: Connection, charger_id: int, owner: str, version: str,
                     now: datetime) -> None:
    conn.execute(_CONNECTED, {"cid": charger_id, "owner": owner, "version": version,
                              "now": now})


def record_disconnected(conn: Connection, charger_id: int, owner: str, now: datetime) -> None:
    conn.execute(_DISCONNECTED, {"cid": charger_id, "owner": owner, "now": now})


def check_connector_id(connector_id: int, field: str = "connectorId") -> None:
    """Raise InvalidReport for a connector (or EVSE) id no charger has."""
    if not 0 <= connector_id <= MAX_CONNECTOR_ID:
        raise InvalidReport(f"{field} {connector_id} is outside 0..{MAX_CONNECTOR_ID}")


# Statuses that tell what availability a connector actually has (1.6 and 2.x words).
_OPERATIVE = ("Available", "Preparing", "Charging", "Faulted", "Occupied")


def record_status(conn: Connection, charger_id: int, status: ConnectorStatus,
                  now: datetime) -> None:
    """Append to the status history and update the connector's latest state.

    A 1.6 status (``evse_id`` None) is stored with evse_id = connector_id: each 1.6 connector
    is its own EVSE. Raises InvalidReport for an id out of range.
    """
    check_connector_id(status.connector_id)
    evse_id = status.connector_id if status.evse_id is None else status.evse_id
    check_connector_id(evse_id, "evseId")
    row = fit_strings(status_history, {**asdict(status), "evse_id": evse_id})
    conn.execute(insert(status_history), [{**row, "charger_id": charger_id, "received_at": now}])
    values = {
        "charger_id": charger_id,
        "evse_id": evse_id,
        "connector_id": row["connector_id"],
        "status": row["status"],
        "error_code": row["error_code"],
        "info": row.get("info"),
        "vendor_id": row.get("vendor_id"),
        "vendor_error_code": row.get("vendor_error_code"),
        "status_timestamp": row.get("timestamp") or now,
        "updated_at": now,
    }
    if row["status"] == "Unavailable" or row["status"] in _OPERATIVE:
        # The connector's state tells us what availability it actually has now.
        values["availability"] = "Inoperative" if row["status"] == "Unavailable" else "Operative"
    upsert(conn, connectors, values, ["charger_id", "evse_id", "connector_id"])
