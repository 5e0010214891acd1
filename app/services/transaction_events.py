"""OCPP 2.x transactions from their events: Started, Updated, Ended, in any order, once each.

A 2.x charger reports a transaction as a series of TransactionEvents keyed by its own
transaction id (``charger_transaction_id``, unique per charger) and numbered by ``seqNo``. This
service turns each event (a domain ``TransactionEventValue``) into the same transactions and
meter_values rows the 1.6 service writes, so the API, the console and billing see one kind of
transaction. It runs inside the group-commit writer; the charger is answered after the commit.

The rules, each a bug a peer shipped:

- **Retries.** 2.0.1 retries an event with a new message id: the key of an event is (charger,
  transaction id, seqNo). A retry stores nothing twice and gets the same answer.
- **Any order.** The transaction is created by whichever event comes first; an ``Ended`` with
  no ``Started`` (discarded while offline) makes a complete transaction. Gaps in seqNo are
  legitimate and kept as they are (``transaction_events`` shows them).
- **No reopening.** After ``Ended`` (the charger's own, not an operator's close) later events
  only add their meter values and fill in what is still unknown (the token, the EVSE, the
  remoteStartId, an earlier start time); the stop, its reason and the charging state stay.
- **Tokens.** The idToken can come in ``Started`` or in a later ``Updated`` (cable first): the
  first token becomes the transaction's id tag; a different token on ``Ended`` or with
  triggerReason StopAuthorized is the stopping one. Every event with a token gets its
  authorization, which the adapter words as idTokenInfo.
- **Energy** comes from the Energy.Active.Import.Register readings (phase totals at the outlet)
  stored with the transaction: from the Transaction.Begin reading (else the first by time) to
  the Transaction.End reading (else the last by time), in Wh. ``meter_start`` is set as soon as
  a reading is in; ``meter_stop`` and ``energy_wh`` when the transaction has ended. Events
  without an energy reading change none of them (a batch with none never resets the total).
- **Placeholder Begin.** A charger that starts offline may report a Begin reading of 0 before
  it has read its meter; the next reading is then the meter's whole odometer (a peer billed
  910 kWh for 0.083 kWh). The rule: a start reading of exactly 0 followed by a non-zero one
  that would mean more than ``MAX_PLAUSIBLE_POWER_W`` on average between the two (no charger
  delivers that) is a placeholder, and the first non-zero reading is the start. A meter that
  truly counts from 0 per transaction is not affected: its first reading is a plausible one.

``record_event`` applies the rules to any event. ``quick_rows`` is the short way for the most
frequent one, a plain Updated of a running transaction the connection already knows (``Known``,
returned by ``record_event``): its rows, without a query, for the writer to batch. A start
reading of 0 takes the short way too, once a later reading has shown it is no placeholder.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..models import Command, MeterValue, Reservation, Transaction, TransactionEvent
from ..storage.bulk import insert_rows
from .authorization import authorize
from .errors import InvalidReport
from .metering import DEFAULT_MEASURAND, sample_rows
from .sql import fit_strings
from .stations import MAX_CONNECTOR_ID
from .values import Authorization, Sample, TransactionEventValue

transactions = Transaction.__table__
events = TransactionEvent.__table__
meter_values = MeterValue.__table__
commands = Command.__table__
reservations = Reservation.__table__

EVENT_TYPES = ("Started", "Updated", "Ended")
# The charger's transactionId is a string of up to 36 characters (2.0.1 and 2.1).
MAX_CHARGER_TRANSACTION_ID = 36
# Above any charger's power (megawatt charging included): a Begin reading of 0 followed by one
# that would need more than this on average is a placeholder (see the module's docstring).
MAX_PLAUSIBLE_POWER_W = 1_000_000.0
# Ids we hand out (remoteStartId) and columns we store them in are 32-bit on PostgreSQL.
INT32_MAX = 2**31 - 1
# meter_start/meter_stop are BIGINT.
METER_MAX = 2**63 - 1
ENERGY = DEFAULT_MEASURAND
SOURCE = "TransactionEvent"


@dataclass(slots=True)
class Known:
    """What a connection may remember of one of its charger's transactions after an event, so
    that the next plain Updated takes the short way (``quick_rows``): our id, the seqNos
    stored, and the facts an event could change. ``quick`` is False once the transaction
    ended (or before its start reading is settled): every event then takes ``record_event``.
    """

    transaction_id: int
    seq_nos: set[int]  # grows in place: copying it per event would cost as the session grows
    evse_id: int | None
    connector_id: int | None
    charging_state: str | None
    started_at: datetime | None
    remote_start_id: int | None
    quick: bool

    def seen(self, seq_no: int) -> Known:
        self.seq_nos.add(seq_no)
        return self


@dataclass(frozen=True, slots=True)
class EventResult:
    """What became of one event: our transaction id, the token's authorization (when the
    event carried a token), whether it was a retry of one already stored, whether this
    event created the transaction or ended it (for the adapter's live events), and what the
    connection may remember of the transaction (``known``, not for a retry)."""

    transaction_id: int
    authorization: Authorization | None
    duplicate: bool = False
    created: bool = False
    ended: bool = False
    known: Known | None = None


def check_event(event: TransactionEventValue) -> None:
    """Raise ``InvalidReport`` for an event no transaction can have (nothing is stored).

    The adapter calls this before handing the event to the writer, so that a refusal never
    rolls back other chargers' writes; ``record_event`` checks again.
    """
    for name in ("seq_no", "evse_id", "connector_id", "remote_start_id", "reservation_id"):
        value = getattr(event, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise InvalidReport(f"{name}: {value!r} is not an integer")  # a lenient charger
    if event.event_type not in EVENT_TYPES:
        raise InvalidReport(f"eventType {event.event_type!r} is not one of "
                            + ", ".join(EVENT_TYPES))
    tx_id = event.charger_transaction_id
    if not isinstance(tx_id, str) or not 0 < len(tx_id) <= MAX_CHARGER_TRANSACTION_ID:
        raise InvalidReport(f"transactionId must be 1 to {MAX_CHARGER_TRANSACTION_ID} "
                            "characters")
    if event.seq_no < 0:
        raise InvalidReport(f"seqNo {event.seq_no} is negative")
    # EVSE 0 is the whole station: a transaction is on an EVSE from 1.
    if event.evse_id is not None and not 1 <= event.evse_id <= MAX_CONNECTOR_ID:
        raise InvalidReport(f"evse id {event.evse_id} is outside 1..{MAX_CONNECTOR_ID}")
    if event.connector_id is not None and not 1 <= event.connector_id <= MAX_CONNECTOR_ID:
        raise InvalidReport(f"connectorId {event.connector_id} is outside "
                            f"1..{MAX_CONNECTOR_ID}")
    if event.connector_id is not None and event.evse_id is None:
        raise InvalidReport("a connectorId needs its EVSE id")


# Statements built once: TransactionEvent(Updated) is as frequent as 1.6's MeterValues.
_SELECT_TX = select(
    transactions.c.id, transactions.c.stopped_at, transactions.c.closed_by,
    transactions.c.started_at, transactions.c.id_tag, transactions.c.evse_id,
    transactions.c.connector_id, transactions.c.remote_start_id, transactions.c.meter_start,
    transactions.c.reservation_id, transactions.c.charging_state, transactions.c.offline,
).where(transactions.c.charger_id == bindparam("charger_id"),
        transactions.c.charger_transaction_id == bindparam("charger_transaction_id"))
_SELECT_EVENT = select(events.c.id).where(events.c.transaction_id == bindparam("tx_id"),
                                          events.c.seq_no == bindparam("seq_no"))
_SELECT_STARTED = select(events.c.id).where(events.c.transaction_id == bindparam("tx_id"),
                                            events.c.event_type == "Started").limit(1)
_INSERT_EVENT = insert(events)
_SELECT_SEQ_NOS = select(events.c.seq_no).where(events.c.transaction_id == bindparam("tx_id"))


def record_event(conn: Connection, charger_id: int, event: TransactionEventValue,
                 now: datetime, unknown_tag_policy: str,
                 known_seq_nos: set[int] | None = None) -> EventResult:
    """Record one TransactionEvent of ``charger_id``; see the module's docstring for the rules.

    ``unknown_tag_policy``: as for ``authorization.authorize``. ``known_seq_nos``: the seqNos
    of this transaction the caller already knows are stored (from an earlier ``known``); when
    None they are read, for the ``known`` returned.
    """
    check_event(event)
    tx = conn.execute(_SELECT_TX, {"charger_id": charger_id,
                                   "charger_transaction_id": event.charger_transaction_id}
                      ).first()
    decision = (authorize(conn, event.token, now, unknown_tag_policy)
                if event.token is not None else None)
    if tx is not None and conn.execute(_SELECT_EVENT, {"tx_id": tx.id,
                                                       "seq_no": event.seq_no}).first():
        # A retry: the same decision again (authorize is idempotent), nothing stored.
        return EventResult(tx.id, decision, duplicate=True)

    remote_start_id = (event.remote_start_id if event.remote_start_id is not None
                       and -INT32_MAX - 1 <= event.remote_start_id <= INT32_MAX else None)
    token = _storable_token(event)
    ended_now = False
    if tx is None:
        tx_id, created = _create(conn, charger_id, event, token, decision, remote_start_id,
                                 now), True
        ended_now = event.event_type == "Ended"
        ended_before, meter_start, reservation_known = False, None, None
        evse_id = event.evse_id
    else:
        created = False
        tx_id = tx.id
        # An operator's close is not the charger's Ended: the charger's own still counts.
        ended_before = tx.stopped_at is not None and tx.closed_by is None
        changes = _changes(conn, tx, event, token, decision, remote_start_id, ended_before)
        if event.event_type == "Ended" and not ended_before:
            ended_now = True
            changes.update(_stop_values(event))
        if changes:
            conn.execute(update(transactions).where(transactions.c.id == tx_id)
                         .values(**fit_strings(transactions, changes)))
        meter_start, reservation_known = tx.meter_start, tx.reservation_id
        # The EVSE is often named only in the first event.
        evse_id = event.evse_id if event.evse_id is not None else tx.evse_id
        if remote_start_id is not None and tx.remote_start_id is not None:
            remote_start_id = None  # linked already

    conn.execute(_INSERT_EVENT, fit_strings(events, {
        "transaction_id": tx_id, "charger_id": charger_id, "seq_no": event.seq_no,
        "event_type": event.event_type, "trigger_reason": event.trigger_reason,
        "timestamp": event.timestamp, "offline": event.offline, "received_at": now}))

    if event.samples:
        # meter_values.connector_id holds the EVSE for 2.x rows: a 1.6 connector is what 2.x
        # calls an EVSE (each has its own meter and transactions).
        rows = sample_rows(list(event.samples), charger_id=charger_id,
                           connector_id=evse_id or 0, transaction_id=tx_id,
                           source=SOURCE)
        insert_rows(conn, meter_values, rows)
    has_energy = any((s.measurand or ENERGY) == ENERGY for s in event.samples)
    charger_ended = ended_before or ended_now
    # A start of 0 may still be a placeholder until a non-zero reading has been judged.
    start_final = meter_start is not None and meter_start != 0
    if ended_now or (has_energy and (charger_ended or not start_final or _has_begin(event))):
        settled = _settle_energy(conn, tx_id, charger_ended)
        if settled is not None:
            meter_start, start_final = settled

    if remote_start_id is not None:
        conn.execute(update(commands).where(
            commands.c.charger_id == charger_id,
            commands.c.action == "RequestStartTransaction",
            commands.c.remote_start_id == remote_start_id,
            commands.c.transaction_id.is_(None),
        ).values(transaction_id=tx_id))
    if (event.reservation_id is not None and reservation_known is None
            and -INT32_MAX - 1 <= event.reservation_id <= INT32_MAX):
        conn.execute(update(reservations).where(
            reservations.c.id == event.reservation_id,
            reservations.c.charger_id == charger_id,
        ).values(status="used", transaction_id=tx_id, updated_at=now))
    # A copy: the unit may run twice (a batch retried unit by unit) or fail.
    if created:
        seq_nos = {event.seq_no}
    elif known_seq_nos is not None:
        seq_nos = {*known_seq_nos, event.seq_no}
    else:
        seq_nos = set(conn.execute(_SELECT_SEQ_NOS, {"tx_id": tx_id}).scalars())
    if tx is None:
        now_row = {"evse_id": event.evse_id, "connector_id": event.connector_id,
                   "charging_state": event.charging_state, "started_at": event.timestamp,
                   "remote_start_id": remote_start_id, "stopped_at": None}
    else:
        now_row = {**tx._mapping, **changes}  # the transaction as it now is
    stopped = charger_ended or now_row.get("stopped_at") is not None
    known = Known(tx_id, seq_nos, now_row["evse_id"], now_row["connector_id"],
                  now_row["charging_state"], now_row["started_at"], now_row["remote_start_id"],
                  quick=not stopped and start_final)
    return EventResult(tx_id, decision, created=created, ended=ended_now, known=known)


def quick_rows(known: Known, charger_id: int, event: TransactionEventValue,
               now: datetime) -> dict | None:
    """The rows a plain Updated of a running transaction stores, without asking the database;
    None when the event needs ``record_event`` (anything it could change, a seqNo already
    seen, a transaction ended or not yet settled).

    The short way stores exactly what ``record_event`` would for such an event: its
    transaction_events row and its meter values (for ``GroupWriter.insert_many``, batched
    with other chargers' rows). A TransactionEvent(Updated) is as frequent as a 1.6
    MeterValues, and must not cost much more.
    """
    if not (known.quick and event.event_type == "Updated"
            and event.seq_no not in known.seq_nos
            and event.token is None and not event.offline and event.reservation_id is None
            and event.remote_start_id in (None, known.remote_start_id)
            and event.evse_id in (None, known.evse_id)
            and event.connector_id in (None, known.connector_id)
            and event.charging_state in (None, known.charging_state)
            and known.started_at is not None and event.timestamp is not None
            and event.timestamp >= known.started_at and not _has_begin(event)):
        return None
    check_event(event)
    return {
        events: [fit_strings(events, {
            "transaction_id": known.transaction_id, "charger_id": charger_id,
            "seq_no": event.seq_no, "event_type": event.event_type,
            "trigger_reason": event.trigger_reason, "timestamp": event.timestamp,
            "offline": False, "received_at": now})],
        meter_values: sample_rows(list(event.samples), charger_id=charger_id,
                                  connector_id=known.evse_id or 0,
                                  transaction_id=known.transaction_id, source=SOURCE),
    }


def _storable_token(event: TransactionEventValue) -> str | None:
    # A token longer than the id tag column is not stored: clipped, it would be another token.
    if event.token is None:
        return None
    value = event.token.value
    fits = isinstance(value, str) and len(value) <= transactions.c.id_tag.type.length
    return value if fits else None


def _has_begin(event: TransactionEventValue) -> bool:
    return any(s.context == "Transaction.Begin" for s in event.samples)


def _create(conn: Connection, charger_id: int, event: TransactionEventValue,
            token: str | None, decision: Authorization | None, remote_start_id: int | None,
            now: datetime) -> int:
    row = {
        "charger_id": charger_id,
        "charger_transaction_id": event.charger_transaction_id,
        "evse_id": event.evse_id,
        "connector_id": event.connector_id,
        # The first event's time, whichever it is; a Started (or an earlier event) that comes
        # later moves it back.
        "started_at": event.timestamp,
        "id_tag": token,
        "id_tag_status": decision.status if decision is not None else None,
        "remote_start_id": remote_start_id,
        "reservation_id": event.reservation_id,
        "charging_state": event.charging_state,
        "offline": event.offline,
        "unmatched_stop": False,
        "meter_anomaly": False,
        "created_at": now,
    }
    if event.event_type == "Ended":
        row.update(_stop_values(event))
        if token is not None and event.trigger_reason == "StopAuthorized":
            row["stop_id_tag"] = token
    return conn.execute(insert(transactions).values(**fit_strings(transactions, row))
                        ).inserted_primary_key[0]


def _stop_values(event: TransactionEventValue) -> dict:
    # 2.x leaves stoppedReason out only when it is Local.
    return {"stopped_at": event.timestamp, "stopped_reason": event.stopped_reason,
            "stop_reason": event.stopped_reason or "Local", "closed_by": None}


def _changes(conn: Connection, tx, event: TransactionEventValue, token: str | None,
             decision: Authorization | None, remote_start_id: int | None,
             ended_before: bool) -> dict:
    """The columns an event changes on an existing transaction (see "No reopening")."""
    changes: dict = {}
    if event.timestamp is not None and (tx.started_at is None
                                        or event.timestamp < tx.started_at):
        if event.event_type == "Started" or conn.execute(
                _SELECT_STARTED, {"tx_id": tx.id}).first() is None:
            changes["started_at"] = event.timestamp
    elif (event.event_type == "Started" and event.timestamp is not None
          and event.timestamp != tx.started_at):
        changes["started_at"] = event.timestamp  # the Started's own time is the start
    if token is not None:
        if tx.id_tag is None:
            changes["id_tag"] = token
            changes["id_tag_status"] = decision.status if decision is not None else None
        elif not ended_before and (event.event_type == "Ended"
                                   or event.trigger_reason == "StopAuthorized"):
            changes["stop_id_tag"] = token
    if event.evse_id is not None and (tx.evse_id is None or not ended_before):
        if event.evse_id != tx.evse_id:
            changes["evse_id"] = event.evse_id
        if event.connector_id is not None and event.connector_id != tx.connector_id:
            changes["connector_id"] = event.connector_id
    if remote_start_id is not None and tx.remote_start_id is None:
        changes["remote_start_id"] = remote_start_id
    if event.reservation_id is not None and tx.reservation_id is None:
        changes["reservation_id"] = event.reservation_id
    # Only what differs: most Updated events change nothing, and a write is not free.
    if (event.charging_state is not None and not ended_before
            and event.charging_state != tx.charging_state):
        changes["charging_state"] = event.charging_state
    if event.offline and not tx.offline:
        changes["offline"] = True
    return changes


# The transaction's energy readings: phase totals of the register at the outlet.
_ENERGY_READINGS = and_(
    meter_values.c.transaction_id == bindparam("tx_id"),
    meter_values.c.measurand == ENERGY,
    meter_values.c.value.is_not(None),
    meter_values.c.phase.is_(None),
    or_(meter_values.c.location.is_(None), meter_values.c.location == "Outlet"),
)
_READING = select(meter_values.c.value, meter_values.c.timestamp)
_FIRST = (meter_values.c.timestamp.asc().nulls_last(), meter_values.c.id.asc())
_LAST = (meter_values.c.timestamp.desc().nulls_last(), meter_values.c.id.desc())
_BEGIN = _READING.where(_ENERGY_READINGS, meter_values.c.context == "Transaction.Begin"
                        ).order_by(*_FIRST).limit(1)
_FIRST_READING = _READING.where(_ENERGY_READINGS).order_by(*_FIRST).limit(1)
_FIRST_NON_ZERO = _READING.where(_ENERGY_READINGS, meter_values.c.value > 0,
                                 meter_values.c.timestamp >= bindparam("since")
                                 ).order_by(*_FIRST).limit(1)
_END = _READING.where(_ENERGY_READINGS, meter_values.c.context == "Transaction.End"
                      ).order_by(*_LAST).limit(1)
_LAST_READING = _READING.where(_ENERGY_READINGS).order_by(*_LAST).limit(1)


def _settle_energy(conn: Connection, tx_id: int,
                   ended: bool) -> tuple[int | None, bool] | None:
    """meter_start from the readings stored; with ``ended`` meter_stop and energy_wh too.
    Returns the meter_start set and whether it is final (a start of 0 is final once a later
    non-zero reading has shown it is no placeholder); None: no reading, nothing changed.

    A few indexed single-row queries, not a scan: an event with readings is as frequent as a
    1.6 MeterValues. Nothing changes when the transaction has no energy reading at all.
    """
    params = {"tx_id": tx_id}
    start = (conn.execute(_BEGIN, params).first()
             or conn.execute(_FIRST_READING, params).first())
    if start is None:
        return None
    final = start.value != 0
    if start.value == 0 and start.timestamp is not None:
        later = conn.execute(_FIRST_NON_ZERO, {**params, "since": start.timestamp}).first()
        if later is not None:
            final = True
            if _implausible(start, later):
                start = later  # the Begin was a placeholder
    values: dict = {"meter_start": _meter(start.value)}
    if ended:
        end = (conn.execute(_END, params).first()
               or conn.execute(_LAST_READING, params).first())
        energy = end.value - start.value
        # The meter went backwards: keep its numbers, count nothing (as for 1.6).
        values.update(meter_stop=_meter(end.value),
                      energy_wh=energy if energy >= 0 else None, meter_anomaly=energy < 0)
    conn.execute(update(transactions).where(transactions.c.id == tx_id).values(**values))
    return values["meter_start"], final


def _implausible(start, later) -> bool:
    """Whether going from ``start`` (0) to ``later`` needs more than any charger's power."""
    hours = (later.timestamp - start.timestamp).total_seconds() / 3600
    return hours <= 0 or later.value / hours > MAX_PLAUSIBLE_POWER_W


def _meter(value: float) -> int | None:
    # The register as the BIGINT columns hold it (Wh); a reading beyond them is not stored.
    return round(value) if abs(value) <= METER_MAX else None


_SELECT_RUNNING = select(transactions.c.id).where(
    transactions.c.charger_id == bindparam("charger_id"),
    transactions.c.evse_id == bindparam("evse_id"),
    transactions.c.charger_transaction_id.is_not(None),
    transactions.c.stopped_at.is_(None),
).order_by(transactions.c.started_at.desc().nulls_last(), transactions.c.id.desc()).limit(1)


def check_evse_meter(evse_id: int) -> None:
    """Raise ``InvalidReport`` for a MeterValues EVSE that cannot exist (0 is the main meter)."""
    if not isinstance(evse_id, int) or isinstance(evse_id, bool) or not (
            0 <= evse_id <= MAX_CONNECTOR_ID):
        raise InvalidReport(f"evseId {evse_id!r} is outside 0..{MAX_CONNECTOR_ID}")


def record_meter_values(conn: Connection, charger_id: int, evse_id: int,
                        samples: list[Sample]) -> int | None:
    """Store a 2.x MeterValues' samples, linked to the EVSE's running transaction if there is
    one (a peer left them unlinked); return that transaction's id (ours) or None.

    EVSE 0 (the main meter) has no transaction. A 2.x MeterValues carries no transaction id:
    the link is the EVSE's running 2.x transaction, the newest should there be several.
    """
    check_evse_meter(evse_id)
    tx_id = None
    if evse_id > 0:
        tx_id = conn.execute(_SELECT_RUNNING, {"charger_id": charger_id,
                                               "evse_id": evse_id}).scalar()
    rows = sample_rows(samples, charger_id=charger_id, connector_id=evse_id,
                       transaction_id=tx_id, source="MeterValues")
    if rows:
        insert_rows(conn, meter_values, rows)
    return tx_id
