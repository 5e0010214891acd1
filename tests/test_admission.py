"""Admission control: a reconnect storm gets 503 + Retry-After, not timeouts.

The policy's logic with a fake clock and backlog; then the real server (gunicorn, gevent) with
real websockets: a tiny threshold refuses handshakes with Retry-After while admitted chargers are
still unanswered, every admitted charger's BootNotification is answered, and with admission
switched off nothing is refused.
"""
from __future__ import annotations

import asyncio
import json
import random

import requests
import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.transport.admission import MAX_RETRY_AFTER, AdmissionPolicy, Refused, Ticket
from tests.support.server import query

BOOT = '[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"X"}]'


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(backlog: list[int] | None = None, clock: Clock | None = None,
           **kwargs) -> AdmissionPolicy:
    values = backlog if backlog is not None else [0]
    options = {"max_backlog": 100, "max_pending": 3, "retry_after": 5.0, **kwargs}
    return AdmissionPolicy(backlog=lambda: values[0], clock=clock or Clock(),
                           rng=random.Random(7), **options)


# The policy -----------------------------------------------------------------------------------


def test_admits_below_both_thresholds_and_refuses_at_the_backlog_limit():
    backlog = [99]
    p = policy(backlog)
    assert isinstance(p.admit(), Ticket)
    backlog[0] = 100
    refused = p.admit()
    assert isinstance(refused, Refused) and refused.reason == "backlog"
    assert 5 <= refused.retry_after <= 10
    backlog[0] = 10
    assert isinstance(p.admit(), Ticket)
    assert (p.admitted, p.refused) == (2, 1)


def test_pending_handshakes_hold_the_door_until_answered():
    p = policy()
    tickets = [p.admit() for _ in range(3)]
    assert all(isinstance(t, Ticket) for t in tickets)
    refused = p.admit()
    assert isinstance(refused, Refused) and refused.reason == "pending"
    tickets[0].release()
    tickets[0].release()  # idempotent: frees one place, not two
    assert p.pending() == 2
    assert isinstance(p.admit(), Ticket)
    assert isinstance(p.admit(), Refused)


def test_a_silent_charger_stops_counting_after_the_pending_window():
    clock = Clock()
    p = policy(clock=clock, pending_window=10.0)
    for _ in range(3):
        p.admit()
    assert isinstance(p.admit(), Refused)
    clock.now += 10.0
    assert p.pending() == 0
    assert isinstance(p.admit(), Ticket)


def test_a_refused_crowd_is_given_slots_one_after_the_other():
    # No answered handshake yet: paced at the floor, max_pending (here 20) per retry_after.
    p = policy([100], max_pending=20)
    first = p.admit()
    assert isinstance(first, Refused) and 5 <= first.retry_after <= 10
    delays = [p.admit().retry_after for _ in range(199)]
    # 200 refused in one instant come back over about 200 / (20 / 5 s) = 50 s, not together.
    assert max(delays) >= 50 and min(delays) >= 5
    assert sorted(delays[:20]) < sorted(delays[-20:])  # later refusals get later slots
    assert len(set(delays)) > 30


def test_the_pace_follows_how_fast_admitted_chargers_are_answered():
    clock = Clock()
    backlog = [0]
    p = policy(backlog, clock=clock, max_pending=3)  # floor: 3 per 5 s
    for _ in range(50):  # 50 handshakes answered within the last second
        p.admit().release()
        clock.now += 0.02
    backlog[0] = 100
    delays = [p.admit().retry_after for _ in range(30)]
    # Answered at 10/s over the rate window: 30 slots take 3 s, not 30 / 0.6 = 50 s.
    assert max(delays) <= 5 + 3 + 5 + 1


def test_retry_after_grows_with_the_backlog_and_is_capped():
    far = policy([1000], max_pending=0).admit()  # ten times the limit: counted as four
    assert 20 <= far.retry_after <= 25
    huge = policy([10**9], max_pending=0, retry_after=100.0)
    assert all(1 <= huge.admit().retry_after <= MAX_RETRY_AFTER for _ in range(20))


def test_zero_switches_a_check_off_and_both_zero_admit_everything():
    backlog = [10**6]
    only_pending = policy(backlog, max_backlog=0)
    assert isinstance(only_pending.admit(), Ticket)  # the backlog is not looked at
    off = policy(backlog, max_backlog=0, max_pending=0)
    assert not off.enabled
    assert all(isinstance(off.admit(), Ticket) for _ in range(50))
    assert off.refused == 0 and off.pending() == 0


def test_refusals_are_logged_at_most_once_per_interval(caplog):
    clock = Clock()
    p = policy([500], clock=clock, log_interval=10.0)
    with caplog.at_level("WARNING", logger="app.transport.admission"):
        for _ in range(50):
            p.admit()
        clock.now += 10.0
        p.admit()
    reports = [r.getMessage() for r in caplog.records]
    assert len(reports) == 2
    assert "refused 1 handshake" in reports[0] and "refused 50 handshake" in reports[1]
    assert p.stats() == {"enabled": True, "admitted": 0, "refused": 51,
                         "pending_handshakes": 0, "writer_backlog": 500}


