"""2.x transactions below the wire: ``transaction_events.record_event`` with domain values.

Each test is one of the edge cases the spec allows (and a peer got wrong): a retried seqNo,
events out of order, an Ended with no Started, an Updated after Ended, the token in an
Updated, energy from Begin to End, the offline placeholder Begin of 0, a batch with no energy.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.database import database_url

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "events")})
    with app.app_context():
        db.create_all()
        yield app


@pytest.fixture
def charger_id(app) -> int:
    from app.extensions import db
    from app.models import Charger

    charger = Charger(identity="CS-201", enabled=True, registration_status="accepted",
                      auto_enrolled=False, lenient=False)
    db.session.add(charger)
    db.session.commit()
    return charger.id


def event(event_type: str, seq_no: int, minutes: float = 0, *, tx: str = "tx-1", **fields):
    from app.services.values import TransactionEventValue

    fields.setdefault("evse_id", 1)
    fields.setdefault("connector_id", 1)
    return TransactionEventValue(
        event_type=event_type, timestamp=T0 + timedelta(minutes=minutes),
        trigger_reason=fields.pop("trigger_reason", "Authorized"), seq_no=seq_no,
        charger_transaction_id=tx, **fields)


def energy(kwh: float, minutes: float, context: str = "Sample.Periodic"):
    from app.services.values import Sample

    return Sample(kwh, timestamp=T0 + timedelta(minutes=minutes),
                  measurand="Energy.Active.Import.Register", unit="kWh", context=context)


def record(charger_id: int, ev, policy: str = "reject"):
    from app.extensions import db
    from app.services.transaction_events import record_event

    with db.engine.begin() as conn:
        return record_event(conn, charger_id, ev, datetime.now(UTC), policy)


def transaction(tx_id: int):
    from app.extensions import db
    from app.models import Transaction

    db.session.expire_all()
    return db.session.get(Transaction, tx_id)


def counts(tx_id: int) -> tuple[int, int]:
    """(events stored, meter values stored) of a transaction."""
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import MeterValue, TransactionEvent

    return (db.session.scalar(select(func.count()).select_from(TransactionEvent)
                              .where(TransactionEvent.transaction_id == tx_id)),
            db.session.scalar(select(func.count()).select_from(MeterValue)
                              .where(MeterValue.transaction_id == tx_id)))


def test_a_session_from_begin_to_end_in_wh(charger_id):
    from app.services.values import Token

    started = record(charger_id, event("Started", 0, token=Token("CARD-1", "ISO14443"),
                                       charging_state="Charging",
                                       samples=(energy(12.5, 0, "Transaction.Begin"),)),
                     policy="accept")
    assert started.created and not started.duplicate
    assert started.authorization.status == "Accepted"
    record(charger_id, event("Updated", 1, 30, trigger_reason="MeterValuePeriodic",
                             samples=(energy(20.0, 30),)))
    tx = transaction(started.transaction_id)
    assert (tx.state, tx.meter_start, tx.meter_stop, tx.energy_wh) == ("active", 12500, None,
                                                                       None)
    ended = record(charger_id, event("Ended", 2, 60, trigger_reason="EVCommunicationLost",
                                     stopped_reason="EVDisconnected", charging_state="Idle",
                                     samples=(energy(25.25, 60, "Transaction.End"),)))
    assert ended.ended and ended.transaction_id == started.transaction_id
    assert ended.authorization is None  # no token in the request: no idTokenInfo
    tx = transaction(started.transaction_id)
    assert (tx.charger_transaction_id, tx.evse_id, tx.connector_id) == ("tx-1", 1, 1)
    assert (tx.id_tag, tx.id_tag_status) == ("CARD-1", "Accepted")
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (12500, 25250, 12750.0)
    assert (tx.stopped_reason, tx.stop_reason, tx.charging_state) == (
        "EVDisconnected", "EVDisconnected", "Idle")
    assert (tx.started_at, tx.stopped_at) == (T0, T0 + timedelta(minutes=60))
    assert counts(tx.id) == (3, 3)


def test_a_retry_with_the_same_seq_no_is_stored_once_and_answered_alike(charger_id):
    from app.services.values import Token

    first = record(charger_id, event("Started", 0, token=Token("NOBODY"),
                                     samples=(energy(1, 0, "Transaction.Begin"),)))
    retry = record(charger_id, event("Started", 0, token=Token("NOBODY"),
                                     samples=(energy(1, 0, "Transaction.Begin"),)))
    assert retry.duplicate and retry.transaction_id == first.transaction_id
    assert first.authorization == retry.authorization
    assert first.authorization.status == "Unknown"
    assert counts(first.transaction_id) == (1, 1)


def test_events_out_of_order_and_an_ended_without_started(charger_id):
    # Ended first (the Started was discarded while offline): a complete transaction.
    ended = record(charger_id, event("Ended", 7, 50, offline=True, stopped_reason="Local",
                                     samples=(energy(3.0, 50, "Transaction.End"),)))
    assert ended.created and ended.ended
    tx = transaction(ended.transaction_id)
    assert tx.state == "stopped" and tx.offline
    assert tx.started_at == T0 + timedelta(minutes=50)  # the best known so far
    # A late Updated from before (a gap: seqNo 1..4 never come) moves the start back, adds
    # its reading, and the energy follows: first -> End.
    late = record(charger_id, event("Updated", 5, 20, offline=True,
                                    trigger_reason="MeterValuePeriodic",
                                    samples=(energy(2.0, 20),)))
    assert not late.created and not late.ended
    tx = transaction(ended.transaction_id)
    assert tx.started_at == T0 + timedelta(minutes=20)
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (2000, 3000, 1000.0)
    assert tx.state == "stopped"


def test_an_updated_after_ended_never_reopens(charger_id):
    started = record(charger_id, event("Started", 0, charging_state="Charging",
                                       samples=(energy(10, 0, "Transaction.Begin"),)))
    record(charger_id, event("Ended", 2, 60, stopped_reason="Remote", charging_state="Idle",
                             samples=(energy(11, 60, "Transaction.End"),)))
    late = record(charger_id, event("Updated", 1, 30, charging_state="Charging",
                                    trigger_reason="MeterValuePeriodic",
                                    samples=(energy(10.5, 30),)))
    assert not late.ended and not late.duplicate
    tx = transaction(started.transaction_id)
    assert (tx.state, tx.stopped_reason, tx.charging_state) == ("stopped", "Remote", "Idle")
    assert tx.stopped_at == T0 + timedelta(minutes=60)
    assert tx.energy_wh == 1000.0  # Begin -> End still
    assert counts(tx.id) == (3, 3)  # its meter value is kept
    # A second Ended does not move the stop either.
    record(charger_id, event("Ended", 3, 90, stopped_reason="Other"))
    tx = transaction(started.transaction_id)
    assert (tx.stopped_at, tx.stopped_reason) == (T0 + timedelta(minutes=60), "Remote")


def test_the_token_may_come_in_a_later_updated(charger_id):
    from app.services import tokens
    from app.services.values import Token

    tokens.create("CARD-LATE", {})
    started = record(charger_id, event("Started", 0, trigger_reason="CablePluggedIn"))
    assert started.authorization is None
    assert transaction(started.transaction_id).id_tag is None
    authorized = record(charger_id, event("Updated", 1, 1, token=Token("card-late", "ISO14443"),
                                          trigger_reason="Authorized"))
    assert authorized.authorization.status == "Accepted"
    tx = transaction(started.transaction_id)
    assert (tx.id_tag, tx.id_tag_status) == ("card-late", "Accepted")
    # Stopped by another card: the stopping token; the transaction's own stays.
    record(charger_id, event("Ended", 2, 5, token=Token("OTHER"),
                             trigger_reason="StopAuthorized", stopped_reason="Local"))
    tx = transaction(started.transaction_id)
    assert (tx.id_tag, tx.stop_id_tag) == ("card-late", "OTHER")


def test_a_placeholder_zero_begin_after_an_offline_start_does_not_bill_the_odometer(charger_id):
    """A peer billed 910 kWh for 0.083 kWh: the Begin of 0 came before the meter was read."""
    started = record(charger_id, event("Started", 0, offline=True,
                                       samples=(energy(0, 0, "Transaction.Begin"),)))
    record(charger_id, event("Updated", 1, 1, offline=True,
                             trigger_reason="MeterValuePeriodic",
                             samples=(energy(910.0, 1),)))
    assert transaction(started.transaction_id).meter_start == 910000
    record(charger_id, event("Ended", 2, 10, stopped_reason="EVDisconnected",
                             samples=(energy(910.083, 10, "Transaction.End"),)))
    tx = transaction(started.transaction_id)
    assert (tx.meter_start, tx.meter_stop) == (910000, 910083)
    assert tx.energy_wh == pytest.approx(83.0)


def test_a_meter_counting_from_zero_per_transaction_is_billed_from_zero(charger_id):
    started = record(charger_id, event("Started", 0,
                                       samples=(energy(0, 0, "Transaction.Begin"),)))
    record(charger_id, event("Updated", 1, 15, trigger_reason="MeterValuePeriodic",
                             samples=(energy(5.0, 15),)))  # 20 kW: a real charge
    record(charger_id, event("Ended", 2, 30, samples=(energy(9.0, 30, "Transaction.End"),)))
    tx = transaction(started.transaction_id)
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (0, 9000, 9000.0)
    assert tx.stop_reason == "Local"  # 2.x leaves stoppedReason out only when it is Local


def test_a_batch_without_an_energy_reading_never_resets_the_total(charger_id):
    from app.services.values import Sample

    started = record(charger_id, event("Started", 0,
                                       samples=(energy(4, 0, "Transaction.Begin"),)))
    record(charger_id, event("Ended", 1, 30, samples=(energy(6, 30, "Transaction.End"),)))
    power = Sample(7.4, timestamp=T0 + timedelta(minutes=31), measurand="Power.Active.Import",
                   unit="kW")
    record(charger_id, event("Updated", 2, 31, trigger_reason="MeterValuePeriodic",
                             samples=(power,)))
    record(charger_id, event("Ended", 3, 32))  # no readings at all
    tx = transaction(started.transaction_id)
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (4000, 6000, 2000.0)
    assert counts(tx.id) == (4, 3)


def test_remote_start_id_links_the_command(charger_id):
    from app.extensions import db
    from app.models import Command
    from app.services.commands import command_to_dict

    command = Command(charger_id=charger_id, action="RequestStartTransaction", status="completed",
                      timeout=30, remote_start_id=4711, request={"remoteStartId": 4711})
    other = Command(charger_id=charger_id, action="RequestStartTransaction", status="completed",
                    timeout=30, remote_start_id=4712, request={"remoteStartId": 4712})
    db.session.add_all([command, other])
    db.session.commit()
    started = record(charger_id, event("Started", 0, trigger_reason="RemoteStart",
                                       remote_start_id=4711))
    assert transaction(started.transaction_id).remote_start_id == 4711
    db.session.expire_all()
    assert db.session.get(Command, command.id).transaction_id == started.transaction_id
    assert db.session.get(Command, other.id).transaction_id is None
    shown = command_to_dict(db.session.get(Command, command.id))
    assert (shown["remote_start_id"], shown["transaction_id"]) == (4711, started.transaction_id)


def test_the_same_charger_transaction_id_on_another_charger_is_another_transaction(app,
                                                                                  charger_id):
    from app.extensions import db
    from app.models import Charger

    second = Charger(identity="CS-202", enabled=True, registration_status="accepted",
                     auto_enrolled=False, lenient=False)
    db.session.add(second)
    db.session.commit()
    a = record(charger_id, event("Started", 0))
    b = record(second.id, event("Started", 0))
    assert a.transaction_id != b.transaction_id and not b.duplicate


def test_two_transactions_alike_but_for_the_chargers_id_are_two(charger_id):
    """The 1.6 StartTransaction retry key (connector, tag, time, meter start) is not 2.x's."""
    from app.services.values import Token

    alike = {"token": Token("TWIN"), "samples": (energy(1, 0, "Transaction.Begin"),)}
    a = record(charger_id, event("Started", 0, tx="tx-a", **alike), policy="accept")
    b = record(charger_id, event("Started", 0, tx="tx-b", **alike), policy="accept")
    assert a.transaction_id != b.transaction_id
    assert transaction(b.transaction_id).meter_start == 1000


