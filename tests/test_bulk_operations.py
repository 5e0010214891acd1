"""Bulk operations over real websockets: one operation to many chargers of mixed versions,
at most max_in_flight at a time, a result per charger, progress, cancellation; in the server
process on the embedded default and on a real RQ worker through Redis."""
from __future__ import annotations

import json
import subprocess

import pytest

from tests.api.helpers import poll
from tests.conftest import Api
from tests.support.charger import RawSocket, SimCharger
from tests.support.server import ROOT, VENV_BIN


def _finished(api: Api, bulk_id: int, timeout: float = 30) -> dict:
    return poll(lambda: api.get(f"/bulk-operations/{bulk_id}").json(),
                lambda b: b["status"] not in ("queued", "running"), timeout=timeout,
                interval=0.1)


def _results(api: Api, bulk_id: int) -> dict[str, dict]:
    items = api.get(f"/bulk-operations/{bulk_id}/results", params={"per_page": 200}).json()
    return {r["charger"]: r for r in items["items"]}


def test_a_reset_of_a_mixed_fleet_has_a_result_per_charger(api, server, identity):
    names = [f"{identity}-{n}" for n in range(4)]
    fleet = [SimCharger(server.ws_url, names[0]), SimCharger(server.ws_url, names[1]),
             SimCharger(server.ws_url, names[2], subprotocols=["ocpp2.0.1"]),
             SimCharger(server.ws_url, names[3], subprotocols=["ocpp2.1"])]
    offline = f"{identity}-offline"
    with SimCharger(server.ws_url, offline) as cp:
        cp.boot()  # enrolled, then gone
    try:
        for cp in fleet:
            cp.connect().boot()
        fleet[1].replies["Reset"] = lambda req: {"status": "Rejected"}
        poll(lambda: [api.get(f"/chargers/{n}").json()["connected"] for n in names], all)
        reply = api.post("/bulk-operations", json={
            "operation": "reset", "args": {"hard": False}, "chargers": [*names, offline],
            "max_in_flight": 2})
        assert reply.status_code == 202, reply.text
        assert reply.json()["total"] == 5
        bulk = _finished(api, reply.json()["id"])
        assert bulk["status"] == "finished" and bulk["progress"] == 1.0
        assert bulk["counts"] == {"waiting": 0, "running": 0, "completed": 3, "rejected": 1,
                                  "error": 1, "cancelled": 0}
        results = _results(api, bulk["id"])
        assert results[names[1]]["status"] == "rejected"
        assert "Rejected" in results[names[1]]["detail"]
        assert results[offline]["status"] == "error"
        assert "not connected" in results[offline]["detail"]
        # Each charger got its own version's command, recorded like any other.
        assert [a for a, _ in fleet[0].received] == ["Reset"]
        assert [a for a, _ in fleet[2].received] == ["Reset"]
        command = api.get(f"/commands/{results[names[3]]['command_id']}").json()
        assert (command["action"], command["source"], command["request"]) == (
            "Reset", "job", {"type": "OnIdle"})
        # A filter picks the connected 2.x chargers.
        reply = api.post("/bulk-operations", json={
            "operation": "trigger", "args": {"message": "heartbeat"},
            "filter": {"connected": True, "ocpp_version": "2.1"}})
        assert reply.status_code == 202, reply.text
        bulk = _finished(api, reply.json()["id"])
        assert names[3] in _results(api, bulk["id"])
        assert names[0] not in _results(api, bulk["id"])
    finally:
        for cp in fleet:
            cp.close()


def test_a_cancelled_bulk_operation_starts_no_new_charger(live_server_factory, tmp_path):
    srv = live_server_factory(instance_dir=str(tmp_path), OCPP_CALL_TIMEOUT="3")
    api = Api(srv.url, srv.create_user("bulk-cancel"))
    with RawSocket(srv.ws_url, "BULK-SILENT") as raw, \
            SimCharger(srv.ws_url, "BULK-B") as b:
        raw.exchange('[2,"b","BootNotification",{"chargePointVendor":"A",'
                     '"chargePointModel":"M"}]')
        b.boot()
        reply = api.post("/bulk-operations", json={
            "operation": "reset", "chargers": ["BULK-SILENT", "BULK-B"], "max_in_flight": 1})
        bulk_id = reply.json()["id"]
        # The silent charger holds the only slot: it has the Reset and does not answer.
        assert json.loads(raw.recv())[2] == "Reset"
        cancelled = api.post(f"/bulk-operations/{bulk_id}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["cancel_requested"] is True
        bulk = _finished(api, bulk_id)
        assert bulk["status"] == "cancelled"
        results = _results(api, bulk_id)
        assert results["BULK-SILENT"]["status"] == "error"  # sent, then timed out
        assert results["BULK-B"]["status"] == "cancelled"
        assert b.received == []
        again = api.post(f"/bulk-operations/{bulk_id}/cancel")
        assert again.status_code == 409 and "cancelled" in again.json()["message"]


def test_a_bulk_operation_runs_on_an_rq_worker(redis_url, live_server_factory, tmp_path):
    srv = live_server_factory(instance_dir=str(tmp_path), REDIS_URL=redis_url)
    api = Api(srv.url, srv.create_user("bulk-worker"))
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT,
                              env=srv.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        with SimCharger(srv.ws_url, "BULK-W1") as one, \
                SimCharger(srv.ws_url, "BULK-W2", subprotocols=["ocpp2.0.1"]) as two:
            one.boot()
            two.boot()
            reply = api.post("/bulk-operations", json={
                "operation": "set_configuration",
                "args": {"key": "HeartbeatInterval", "value": "120"},
                "chargers": ["BULK-W1", "BULK-W2"]})
            assert reply.status_code == 202, reply.text
            assert reply.json()["job_id"]
            bulk = _finished(api, reply.json()["id"], timeout=60)
            assert bulk["status"] == "finished", bulk
            assert bulk["counts"]["completed"] == 2, _results(api, bulk["id"])
            assert [a for a, _ in one.received] == ["ChangeConfiguration"]
            assert [a for a, _ in two.received] == ["SetVariables"]
    finally:
        worker.terminate()
        worker.wait(15)


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"operation": "nope", "chargers": ["x"]}, 404, "no operation"),
    ({"operation": "reset", "args": {"hard": "yes"}, "chargers": ["x"]}, 400, "hard"),
    ({"operation": "reset"}, 400, "chargers"),
    ({"operation": "reset", "chargers": ["x"], "filter": {}}, 400, "chargers"),
    ({"operation": "reset", "chargers": []}, 400, "non-empty"),
    ({"operation": "reset", "chargers": ["no-such-charger-anywhere"]}, 404, "no charger"),
    ({"operation": "reset", "filter": {"vendor": "Nobody-Makes-This"}}, 422, "no charger"),
    ({"operation": "reset", "filter": {"colour": "red"}}, 400, "unknown filter"),
    ({"operation": "reset", "filter": {}, "max_in_flight": 0}, 400, "max_in_flight"),
    ({"operation": "reset", "filter": {}, "extra": 1}, 400, "unknown field"),
])
def test_a_wrong_bulk_request_is_a_4xx_with_a_message(api, body, status, says):
    reply = api.post("/bulk-operations", json=body)
    assert reply.status_code == status, reply.text
    assert says in reply.json()["message"]


def test_unknown_bulk_operations_and_filters_are_4xx(api):
    assert api.get("/bulk-operations/999999").status_code == 404
    assert api.post("/bulk-operations/999999/cancel").status_code == 404
    assert api.get("/bulk-operations/999999/results").status_code == 404
    assert api.get("/bulk-operations").status_code == 200
