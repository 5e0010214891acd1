"""The scan flow: what a card presented to the node's reader leads to, and the scan history.

- An accepted card starts a session on the node's charger and connector (``RFID_CHARGER``,
  ``RFID_CONNECTOR``) through the version-neutral ``start`` operation; the same card during
  its session stops it (``stop``).
- An unknown card is recorded as pending, for an operator to approve (an Accepted token) or
  reject (a Blocked one) in the console; ``RFID_UNKNOWN_CARDS=accept`` accepts it at once.
- A blocked or expired card, or one an operator rejected, is refused.
Every scan is a ``RfidScan`` row, whatever came of it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from ..extensions import db
from ..models import Charger, IdToken, RfidScan, Transaction, utcnow
from ..models.base import isoformat
from ..models.node import SCAN_RESULTS
from ..models.token import same_tag, tag_key
from . import operations, tokens
from .errors import DomainError

SOURCE = "rfid"
# The pending scans looked at for the approval list (the newest; older ones wait their turn).
PENDING_SCANS = 1000


class ScanError(DomainError):
    """A scan filter or an approval that cannot be done."""


def handle_scan(uid: str, config: Any) -> RfidScan:
    """Act on a (normalised, debounced) scan of ``uid`` and record it."""
    from . import node_features

    if not node_features.is_enabled(config, "rfid"):
        return _record(uid, "ignored", "the rfid feature is off on this node (the Node page "
                                       "switches it on)")
    token = db.session.execute(
        select(IdToken).where(same_tag(IdToken.id_tag, uid))).scalar_one_or_none()
    if token is None:
        if config["RFID_UNKNOWN_CARDS"] != "accept":
            return _record(uid, "pending", "unknown card: waiting for an operator's approval "
                                           "in the console")
        token = tokens.create(uid, {"note": "accepted at the RFID reader "
                                            "(RFID_UNKNOWN_CARDS=accept)"})
    refusal = _refusal(token)
    if refusal:
        return _record(uid, "refused", refusal)
    identity = config["RFID_CHARGER"]
    if not identity:
        return _record(uid, "ignored", "RFID_CHARGER is not set: no charger to start on")
    connector = config["RFID_CONNECTOR"]
    charger = db.session.execute(
        select(Charger).where(Charger.identity == identity)).scalar_one_or_none()
    running = None
    if charger is not None:
        running = db.session.execute(
            select(Transaction).where(Transaction.charger_id == charger.id,
                                      Transaction.stopped_at.is_(None),
                                      same_tag(Transaction.id_tag, uid))
            .order_by(Transaction.id.desc())).scalars().first()
    if running is not None:
        return _operate(uid, identity, running.connector_id, "stop",
                        {"transaction_id": running.id}, "stopped", running.id)
    return _operate(uid, identity, connector, "start",
                    {"token": token.id_tag, "token_type": "ISO14443",
                     "connector_id": connector}, "started", None)


def _refusal(token: IdToken) -> str | None:
    if token.status == "Blocked":
        return "card is blocked" + (f" ({token.note})" if token.note else "")
    if token.status != "Accepted":
        return f"card is {token.status}"
    if token.expiry_date is not None and token.expiry_date <= utcnow():
        return f"card expired at {isoformat(token.expiry_date)}"
    return None


def _operate(uid: str, identity: str, connector: int | None, name: str, args: dict[str, Any],
             result: str, transaction_id: int | None) -> RfidScan:
    try:
        command = operations.run(identity, name, args, requested_by=SOURCE, source=SOURCE)
    except DomainError as exc:
        db.session.rollback()
        return _record(uid, "failed", f"{name}: {exc.message}", identity, connector,
                       transaction_id=transaction_id)
    reply = command.response if isinstance(command.response, dict) else {}
    if command.status == "completed" and reply.get("status") == "Accepted":
        detail = (f"session stopped (transaction {transaction_id})" if name == "stop"
                  else f"session requested on {identity} connector {connector}")
        return _record(uid, result, detail, identity, connector, command.id, transaction_id)
    why = reply.get("status") or command.error_code or command.status
    return _record(uid, "failed", f"{name}: the charger answered {why}", identity, connector,
                   command.id, transaction_id)


def _record(uid: str, result: str, detail: str, charger: str | None = None,
            connector: int | None = None, command_id: int | None = None,
            transaction_id: int | None = None) -> RfidScan:
    scan = RfidScan(uid=uid, scanned_at=utcnow(), result=result, detail=detail,
                    charger=charger, connector_id=connector, command_id=command_id,
                    transaction_id=transaction_id)
    db.session.add(scan)
    db.session.commit()
    return scan


def query(*, uid: str | None = None, result: str | None = None) -> Select:
    stmt = select(RfidScan).order_by(RfidScan.id.desc())
    if uid:
        stmt = stmt.where(RfidScan.uid == uid.strip().upper())
    if result:
        if result not in SCAN_RESULTS:
            raise ScanError(f"result must be one of {', '.join(SCAN_RESULTS)}")
        stmt = stmt.where(RfidScan.result == result)
    return stmt


def pending() -> list[dict[str, Any]]:
    """Cards waiting for approval: pending scans of UIDs that still have no token, one per
    card (its latest scan) with how many times it was presented."""
    rows = db.session.execute(query(result="pending").limit(PENDING_SCANS)).scalars().all()
    known = {key for key in db.session.execute(select(IdToken.id_tag_key)).scalars()}
    cards: dict[str, dict[str, Any]] = {}
    for scan in rows:
        if tag_key(scan.uid) in known:
            continue
        card = cards.setdefault(scan.uid, {"uid": scan.uid, "last_scanned_at":
                                           isoformat(scan.scanned_at), "scans": 0})
        card["scans"] += 1
    return list(cards.values())


def decide(uid: str, approve: bool, user: str) -> IdToken:
    """An operator's answer to a pending card: an Accepted token, or a Blocked one."""
    if uid not in {card["uid"] for card in pending()}:
        raise ScanError(f"card {uid!r} is not waiting for approval", 404)
    word = "approved" if approve else "rejected"
    return tokens.create(uid, {"status": "Accepted" if approve else "Blocked",
                               "type": "ISO14443",
                               "note": f"{word} at the RFID reader by {user}"})


def to_dict(scan: RfidScan) -> dict[str, Any]:
    return {"id": scan.id, "uid": scan.uid, "scanned_at": isoformat(scan.scanned_at),
            "result": scan.result, "detail": scan.detail, "charger": scan.charger,
            "connector_id": scan.connector_id, "command_id": scan.command_id,
            "transaction_id": scan.transaction_id}
