"""The live-event bus below the wire: in-process fan-out, and through a real Redis the batching,
the nobody-watching fast path, several processes' subscribers, and a Redis that is away."""
from __future__ import annotations

import itertools
import json
import queue
import threading
import time

import pytest
from redis import Redis

from app.events import QUEUE_LIMIT, LocalEventBus, make_bus
from app.events_redis import RedisEventBus
from tests.support.server import free_port

_names = itertools.count(1)


def _until(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def _drain(q: queue.Queue, n: int, timeout: float = 15.0) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        got.append(q.get(timeout=max(0.01, deadline - time.monotonic())))
    return got


@pytest.fixture
def buses(redis_server):
    """Make buses on one Redis, as separate processes would have, on a channel of this test."""
    made: list[RedisEventBus] = []
    name = f"test-events-{next(_names)}"

    def make(**options) -> RedisEventBus:
        options.setdefault("watch_refresh", 0.1)
        bus = RedisEventBus(redis_server.url, channel=name, watchers_key=name + ":watchers",
                            **options)
        bus.start()
        made.append(bus)
        return bus

    make.channel = name
    yield make
    for bus in made:
        bus.close()


def test_the_local_bus_reaches_its_subscribers_and_drops_a_slow_ones_oldest():
    bus = LocalEventBus()
    bus.publish("status", "CP-1", status="Available")  # nobody watches: nothing kept
    q = bus.subscribe()
    assert q.empty()
    for n in range(QUEUE_LIMIT + 5):
        bus.publish("meter", "CP-1", n=n)
    events = [q.get_nowait() for _ in range(q.qsize())]
    assert len(events) == QUEUE_LIMIT
    assert events[0]["n"] == 5 and events[-1]["n"] == QUEUE_LIMIT + 4
    assert events[0]["kind"] == "meter" and events[0]["charger"] == "CP-1"
    bus.unsubscribe(q)
    bus.publish("status", "CP-1", status="Faulted")
    assert q.empty()  # drained above; nothing after unsubscribing


def test_without_redis_url_the_bus_is_in_process():
    assert isinstance(make_bus({"REDIS_URL": ""}), LocalEventBus)
    assert isinstance(make_bus({"REDIS_URL": "redis://127.0.0.1:1/0"}), RedisEventBus)


def test_nobody_watching_anywhere_costs_no_batch_and_no_message(buses, redis_server):
    a, b = buses(), buses()
    monitor = Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
    monitor.subscribe(buses.channel)
    monitor.get_message(timeout=1)  # the subscription's confirmation
    for n in range(100):
        a.publish("status", "CP-1", status="Available", n=n)
    assert not a.remote_watched and not a._pending
    # Someone starts watching on b and stops again: a sends while, and only while, b watches.
    q = b.subscribe()
    _until(lambda: a.remote_watched, "a learns that b watches")
    a.publish("status", "CP-1", status="Charging")
    assert _drain(q, 1)[0]["status"] == "Charging"
    b.unsubscribe(q)
    _until(lambda: not a.remote_watched, "a learns that nobody watches")
    for n in range(100):
        a.publish("status", "CP-1", status="Available", n=n)
    assert not a._pending
    messages = []
    while (m := monitor.get_message(timeout=0.5)) is not None:
        messages.append(json.loads(m["data"]))
    sent = [e for m in messages for e in m.get("e", ())]
    assert [e["status"] for e in sent] == ["Charging"]
    monitor.close()


def test_events_cross_processes_in_batches_and_in_order(buses, redis_server):
    a, b = buses(batch_limit=50), buses()
    remote, local = b.subscribe(), a.subscribe()
    _until(lambda: a.remote_watched, "a learns that b watches")
    monitor = Redis.from_url(redis_server.url).pubsub(ignore_subscribe_messages=True)
    monitor.subscribe(buses.channel)
    monitor.get_message(timeout=1)
    for n in range(120):
        a.publish("meter", f"CP-{n % 3}", transaction_id=n, meter_value=[{"big": "x" * 100}])
    got = _drain(remote, 120)
    assert [e["transaction_id"] for e in got] == list(range(120))
    assert got[0]["kind"] == "meter" and got[0]["charger"] == "CP-0"
    assert "meter_value" not in got[0]  # raw payloads stay in the process that has them
    mine = _drain(local, 120)  # this process's subscribers: each event once, with the payload
    assert [e["transaction_id"] for e in mine] == list(range(120)) and "meter_value" in mine[0]
    assert local.empty()
    batches = []
    while sum(len(m.get("e", ())) for m in batches) < 120:
        batches.append(json.loads(monitor.get_message(timeout=5)["data"]))
    sizes = [len(m["e"]) for m in batches if "e" in m]
    assert max(sizes) <= 50 and len(sizes) < 120  # batched, never beyond the limit
    monitor.close()


def test_publish_never_calls_redis_on_the_callers_path(buses):
    a, b = buses(), buses()
    q = b.subscribe()
    _until(lambda: a.remote_watched, "a learns that b watches")
    callers: list[int] = []
    real_publish = a._redis.publish

    def publish(*args, **kwargs):
        callers.append(threading.get_ident())
        return real_publish(*args, **kwargs)

    a._redis.publish = publish
    for n in range(200):
        a.publish("status", "CP-1", status="Available", n=n)
    assert [e["n"] for e in _drain(q, 200)] == list(range(200))
    assert callers and threading.get_ident() not in callers  # only the flusher sent them


def test_a_dead_processs_watcher_entry_lapses(buses, redis_server):
    a = buses()
    client = Redis.from_url(redis_server.url)
    seconds, micros = client.time()
    # What a process that was killed while watching leaves behind: an entry nobody refreshes.
    client.zadd(buses.channel + ":watchers", {"gone:1:x": seconds + micros / 1e6 + 1.0})
    _until(lambda: a.remote_watched, "a counts the entry while it lasts")
    _until(lambda: not a.remote_watched, "the entry lapses")
    assert client.zcard(buses.channel + ":watchers") == 0
    client.close()


def test_a_closed_bus_stops_counting_as_a_watcher_at_once(buses, redis_server):
    a, b = buses(), buses(watch_ttl=3600)
    b.subscribe()
    _until(lambda: a.remote_watched, "a learns that b watches")
    b.close()
    _until(lambda: not a.remote_watched, "a learns that b is gone")  # not an hour later


def test_publishing_while_redis_is_away_never_raises_and_still_serves_this_process():
    bus = RedisEventBus(f"redis://127.0.0.1:{free_port()}/0", watch_refresh=0.1)
    q = bus.subscribe()  # starts the bus: Redis cannot be reached
    bus.publish("connected", "CP-9", ocpp_version="1.6")
    assert _drain(q, 1)[0]["kind"] == "connected"
    assert not bus.remote_watched and not bus._pending
    bus.close()


def test_a_restarted_redis_is_found_again(buses, redis_server):
    a, b = buses(), buses()
    q = b.subscribe()
    _until(lambda: a.remote_watched, "a learns that b watches")
    redis_server.stop()
    redis_server.start()  # empty: the watchers set is gone with it

    def delivered() -> bool:
        a.publish("status", "CP-1", status="Available")
        try:
            q.get(timeout=0.2)
            return True
        except queue.Empty:
            return False

    _until(delivered, "events flow again after the restart", timeout=30)