@pytest.mark.parametrize("fields, message", [
    ({"evse_id": 0}, "evse id 0"),
    ({"evse_id": 129}, "evse id 129"),
    ({"connector_id": 0}, "connectorId 0"),
    ({"evse_id": None, "connector_id": 2}, "needs its EVSE"),
    ({"tx": "x" * 37}, "transactionId"),
    ({"tx": ""}, "transactionId"),
])
def test_impossible_events_are_refused_and_nothing_is_stored(charger_id, fields, message):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Transaction
    from app.services.errors import InvalidReport

    with pytest.raises(InvalidReport, match=message):
        record(charger_id, event("Started", 0, **fields))
    assert db.session.scalar(select(func.count()).select_from(Transaction)) == 0


def test_meter_values_are_linked_to_the_evses_running_transaction(charger_id):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import MeterValue
    from app.services.errors import InvalidReport
    from app.services.transaction_events import record_meter_values

    on_1 = record(charger_id, event("Started", 0, tx="tx-evse-1"))
    on_2 = record(charger_id, event("Started", 0, tx="tx-evse-2", evse_id=2))
    with db.engine.begin() as conn:
        assert record_meter_values(conn, charger_id, 2, [energy(1, 5)]) == on_2.transaction_id
        assert record_meter_values(conn, charger_id, 0, [energy(99, 5)]) is None  # main meter
        assert record_meter_values(conn, charger_id, 3, [energy(1, 5)]) is None  # idle EVSE
    record(charger_id, event("Ended", 1, 10, tx="tx-evse-2", evse_id=2))
    with db.engine.begin() as conn:
        assert record_meter_values(conn, charger_id, 2, [energy(2, 15)]) is None  # ended
    # A TransactionEvent without its evse (named in the first event only) keeps the EVSE.
    record(charger_id, event("Updated", 1, 6, tx="tx-evse-1", evse_id=None, connector_id=None,
                             trigger_reason="MeterValuePeriodic", samples=(energy(3, 6),)))
    assert db.session.scalars(select(MeterValue.connector_id).where(
        MeterValue.transaction_id == on_1.transaction_id)).all() == [1]
    assert counts(on_1.transaction_id) == (2, 1)
    assert counts(on_2.transaction_id) == (2, 1)
    with pytest.raises(InvalidReport, match="evseId 129"), db.engine.begin() as conn:
        record_meter_values(conn, charger_id, 129, [energy(1, 5)])


