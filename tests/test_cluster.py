"""Two "hosts" (separate servers on their own ports) sharing one database and one real Redis:
commands through either host's API or a job reach the charger's process once, a charger that
moves is closed on the old host, and a killed host's chargers are shown disconnected."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.api.helpers import poll
from tests.conftest import Api
from tests.support.charger import RawSocket, SimCharger
from tests.support.database import database_url
from tests.support.server import ROOT, VENV_BIN, query


@pytest.fixture
def hosts(redis_url, tmp_path, live_server_factory):
    shared = {"DATABASE_URL": database_url(tmp_path, "shared"), "REDIS_URL": redis_url}
    a = live_server_factory(instance_dir=str(tmp_path / "a"), **shared)
    b = live_server_factory(instance_dir=str(tmp_path / "b"), **shared)
    token = a.create_user("cluster-admin")
    return a, b, Api(a.url, token), Api(b.url, token)


def _connected(api: Api, identity: str) -> bool:
    return api.get(f"/chargers/{identity}").json()["connected"]


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def test_a_command_through_the_other_host_reaches_the_charger_once(hosts):
    a, b, api_a, api_b = hosts
    with SimCharger(a.ws_url, "CL-1") as cp:
        assert cp.boot().status == "Accepted"
        assert poll(lambda: _connected(api_b, "CL-1"), bool) is True
        cp.replies["GetConfiguration"] = lambda req: {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "45"}]}
        reply = api_b.post("/chargers/CL-1/commands", json={"action": "GetConfiguration"})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["status"] == "completed" and body["response"]["configurationKey"]
        # Its effect was applied by the process holding the socket, and stored once.
        keys = api_b.get("/chargers/CL-1/configuration").json()["items"]
        assert [(k["key"], k["value"]) for k in keys] == [("HeartbeatInterval", "45")]
        assert [action for action, _ in cp.received] == ["GetConfiguration"]
        # Not waiting: accepted at once, answered by the other host, outcome stored.
        reply = api_b.post("/chargers/CL-1/commands", json={"action": "ClearCache",
                                                            "wait": False})
        assert reply.status_code == 202, reply.text
        done = poll(lambda: api_a.get(f"/commands/{reply.json()['id']}").json(),
                    lambda c: c["status"] != "pending", timeout=10)
        assert done["status"] == "completed" and done["response"] == {"status": "Accepted"}
        # A version-neutral operation through the other host.
        reply = api_b.post("/chargers/CL-1/operations/reset", json={"hard": False})
        assert reply.status_code == 200 and reply.json()["status"] == "completed", reply.text
    assert poll(lambda: _connected(api_b, "CL-1"), lambda c: not c) is False
    # Connected nowhere: refused at once, on either host.
    for api in (api_a, api_b):
        reply = api.post("/chargers/CL-1/commands", json={"action": "ClearCache"})
        assert reply.status_code == 409 and "not connected" in reply.json()["message"]


def test_a_job_on_a_worker_sends_through_the_charger_s_host(hosts):
    a, b, api_a, api_b = hosts
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                              env=b.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with SimCharger(a.ws_url, "CL-J") as cp:
            cp.boot()
            assert poll(lambda: _connected(api_b, "CL-J"), bool) is True
            enqueue = ("from rq import Queue; from redis import Redis; import os, sys;"
                       "job = Queue('constellation', connection=Redis.from_url("
                       "os.environ['REDIS_URL'])).enqueue('app.jobs.run_operation', 'CL-J', "
                       "'trigger', {'message': 'heartbeat'}); print(job.id)")
            job_id = subprocess.run([str(VENV_BIN / "python"), "-c", enqueue], cwd=ROOT,
                                    env=b.env, check=True, capture_output=True,
                                    text=True).stdout.strip()
            assert job_id
            assert poll(lambda: [a for a, _ in cp.received], lambda r: "TriggerMessage" in r,
                        timeout=30) == ["TriggerMessage"]
            commands = poll(lambda: api_a.get("/commands", params={"charger": "CL-J"}).json(),
                            lambda c: c["items"] and c["items"][0]["status"] != "pending",
                            timeout=10)["items"]
            assert [(c["action"], c["status"], c["source"]) for c in commands] == [
                ("TriggerMessage", "completed", "job")]
    finally:
        worker.terminate()
        worker.wait(15)


def test_a_charger_that_moves_host_is_closed_on_the_old_one(hosts):
    a, b, api_a, api_b = hosts
    old = SimCharger(a.ws_url, "CL-M").connect()
    try:
        old.boot()
        assert poll(lambda: _connected(api_b, "CL-M"), bool) is True
        with SimCharger(b.ws_url, "CL-M") as new:
            new.boot()
            # The old socket is closed by its host.
            assert poll(lambda: old.ws.close_code, lambda code: code is not None,
                        timeout=10) is not None
            new.replies["GetConfiguration"] = lambda req: {"configurationKey": []}
            reply = api_a.post("/chargers/CL-M/commands", json={"action": "GetConfiguration"})
            assert reply.status_code == 200 and reply.json()["status"] == "completed"
            assert [action for action, _ in new.received] == ["GetConfiguration"]
            assert _connected(api_a, "CL-M") is True
    finally:
        old.close()


def test_a_killed_host_s_chargers_are_shown_disconnected_and_can_move(hosts):
    a, b, api_a, api_b = hosts
    with RawSocket(a.ws_url, "CL-K") as raw:
        assert raw.exchange('[2,"b","BootNotification",{"chargePointVendor":"Acme",'
                            '"chargePointModel":"K"}]')[0] == 3
        assert poll(lambda: _connected(api_b, "CL-K"), bool) is True
        # A command in flight when the host dies: the charger has it and never answers.
        pending = api_b.post("/chargers/CL-K/commands", json={
            "action": "GetConfiguration", "wait": False, "timeout": 60}).json()
        assert json.loads(raw.recv())[2] == "GetConfiguration"
        worker = _worker_pid(a.proc.pid)
        os.kill(a.proc.pid, signal.SIGKILL)
        os.kill(worker, signal.SIGKILL)
        # Within the presence time-to-live and a few sweeps (12 s), not at the next restart.
        assert poll(lambda: _connected(api_b, "CL-K"), lambda c: not c, timeout=20) is False
    failed = api_b.get(f"/commands/{pending['id']}").json()
    assert failed["status"] == "error" and failed["error"]["code"] == "Interrupted"
    with SimCharger(b.ws_url, "CL-K") as cp:
        cp.boot()
        assert poll(lambda: _connected(api_b, "CL-K"), bool) is True
        reply = api_b.post("/chargers/CL-K/commands", json={"action": "ClearCache"})
        assert reply.status_code == 200 and reply.json()["status"] == "completed"


def test_the_hosts_recover_by_themselves_when_redis_restarts(hosts, redis_server):
    a, b, api_a, api_b = hosts
    with SimCharger(a.ws_url, "CL-R") as cp:
        cp.boot()
        assert poll(lambda: _connected(api_b, "CL-R"), bool) is True
        redis_server.stop()
        # Without Redis the charger's own traffic goes on, and a routed command fails cleanly.
        assert cp.call(call.Heartbeat()) is not None
        reply = api_b.post("/chargers/CL-R/commands", json={"action": "ClearCache"})
        assert reply.status_code in (200, 409), reply.text
        if reply.status_code == 200:
            assert reply.json()["status"] == "error"
        redis_server.start()
        # Once the liveness key is back, commands through the other host work again.
        done = poll(lambda: api_b.post("/chargers/CL-R/commands",
                                       json={"action": "ClearCache"}),
                    lambda r: r.status_code == 200 and r.json()["status"] == "completed",
                    timeout=20, interval=0.5)
        assert done.status_code == 200 and done.json()["status"] == "completed", done.text
        assert _connected(api_a, "CL-R") is True


def _meter(tx: int, value: int) -> str:
    return json.dumps([2, f"m{value}", "MeterValues", {
        "connectorId": 1, "transactionId": tx, "meterValue": [{
            "timestamp": "2026-12-04T10:00:00Z",
            "sampledValue": [{"value": str(value), "unit": "Wh"}]}]}])


def _load(url: str, identity: str, tx: int | None, base: int, acked: list[int],
          unconfirmed: list[int], stop: threading.Event) -> int | None:
    """Send MeterValues until the server goes (or ``stop``); note what was acknowledged."""
    import websockets

    raw = RawSocket(url, identity, compression=None)
    try:
        raw.__enter__()
    except (OSError, websockets.WebSocketException):
        return tx
    try:
        raw.exchange('[2,"b","BootNotification",{"chargePointVendor":"Acme",'
                     '"chargePointModel":"L"}]')
        if tx is None:
            tx = raw.exchange('[2,"s","StartTransaction",{"connectorId":1,"idTag":"KILL",'
                              '"meterStart":0,"timestamp":"2026-12-04T10:00:00Z"}]'
                              )[2]["transactionId"]
        # A charger first sends again what the last server never confirmed.
        for value in [*unconfirmed, *range(base, base + 10_000)]:
            if stop.is_set():
                break
            if value not in unconfirmed:
                unconfirmed.append(value)
            reply = raw.exchange(_meter(tx, value), timeout=5)
            assert reply[0] == 3, reply
            unconfirmed.remove(value)
            acked.append(value)
    except Exception:  # noqa: BLE001 - the server was killed under it
        pass
    finally:
        try:
            raw.__exit__(None, None, None)
        except Exception:  # noqa: BLE001
            pass
    return tx


def test_kill_9_mid_load_loses_and_doubles_no_acknowledged_message(hosts):
    a, b, api_a, api_b = hosts
    n = 4
    acked = [[] for _ in range(n)]
    unconfirmed = [[] for _ in range(n)]
    txs: list[int | None] = [None] * n
    stop = threading.Event()

    def run(url: str, base: int) -> None:
        threads = []
        for i in range(n):
            def one(i=i):
                txs[i] = _load(url, f"CL-L{i}", txs[i], base + i * 100_000, acked[i],
                               unconfirmed[i], stop)
            threads.append(threading.Thread(target=one))
        for t in threads:
            t.start()
        return threads

    threads = run(a.ws_url, 1)
    poll(lambda: min(len(x) for x in acked), lambda m: m >= 20, timeout=20)
    worker = _worker_pid(a.proc.pid)
    os.kill(worker, signal.SIGKILL)
    os.kill(a.proc.pid, signal.SIGKILL)
    for t in threads:
        t.join(30)
    assert all(tx is not None for tx in txs)
    before = [len(x) for x in acked]
    resent = [set(x) for x in unconfirmed]
    # They reconnect to the other host: the marks of the dead one are cleared within seconds.
    assert poll(lambda: [_connected(api_b, f"CL-L{i}") for i in range(n)],
                lambda c: not any(c), timeout=20) == [False] * n
    threads = run(b.ws_url, 50_000)
    poll(lambda: [len(x) for x in acked], lambda c: all(c[i] > before[i] + 10
                                                         for i in range(n)), timeout=20)
    assert all(_connected(api_b, f"CL-L{i}") for i in range(n))
    stop.set()
    for t in threads:
        t.join(30)
    for i in range(n):
        stored = [int(v) for (v,) in query(b, "SELECT value FROM meter_values WHERE "
                                                 "transaction_id = ?", txs[i])]
        counts = {v: stored.count(v) for v in set(stored)}
        missing = [v for v in acked[i] if v not in counts]
        # A message sent again because the dead host never confirmed it may have been stored
        # there already: 1.6 MeterValues have no key to tell. Every other one is stored once.
        doubled = [v for v in acked[i] if counts.get(v, 0) > 1 and v not in resent[i]]
        assert missing == [] and doubled == [], (i, missing[:5], doubled[:5])


def test_a_routed_command_waits_as_long_as_the_charger_takes(hosts):
    """Longer than the Redis client's socket timeout (5 s): the caller still gets the answer."""
    a, b, api_a, api_b = hosts
    with SimCharger(a.ws_url, "CL-S") as cp:
        cp.boot()
        assert poll(lambda: _connected(api_b, "CL-S"), bool) is True
        cp.replies["GetConfiguration"] = lambda req: (time.sleep(7), {"configurationKey": []})[1]
        reply = api_b.post("/chargers/CL-S/commands",
                           json={"action": "GetConfiguration", "timeout": 20})
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] == "completed", reply.json()


def test_disabling_a_charger_on_one_host_ends_its_session_on_the_other(hosts):
    a, b, api_a, api_b = hosts
    cp = SimCharger(a.ws_url, "CL-D").connect()
    try:
        cp.boot()
        assert poll(lambda: _connected(api_b, "CL-D"), bool) is True
        reply = api_b.patch("/chargers/CL-D", json={"enabled": False})
        assert reply.status_code == 200, reply.text
        assert poll(lambda: cp.ws.close_code, lambda code: code is not None,
                    timeout=10) is not None
        assert poll(lambda: _connected(api_a, "CL-D"), lambda c: not c) is False
    finally:
        cp.close()
