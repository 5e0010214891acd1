"""The group writer and SQLite settings: batching, isolation of a failing unit, WAL."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

from app.services import notifications
from app.storage.writer import GroupWriter
from tests.support.database import database_url
from tests.support.server import query

metadata = MetaData()
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("name", String(20), unique=True), Column("last_heartbeat", String(40)))
others = Table("others", metadata, Column("id", Integer, primary_key=True),
               Column("thing", Integer))


@pytest.fixture
def writer(tmp_path):
    engine = create_engine(database_url(tmp_path, "w"))
    metadata.create_all(engine)
    w = GroupWriter(engine, things, flush_interval=0.05)
    yield w, engine
    w.stop()
    engine.dispose()


def add(conn, name, delay=0.0):
    if delay:
        time.sleep(delay)
    return conn.execute(insert(things).values(name=name)).inserted_primary_key[0]


def test_units_share_commits_and_return_results(writer):
    w, engine = writer
    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, w.run(add, n)))
               for n in ("a", "b", "c", "d")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["a", "b", "c", "d"] and len(set(results.values())) == 4
    assert w.batches <= 4 and w.units_committed == 4
    with engine.connect() as conn:
        assert conn.execute(select(things.c.name).order_by(things.c.name)).scalars().all() == [
            "a", "b", "c", "d"]


def test_a_failing_unit_costs_no_other_unit_its_data(writer):
    w, engine = writer
    w.run(add, "taken")
    outcome = {}

    def submit(name, delay=0.0):
        try:
            outcome[name] = w.run(add, name, delay)
        except Exception as exc:  # noqa: BLE001
            outcome[name] = exc

    slow = threading.Thread(target=submit, args=("slow", 0.3))
    slow.start()
    time.sleep(0.1)  # the next two queue up behind the slow batch and share one
    duplicate = threading.Thread(target=submit, args=("taken",))
    good = threading.Thread(target=submit, args=("good",))
    duplicate.start()
    good.start()
    for t in (slow, duplicate, good):
        t.join()
    assert isinstance(outcome["taken"], Exception)
    assert isinstance(outcome["good"], int) and isinstance(outcome["slow"], int)
    with engine.connect() as conn:
        names = conn.execute(select(things.c.name)).scalars().all()
    assert sorted(names) == ["good", "slow", "taken"]


def test_background_rows_ride_along(writer):
    w, engine = writer
    for i in range(5):
        w.append(things, {"name": f"log{i}"})
    w.flush()
    with engine.connect() as conn:
        assert len(conn.execute(select(things.c.id)).all()) == 5


@pytest.mark.sqlite_only(reason="WAL is a SQLite journal mode")
def test_server_database_is_in_wal_mode(server):
    assert query(server, "PRAGMA journal_mode") == [("wal",)]


def test_vendor_data_transfer_handlers_answer_for_their_vendor():
    def echo(identity, message_id, data):
        return {"status": "Accepted", "data": data[::-1]}

    notifications.register_data_transfer_handler("com.example", echo, message_id="echo")
    assert notifications.data_transfer_reply("CP", "com.example", "echo", "abc") == {
        "status": "Accepted", "data": "cba"}
    assert notifications.data_transfer_reply("CP", "com.example", "other", "x") == {
        "status": "UnknownVendorId"}
    assert notifications.data_transfer_reply("CP", "org.unknown", None, None) == {
        "status": "UnknownVendorId"}


def test_one_unstorable_background_row_costs_no_other_row(writer):
    w, engine = writer
    for n in range(40):
        w.append(things, {"name": f"row-{n}"})
    w.append(things, {"name": "x" * 10 + "\ud800"})  # no encoding can store a lone surrogate
    for n in range(40, 50):
        w.append(things, {"name": f"row-{n}"})
    w.touch(1, "2026-12-02 10:00:00")
    w.flush()
    with engine.connect() as conn:
        names = conn.execute(select(things.c.name)).scalars().all()
    assert sorted(names) == sorted(f"row-{n}" for n in range(50))


def test_insert_many_writes_several_tables_in_one_unit(writer):
    w, engine = writer
    w.insert_many({things: [{"name": "x"}, {"name": "y"}], others: [{"thing": 1}]})
    with pytest.raises(Exception):  # noqa: B017 - the duplicate name fails; nothing is kept
        w.insert_many({others: [{"thing": 2}], things: [{"name": "x"}]})
    with engine.connect() as conn:
        assert conn.execute(select(things.c.name)).scalars().all() == ["x", "y"]
        assert conn.execute(select(others.c.thing)).scalars().all() == [1]


def test_a_submitted_unit_is_committed_in_order_and_then_announced(writer):
    w, engine = writer
    seen = []

    def announce(name):
        with engine.connect() as conn:  # committed by the time we are told
            seen.append(conn.execute(select(things.c.name).where(things.c.name == name))
                        .scalar())

    w.submit(add, "queued", then=lambda: announce("queued"))
    w.submit(add, "queued")  # the unique name: this one fails, is logged, and announces nothing
    w.run(add, "after")  # returns once every unit queued before it is committed too
    assert seen == ["queued"]
    assert w.backlog() == 0
    with engine.connect() as conn:
        assert conn.execute(select(things.c.name).order_by(things.c.id)).scalars().all() == [
            "queued", "after"]