# The real server ------------------------------------------------------------------------------


async def _storm(ws_url: str, identities: list[str]) -> dict:
    """Every charger connects at once, retries when refused, and sends its BootNotification."""
    result = {"refused": 0, "retry_after": set(), "booted": 0, "unanswered": 0}

    async def charger(identity: str) -> None:
        for _ in range(200):
            try:
                ws = await connect(f"{ws_url}/{identity}", subprotocols=["ocpp1.6"],
                                   open_timeout=30, compression=None)
            except InvalidStatus as exc:
                assert exc.response.status_code == 503
                result["refused"] += 1
                result["retry_after"].add(exc.response.headers["Retry-After"])
                # A real charger waits Retry-After seconds; the test comes back sooner.
                await asyncio.sleep(random.uniform(0.05, 0.3))
                continue
            async with ws:
                await ws.send(BOOT)
                try:
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                except (TimeoutError, websockets.ConnectionClosed):
                    result["unanswered"] += 1
                    return
                assert reply[0] == 3 and reply[2]["status"] == "Accepted"
                result["booted"] += 1
                return
        raise AssertionError(f"{identity} was never admitted")

    await asyncio.gather(*(charger(i) for i in identities))
    return result


def test_a_storm_against_a_tiny_threshold_gets_503s_and_every_admitted_boot_answered(
        live_server_factory):
    srv = live_server_factory(OCPP_ADMISSION_MAX_PENDING_HANDSHAKES="2",
                              OCPP_ADMISSION_MAX_BACKLOG="0", OCPP_ADMISSION_RETRY_AFTER="1")
    identities = [f"storm-{n}" for n in range(40)]
    result = asyncio.run(_storm(srv.ws_url, identities))
    assert result["booted"] == 40 and result["unanswered"] == 0
    assert result["refused"] > 0
    assert all(value.isdigit() and int(value) >= 1 for value in result["retry_after"])
    health = requests.get(srv.url + "/healthz", timeout=10).json()
    assert health["status"] == "ok"
    assert health["admission"]["refused"] == result["refused"]
    assert health["admission"]["pending_handshakes"] == 0
    # Refused handshakes enrolled nobody twice; each charger is there once, with its boot.
    assert query(srv, "SELECT count(*), count(last_boot_at) FROM chargers "
                      "WHERE identity LIKE 'storm-%'") == [(40, 40)]
    assert "admission: refused" in srv.log()


def test_admitted_but_unanswered_chargers_hold_the_door_and_connected_traffic_goes_on(
        live_server_factory):
    srv = live_server_factory(OCPP_ADMISSION_MAX_PENDING_HANDSHAKES="2",
                              OCPP_ADMISSION_MAX_BACKLOG="0", OCPP_ADMISSION_RETRY_AFTER="3")

    async def scenario() -> None:
        url = srv.ws_url
        old = await connect(f"{url}/old", subprotocols=["ocpp1.6"], compression=None)
        await old.send(BOOT)
        assert json.loads(await old.recv())[0] == 3  # answered: no longer pending
        first = await connect(f"{url}/first", subprotocols=["ocpp1.6"], compression=None)
        second = await connect(f"{url}/second", subprotocols=["ocpp1.6"], compression=None)
        try:
            await connect(f"{url}/third", subprotocols=["ocpp1.6"], compression=None)
        except InvalidStatus as exc:
            assert exc.response.status_code == 503
            assert 3 <= int(exc.response.headers["Retry-After"]) <= 6
        else:
            raise AssertionError("a third pending handshake was admitted")
        # A connected charger is never refused anything.
        await old.send('[2,"h1","Heartbeat",{}]')
        assert json.loads(await old.recv())[:2] == [3, "h1"]
        await first.send(BOOT)
        assert json.loads(await first.recv())[0] == 3
        third = await connect(f"{url}/third", subprotocols=["ocpp1.6"], compression=None)
        await third.send(BOOT)
        assert json.loads(await third.recv())[0] == 3
        for ws in (old, first, second, third):
            await ws.close()

    asyncio.run(scenario())
    # The refused handshake left no trace: "third" was enrolled once, by its admitted try.
    assert query(srv, "SELECT count(*) FROM chargers WHERE identity = 'third'") == [(1,)]


def test_with_admission_off_a_storm_is_never_refused(live_server_factory):
    srv = live_server_factory(OCPP_ADMISSION_MAX_PENDING_HANDSHAKES="0",
                              OCPP_ADMISSION_MAX_BACKLOG="0")
    result = asyncio.run(_storm(srv.ws_url, [f"calm-{n}" for n in range(40)]))
    assert result == {"refused": 0, "retry_after": set(), "booted": 40, "unanswered": 0}
    admission = requests.get(srv.url + "/healthz", timeout=10).json()["admission"]
    assert admission["enabled"] is False and admission["refused"] == 0
    assert admission["admitted"] >= 40