def test_the_quick_way_for_a_plain_updated_stores_what_record_event_would(charger_id):
    """What the adapter does per connection: plain Updated events of a transaction it knows
    become rows without a query; anything else, and every seqNo already seen, goes through
    record_event."""
    from app.extensions import db
    from app.models import MeterValue
    from app.services.transaction_events import events, meter_values, quick_rows
    from app.services.values import Token
    from app.storage.bulk import insert_rows

    now = datetime.now(UTC)
    started = record(charger_id, event("Started", 0, charging_state="Charging",
                                       samples=(energy(10, 0, "Transaction.Begin"),)))
    known = started.known
    assert known.quick and known.seq_nos == {0} and known.evse_id == 1
    plain = event("Updated", 1, 10, evse_id=None, connector_id=None,
                  trigger_reason="MeterValuePeriodic", samples=(energy(11, 10),))
    rows = quick_rows(known, charger_id, plain, now)
    assert rows is not None
    with db.engine.begin() as conn:
        for table in (events, meter_values):
            insert_rows(conn, table, rows[table])
    known = known.seen(1)
    assert quick_rows(known, charger_id, plain, now) is None  # seen: record_event says retry
    assert record(charger_id, plain).duplicate
    for needs_more in (event("Updated", 2, 11, charging_state="SuspendedEV"),
                       event("Updated", 2, 11, token=Token("LATE")),
                       event("Updated", 2, 11, offline=True),
                       event("Updated", 2, -5),  # before the start: moves it
                       event("Ended", 2, 20)):
        assert quick_rows(known, charger_id, needs_more, now) is None
    ended = record(charger_id, event("Ended", 2, 20, samples=(energy(12, 20,
                                                                     "Transaction.End"),)))
    assert not ended.known.quick and ended.known.seq_nos == {0, 1, 2}  # read back
    tx = transaction(started.transaction_id)
    assert (tx.meter_start, tx.meter_stop, tx.energy_wh) == (10000, 12000, 2000.0)
    assert counts(tx.id) == (3, 3)
    assert {mv.connector_id for mv in db.session.query(MeterValue)} == {1}


