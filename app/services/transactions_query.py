"""Reading transactions and their meter values (the console and the API); read-only.

``transactions`` is the charger-side writer; this module only queries what it stored.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Charger, MeterValue, Transaction
from ..models.base import isoformat
from ..models.token import same_tag

STATES = ("active", "stopped")


class QueryError(ValueError):
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


def _identity(charger_id: int) -> str | None:
    # session.get hits the identity map after the first row of a charger.
    charger = db.session.get(Charger, charger_id)
    return charger.identity if charger else None


def to_dict(tx: Transaction) -> dict[str, Any]:
    return {
        "id": tx.id,
        "charger": _identity(tx.charger_id),
        "connector_id": tx.connector_id,
        "id_tag": tx.id_tag,
        "meter_start": tx.meter_start,
        "meter_stop": tx.meter_stop,
        "energy_wh": tx.energy_wh,
        "meter_anomaly": tx.meter_anomaly,
        "started_at": isoformat(tx.started_at),
        "stopped_at": isoformat(tx.stopped_at),
        "stop_reason": tx.stop_reason,
        "state": tx.state,
        "unmatched_stop": tx.unmatched_stop,
        "reported_transaction_id": tx.reported_transaction_id,
        "reservation_id": tx.reservation_id,
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


def to_detail(tx: Transaction) -> dict[str, Any]:
    return {**to_dict(tx), "meter_values": [meter_value_to_dict(mv)
                                            for mv in meter_values(tx.id)]}
