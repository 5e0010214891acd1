"""Reading transactions and their meter values (the console and the API); read-only.

``transactions`` is the charger-side writer; this module only queries what it stored.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from ..extensions import db
from ..models import Charger, MeterValue, Transaction
from ..models.base import isoformat
from ..models.token import same_tag
from .errors import DomainError

STATES = ("active", "stopped")
POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"
CHUNK = 500  # ids per IN list: well under SQLite's bound-parameter limit


class QueryError(DomainError):
    """A filter that cannot be applied as given (the message says why)."""


def query(*, charger_id: int | None = None, state: str | None = None,
          since: datetime | None = None, until: datetime | None = None,
          id_tag: str | None = None) -> Select:
    """Transactions matching the filters, newest first; ``since``/``until`` bound started_at."""
    stmt = select(Transaction)
    if charger_id is not None:
        stmt = stmt.where(Transaction.charger_id == charger_id)
    if state is not None:
        if state not in STATES:
            raise QueryError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        stmt = stmt.where(Transaction.stopped_at.is_(None) if state == "active"
                          else Transaction.stopped_at.is_not(None))
    if since is not None:
        stmt = stmt.where(Transaction.started_at >= since)
    if until is not None:
        stmt = stmt.where(Transaction.started_at < until)
    if id_tag:
        stmt = stmt.where(same_tag(Transaction.id_tag, id_tag))
    # Unmatched stops have no start time: order them by when we recorded them.
    return stmt.order_by(Transaction.started_at.desc().nulls_last(), Transaction.id.desc())


def get(transaction_id: int) -> Transaction | None:
    return db.session.get(Transaction, transaction_id)


def meter_values(transaction_id: int) -> list[MeterValue]:
    return list(db.session.execute(
        select(MeterValue).where(MeterValue.transaction_id == transaction_id)
        .order_by(MeterValue.timestamp, MeterValue.id)).scalars())


def latest_readings(transaction_ids: list[int], measurands: tuple[str, ...] = (POWER, ENERGY)
                    ) -> dict[tuple[int, str], float]:
    """The newest reading of each measurand of each transaction, in one query per chunk.

    Phase totals win over per-phase values at the same time (a window function, which SQLite
    and PostgreSQL both have).
    """
    found: dict[tuple[int, str], float] = {}
    for i in range(0, len(transaction_ids), CHUNK):
        ids = transaction_ids[i:i + CHUNK]
        rank = func.row_number().over(
            partition_by=(MeterValue.transaction_id, MeterValue.measurand),
            order_by=(MeterValue.timestamp.desc(), MeterValue.phase.is_not(None),
                      MeterValue.id.desc())).label("rank")
        inner = (select(MeterValue.transaction_id, MeterValue.measurand, MeterValue.value, rank)
                 .where(MeterValue.transaction_id.in_(ids),
                        MeterValue.measurand.in_(measurands),
                        MeterValue.value.is_not(None)).subquery())
        for tx_id, measurand, value in db.session.execute(
                select(inner.c.transaction_id, inner.c.measurand, inner.c.value)
                .where(inner.c.rank == 1)):
            found[(tx_id, measurand)] = value
    return found


def delivered_wh(meter_start: int | None, register: float | None) -> float | None:
    """Energy delivered since the start by a register reading; never negative (a meter that
    went backwards or was replaced delivers nothing, it does not take energy back)."""
    if meter_start is None or register is None:
        return None
    return max(0.0, register - meter_start)


def is_running(tx: Transaction) -> bool:
    return tx.stopped_at is None and not tx.unmatched_stop


def energy_so_far(txs: Iterable[Transaction],
                  latest: dict[tuple[int, str], float] | None = None) -> dict[int, float]:
    """Energy delivered so far by the running ones of ``txs`` (newest
    Energy.Active.Import.Register reading minus meter_start), by transaction id; those with no
    reading yet are left out. ``latest``: readings already fetched (``latest_readings``).

    The dashboard, the API and the console all show a running transaction's energy from here.
    """
    running = [tx for tx in txs if is_running(tx) and tx.meter_start is not None]
    if latest is None:
        latest = latest_readings([tx.id for tx in running], (ENERGY,)) if running else {}
    found = {}
    for tx in running:
        energy = delivered_wh(tx.meter_start, latest.get((tx.id, ENERGY)))
        if energy is not None:
            found[tx.id] = energy
    return found


def _identity(charger_id: int) -> str | None:
    # session.get hits the identity map after the first row of a charger.
    charger = db.session.get(Charger, charger_id)
    return charger.identity if charger else None


def to_dict(tx: Transaction, so_far: dict[int, float] | None = None) -> dict[str, Any]:
    """The API's representation; ``so_far`` from ``energy_so_far`` for a page of them."""
    if so_far is None and is_running(tx):
        so_far = energy_so_far([tx])
    return {
        "id": tx.id,
        "charger": _identity(tx.charger_id),
        "connector_id": tx.connector_id,
        "id_tag": tx.id_tag,
        "meter_start": tx.meter_start,
        "meter_stop": tx.meter_stop,
        "energy_wh": tx.energy_wh,
        "energy_so_far_wh": (so_far or {}).get(tx.id) if is_running(tx) else None,
        "meter_anomaly": tx.meter_anomaly,
        "started_at": isoformat(tx.started_at),
        "stopped_at": isoformat(tx.stopped_at),
        "stop_reason": tx.stop_reason,
        "state": tx.state,
        "unmatched_stop": tx.unmatched_stop,
        "reported_transaction_id": tx.reported_transaction_id,
        "reservation_id": tx.reservation_id,
        "closed_by": tx.closed_by,
        # OCPP 2.x (null for 1.6): the charger's own id, its EVSE, the stoppedReason as sent
        # and the remoteStartId of the RequestStartTransaction that led to it.
        "charger_transaction_id": tx.charger_transaction_id,
        "evse_id": tx.evse_id,
        "stopped_reason": tx.stopped_reason,
        "remote_start_id": tx.remote_start_id,
    }


def meter_value_to_dict(mv: MeterValue) -> dict[str, Any]:
    return {
        "timestamp": isoformat(mv.timestamp),
        "measurand": mv.measurand,
        "value": mv.value,
        "unit": mv.unit,
        "phase": mv.phase,
        "context": mv.context,
        "location": mv.location,
        "raw_value": mv.raw_value,
        "raw_unit": mv.raw_unit,
    }


def to_dicts(txs: Iterable[Transaction]) -> list[dict[str, Any]]:
    """``to_dict`` of several, with their energy so far in one query."""
    txs = list(txs)
    so_far = energy_so_far(txs)
    return [to_dict(tx, so_far) for tx in txs]


def to_detail(tx: Transaction) -> dict[str, Any]:
    return {**to_dict(tx), "meter_values": [meter_value_to_dict(mv)
                                            for mv in meter_values(tx.id)]}
