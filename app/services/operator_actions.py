"""Operator actions on stored state that are not commands to a charger: taking a charger out
of service (decommission, recommission, delete for good) and closing a transaction whose
StopTransaction will never come. Each is recorded in the audit trail in the same commit.

History is kept for billing: a charger with transactions is decommissioned (hidden from lists,
disabled so that its handshake is refused, re-enabled by recommissioning), never deleted; only
a charger without transactions can be deleted, with its status history, commands and the like.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from .. import runtime
from ..extensions import db
from ..models import (
    Charger,
    DiagnosticsFile,
    DiagnosticsRequest,
    DiagnosticsStatus,
    FirmwareDeployment,
    FirmwareStatus,
    Transaction,
    utcnow,
)
from . import audit, files
from . import chargers as charger_service
from . import transactions_query as tx_query
from .errors import DomainError

log = logging.getLogger(__name__)

CLOSED_BY_OPERATOR = "ClosedByOperator"
MAX_REASON = 32  # transactions.stop_reason
# meter_start and meter_stop are INTEGER columns: 32 bits on PostgreSQL.
MAX_METER = 2**31 - 1


class ActionError(DomainError):
    """An operator action that cannot be done as asked."""


def _charger(identity: str) -> Charger:
    try:
        return charger_service.get(identity)
    except charger_service.ChargerError as exc:
        raise ActionError(exc.message, exc.status) from None


def transaction_count(charger_id: int) -> int:
    """How many transactions a charger has (a charger with any cannot be deleted)."""
    return db.session.execute(select(func.count(Transaction.id))
                              .where(Transaction.charger_id == charger_id)).scalar_one()


def decommission(identity: str, *, actor: str | None, source: str) -> Charger:
    """Take a charger out of service; its session, if any, is closed. Doing it twice is a
    no-op (and records nothing)."""
    charger = _charger(identity)
    if charger.decommissioned_at is not None:
        return charger
    running = db.session.execute(select(func.count(Transaction.id)).where(
        Transaction.charger_id == charger.id, Transaction.stopped_at.is_(None),
        Transaction.unmatched_stop.is_(False))).scalar_one()
    charger.decommissioned_at = utcnow()
    charger.enabled = False  # the handshake refuses disabled chargers
    audit.record("charger.decommissioned", actor=actor, source=source, charger=identity,
                 details={"was_connected": charger.connected, "running_transactions": running})
    db.session.commit()
    # After the commit: a reconnect attempt must already find it disabled.
    runtime.router(current_app).end_session(identity, "decommissioned")
    log.info("charger %s decommissioned by %s", identity, actor)
    return charger


def recommission(identity: str, *, actor: str | None, source: str) -> Charger:
    """Put a decommissioned charger back in service: listed, enabled, free to connect."""
    charger = _charger(identity)
    if charger.decommissioned_at is None:
        raise ActionError(f"charger {identity!r} is not decommissioned", 409)
    charger.decommissioned_at = None
    charger.enabled = True
    audit.record("charger.recommissioned", actor=actor, source=source, charger=identity)
    db.session.commit()
    return charger


def delete_charger(identity: str, *, actor: str | None, source: str) -> None:
    """Delete a charger for good, with everything stored about it (the message log stays
    until retention prunes it). Refused while it has transactions or is connected."""
    charger = _charger(identity)
    count = transaction_count(charger.id)
    if count:
        raise ActionError(
            f"charger {identity!r} has {count} transaction(s), kept for billing: decommission "
            "it instead (DELETE without purge)", 409)
    if charger.connected:
        raise ActionError(f"charger {identity!r} is connected: decommission it first (DELETE "
                          "without purge closes its session), then delete it", 409)
    cid = charger.id
    stored = [files.diagnostics_path(item) for item in db.session.execute(
        select(DiagnosticsFile).where(DiagnosticsFile.charger_id == cid)).scalars()]
    # Rows that point at each other go first, children before parents; the rest go with the
    # charger (ON DELETE CASCADE).
    for model in (DiagnosticsFile, DiagnosticsStatus, DiagnosticsRequest, FirmwareStatus,
                  FirmwareDeployment):
        db.session.execute(delete(model).where(model.charger_id == cid))
    db.session.delete(charger)
    audit.record("charger.deleted", actor=actor, source=source, charger=identity,
                 details={"vendor": charger.vendor, "model": charger.model,
                          "serial_number": charger.serial_number})
    db.session.commit()
    for path in stored:
        try:
            os.remove(path)
        except OSError:
            log.warning("could not remove diagnostics file %s", path)
    log.info("charger %s deleted by %s", identity, actor)


def _meter_stop_arg(value: Any, meter_start: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ActionError("meter_stop must be a whole number of Wh")
    if not 0 <= value <= MAX_METER:
        raise ActionError(f"meter_stop must be between 0 and {MAX_METER}")
    if meter_start is not None and value < meter_start:
        raise ActionError(f"meter_stop {value} is below the transaction's meter_start "
                          f"{meter_start}")
    return value


def _reason_arg(value: Any) -> str:
    if value is None:
        return CLOSED_BY_OPERATOR
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_REASON \
            or not value.isprintable() or value != value.strip():
        raise ActionError(f"reason must be a string of 1 to {MAX_REASON} printable characters")
    return value


def close_transaction(transaction_id: int, *, meter_stop: Any = None, reason: Any = None,
                      actor: str | None, source: str) -> Transaction:
    """Close a running transaction that will never get its StopTransaction.

    ``meter_stop`` defaults to the newest Energy.Active.Import.Register reading, when there is
    one (else the energy stays unknown); ``reason`` to ``ClosedByOperator``. Should the
    charger's StopTransaction come after all, its numbers replace these.
    """
    tx = db.session.get(Transaction, transaction_id) if transaction_id <= 2**63 - 1 else None
    if tx is None:
        raise ActionError(f"no transaction {transaction_id}", 404)
    if not tx_query.is_running(tx):
        raise ActionError(f"transaction {transaction_id} is not running", 409)
    reason = _reason_arg(reason)
    if meter_stop is not None:
        meter_stop = _meter_stop_arg(meter_stop, tx.meter_start)
        register, origin = float(meter_stop), "operator"
    else:
        register = tx_query.latest_readings([tx.id], (tx_query.ENERGY,)).get(
            (tx.id, tx_query.ENERGY))
        origin = "last reading" if register is not None else None
        if register is not None and 0 <= register <= MAX_METER:
            meter_stop = round(register)
    tx.meter_stop = meter_stop
    tx.energy_wh = tx_query.delivered_wh(tx.meter_start, register)
    tx.stopped_at = utcnow()
    tx.stop_reason = reason
    tx.closed_by = (actor or source)[:64]
    identity = db.session.get(Charger, tx.charger_id).identity
    audit.record("transaction.closed", actor=actor, source=source, charger=identity,
                 target=str(tx.id), details={"meter_stop": meter_stop, "meter_stop_from": origin,
                                             "energy_wh": tx.energy_wh, "reason": reason})
    db.session.commit()
    runtime.events(current_app).publish("transaction_stopped", identity, transaction_id=tx.id,
                                        meter_stop=meter_stop)
    return tx