def test_no_quick_way_before_the_start_reading_is_known(charger_id):
    started = record(charger_id, event("Started", 0, trigger_reason="CablePluggedIn"))
    assert not started.known.quick  # no reading yet: the next energy reading settles it
    placeholder = record(charger_id, event("Started", 1, samples=(
        energy(0, 0, "Transaction.Begin"),), tx="tx-zero"))
    assert not placeholder.known.quick  # a Begin of 0 may be a placeholder


def test_a_start_of_zero_takes_the_quick_way_once_a_reading_shows_it_is_real(charger_id):
    """A meter that counts from 0 per transaction is the common case: after the first
    plausible reading its plain Updated events need no query (the fleet benchmark's case)."""
    from app.services.transaction_events import quick_rows

    started = record(charger_id, event("Started", 0, samples=(
        energy(0, 0, "Transaction.Begin"),)))
    assert not started.known.quick
    first = record(charger_id, event("Updated", 1, 15, trigger_reason="MeterValuePeriodic",
                                     samples=(energy(5.0, 15),)))
    assert first.known.quick
    plain = event("Updated", 2, 30, trigger_reason="MeterValuePeriodic",
                  samples=(energy(9.0, 30),))
    assert quick_rows(first.known, charger_id, plain, T0 + timedelta(minutes=30)) is not None
    assert transaction(started.transaction_id).meter_start == 0
