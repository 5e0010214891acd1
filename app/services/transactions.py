"""Charging sessions as chargers report them: start, meter values, stop.

Every function runs inside the group-commit writer; the charger is answered after the commit.
Retries after a lost reply are recognised, never counted twice, and offline replays with unknown
transaction ids are kept.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from ..models import Command, ConfigurationKey, MeterValue, Reservation, Transaction
from ..models.token import tag_key
from ..storage.bulk import insert_rows
from .authorization import authorize
from .metering import sampled_rows
from .sql import fit_strings
from .stations import MAX_CONNECTOR_ID
from .values import Authorization, Token

transactions = Transaction.__table__
meter_values = MeterValue.__table__
reservations = Reservation.__table__
commands = Command.__table__
configuration = ConfigurationKey.__table__

# Our ids (transactions, reservations) are Integer: 32 bits on PostgreSQL, where comparing
# with a larger number fails. A charger's id beyond that is not one of ours.
OUR_ID_MAX = 2**31 - 1


def _may_be_ours(record_id: int | None) -> bool:
    return record_id is not None and -OUR_ID_MAX - 1 <= record_id <= OUR_ID_MAX


# How long after an accepted RemoteStartTransaction the charger's StartTransaction is linked to it.
REMOTE_START_WINDOW = timedelta(minutes=10)

# Statements built once: after a restart a whole fleet starts or resumes transactions within
# seconds, and building a statement costs more than running it.
_SELECT_RETRIED_START = select(transactions.c.id).where(
    transactions.c.charger_id == bindparam("charger_id"),
    transactions.c.connector_id == bindparam("connector_id"),
    transactions.c.id_tag == bindparam("id_tag"),
    transactions.c.started_at == bindparam("started_at"),
    transactions.c.meter_start == bindparam("meter_start"),
)
_INSERT_TRANSACTION = insert(transactions)
_SELECT_REMOTE_STARTS = select(commands.c.id, commands.c.request).where(
    commands.c.charger_id == bindparam("charger_id"),
    commands.c.action == "RemoteStartTransaction",
    commands.c.status == "completed",
    commands.c.transaction_id.is_(None),
    commands.c.created_at >= bindparam("since"),
).order_by(commands.c.id.desc())


_SELECT_CONNECTOR_COUNT = select(configuration.c.value).where(
    configuration.c.charger_id == bindparam("charger_id"),
    configuration.c.key == "NumberOfConnectors")


def connector_refusal(conn: Connection, charger_id: int, connector_id: int) -> str | None:
    """Why a transaction cannot be on ``connector_id``, or None.

    Connector 0 is the whole charger, never a transaction's; a connector beyond the charger's
    NumberOfConnectors (when it reported one) does not exist. Without it, 1..MAX_CONNECTOR_ID.
    """
    if connector_id < 1:
        return f"connectorId {connector_id}: a transaction is on a connector from 1"
    reported = conn.execute(_SELECT_CONNECTOR_COUNT, {"charger_id": charger_id}).scalar()
    try:
        count = int(reported) if reported is not None else None
    except ValueError:
        count = None
    if count is not None and 0 < count < connector_id:
        return f"connectorId {connector_id}: the charger has {count} (NumberOfConnectors)"
    if connector_id > MAX_CONNECTOR_ID:
        return f"connectorId {connector_id} is outside 1..{MAX_CONNECTOR_ID}"
    return None


@dataclass(frozen=True, slots=True)
class StartResult:
    """The transaction a start opened (or the one a retried start already opened) and the
    token's authorization; or, with ``refused``, why none can be on that connector (nothing is
    stored; the adapter answers with a CALLERROR; raising here would roll back the writer's
    whole batch)."""

    transaction_id: int | None
    authorization: Authorization | None
    refused: str | None = None


def start_transaction(conn: Connection, charger_id: int, start: dict[str, Any], now: datetime,
                      unknown_tag_policy: str) -> StartResult:
    """Record a transaction's start.

    ``start``: connector_id, id_tag, meter_start, timestamp, reservation_id.
    """
    refusal = connector_refusal(conn, charger_id, start["connector_id"])
    if refusal is not None:
        return StartResult(None, None, refusal)
    decision = authorize(conn, Token(start["id_tag"]), now, unknown_tag_policy)
    key = fit_strings(transactions, {
        "charger_id": charger_id, "connector_id": start["connector_id"],
        "id_tag": start["id_tag"], "started_at": start["timestamp"],
        "meter_start": start["meter_start"]})
    existing = conn.execute(_SELECT_RETRIED_START, key).scalar()
    if existing is not None:
        return StartResult(existing, decision)
    tx_id = conn.execute(_INSERT_TRANSACTION, {
        **key, "id_tag_status": decision.status, "reservation_id": start.get("reservation_id"),
        "created_at": now,
    }).inserted_primary_key[0]
    if _may_be_ours(start.get("reservation_id")):
        conn.execute(update(reservations)
                     .where(reservations.c.id == start["reservation_id"],
                            reservations.c.charger_id == charger_id)
                     .values(status="used", transaction_id=tx_id, updated_at=now))
    _link_remote_start(conn, charger_id, key["id_tag"], tx_id, now)
    return StartResult(tx_id, decision)


def _link_remote_start(conn: Connection, charger_id: int, id_tag: str, tx_id: int,
                       now: datetime) -> None:
    candidates = conn.execute(_SELECT_REMOTE_STARTS, {
        "charger_id": charger_id, "since": now - REMOTE_START_WINDOW}).all()
    for command_id, request in candidates:
        if tag_key(str((request or {}).get("idTag", ""))) == tag_key(id_tag):  # CiString
            conn.execute(update(commands).where(commands.c.id == command_id)
                         .values(transaction_id=tx_id))
            return


# Built once: on the per-message path, building a statement costs more than running it.
_SELECT_KNOWN = select(
    transactions.c.id, transactions.c.meter_start, transactions.c.stopped_at,
    transactions.c.closed_by,
).where(transactions.c.id == bindparam("tx_id"),
        transactions.c.charger_id == bindparam("charger_id"))


def _known_transaction(conn: Connection, charger_id: int, tx_id: int | None):
    if not _may_be_ours(tx_id):
        return None
    return conn.execute(_SELECT_KNOWN, {"tx_id": tx_id, "charger_id": charger_id}).first()


def is_charger_transaction(conn: Connection, charger_id: int, tx_id: int) -> bool:
    """Whether ``tx_id`` is one of this charger's transactions (meter values link to it)."""
    return _known_transaction(conn, charger_id, tx_id) is not None


def meter_value_rows(charger_id: int, connector_id: int, tx_id: int | None,
                     entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a MeterValues stores; ``tx_id`` only when it is the charger's transaction."""
    return sampled_rows(entries, charger_id=charger_id, connector_id=connector_id,
                        transaction_id=tx_id, source="MeterValues")


def stop_transaction(conn: Connection, charger_id: int, stop: dict[str, Any], now: datetime,
                     unknown_tag_policy: str) -> Authorization | None:
    """Record a transaction's stop; return the stopping token's authorization, if one came.

    ``stop``: transaction_id, meter_stop, timestamp, reason, id_tag, transaction_data.
    """
    reply: Authorization | None = None
    if stop.get("id_tag"):
        reply = authorize(conn, Token(stop["id_tag"]), now, unknown_tag_policy)
    known = _known_transaction(conn, charger_id, stop["transaction_id"])
    if known is not None:
        if known.stopped_at is not None and known.closed_by is None:
            return reply  # a retried stop: already counted
        # Closed by an operator meanwhile: the charger's own numbers replace the estimate.
        energy, anomaly = None, False
        if known.meter_start is not None:
            energy = float(stop["meter_stop"] - known.meter_start)
            if energy < 0:
                # The meter went backwards (a replaced meter, a reset, a bug): keep the
                # charger's numbers, flag the transaction, count no energy.
                energy, anomaly = None, True
        conn.execute(update(transactions).where(transactions.c.id == known.id).values(
            **fit_strings(transactions, {
                "meter_stop": stop["meter_stop"], "stopped_at": stop["timestamp"],
                "stop_reason": stop.get("reason") or "Local", "stop_id_tag": stop.get("id_tag"),
                "energy_wh": energy, "meter_anomaly": anomaly, "closed_by": None})))
        tx_id = known.id
    else:
        tx_id = _record_unmatched_stop(conn, charger_id, stop, now)
        if tx_id is None:
            return reply  # a retried unmatched stop
    rows = sampled_rows(stop.get("transaction_data") or [], charger_id=charger_id,
                        connector_id=0, transaction_id=tx_id, source="StopTransaction")
    if rows:
        insert_rows(conn, meter_values, rows)
    return reply


def _record_unmatched_stop(conn: Connection, charger_id: int, stop: dict[str, Any],
                           now: datetime) -> int | None:
    """Keep a stop for a transaction we never saw (-1, or lost in an offline replay)."""
    stop = fit_strings(transactions, {**stop, "stop_reason": stop.get("reason") or "Local",
                                       "stop_id_tag": stop.get("id_tag")})
    duplicate = conn.execute(select(transactions.c.id).where(and_(
        transactions.c.charger_id == charger_id,
        transactions.c.unmatched_stop.is_(True),
        transactions.c.reported_transaction_id == stop["transaction_id"],
        transactions.c.stopped_at == stop["timestamp"],
        transactions.c.meter_stop == stop["meter_stop"],
    ))).scalar()
    if duplicate is not None:
        return None
    return conn.execute(insert(transactions).values(
        charger_id=charger_id, unmatched_stop=True,
        reported_transaction_id=stop["transaction_id"], meter_stop=stop["meter_stop"],
        stopped_at=stop["timestamp"], stop_reason=stop["stop_reason"],
        stop_id_tag=stop["stop_id_tag"], id_tag=stop["stop_id_tag"], created_at=now,
    )).inserted_primary_key[0]
