"""A server killed outright comes back with everything chargers were told was accepted."""
from __future__ import annotations

import signal

from ocpp.v16 import call

from tests.support.charger import SimCharger
from tests.support.server import query


def test_kill_and_restart_keeps_the_data(live_server_factory, tmp_path):
    first = live_server_factory(instance_dir=str(tmp_path))
    with SimCharger(first.ws_url, "survivor") as cp:
        cp.boot(firmware_version="9.9")
        start = cp.call(call.StartTransaction(connector_id=1, id_tag="KEEP", meter_start=100,
                                              timestamp="2026-05-01T10:00:00Z"))
        cp.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                 meter_value=[{"timestamp": "2026-05-01T10:05:00Z",
                                               "sampledValue": [{"value": "600"}]}]))
        # A power cut: no chance to flush anything that was not committed.
        first.stop(signal.SIGKILL)
    second = live_server_factory(instance_dir=str(tmp_path))
    assert query(second, "SELECT firmware_version, session_owner FROM chargers "
                 "WHERE identity = 'survivor'") == [("9.9", None)]
    with SimCharger(second.ws_url, "survivor") as cp:
        cp.call(call.StopTransaction(meter_stop=1100, timestamp="2026-05-01T10:30:00Z",
                                     transaction_id=start.transaction_id))
    assert query(second, "SELECT meter_start, meter_stop, energy_wh FROM transactions WHERE id = ?",
                 start.transaction_id) == [(100, 1100, 1000.0)]
    assert query(second, "SELECT value FROM meter_values WHERE transaction_id = ?",
                 start.transaction_id) == [(600.0,)]


def test_message_log_prune_applies_the_retention(server):
    from tests.test_transport import wait_for

    def logged() -> int:
        return query(server, "SELECT count(*) FROM message_log WHERE identity = 'pruned'")[0][0]

    with SimCharger(server.ws_url, "pruned") as cp:
        cp.boot()
        wait_for(lambda: logged() >= 2)
        # The default retention (14 days) keeps today's frames...
        assert "deleted 0 " in server.flask("messages", "prune").stdout
        assert logged() >= 2
        # ...a retention of zero days removes them.
        server.flask("messages", "prune", "--days", "0")
        assert logged() == 0


def test_a_restart_clears_dead_connections_and_commands_without_a_charger(
        live_server_factory, tmp_path):
    import os
    import time

    from tests.conftest import Api

    first = live_server_factory(instance_dir=str(tmp_path))
    api = Api(first.url, first.create_user("restarter"))
    cp = SimCharger(first.ws_url, "in-flight").connect()
    try:
        cp.boot()
        cp.replies["GetConfiguration"] = "hang"  # it never answers
        sent = api.post("/chargers/in-flight/commands",
                        json={"action": "GetConfiguration", "wait": False, "timeout": 300})
        assert sent.status_code == 202 and sent.json()["status"] == "pending", sent.text
        deadline = time.monotonic() + 10
        while not any(action == "GetConfiguration" for action, _ in cp.received):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        (owner,), = query(first, "SELECT session_owner FROM chargers WHERE identity = 'in-flight'")
        # A power cut takes the worker and the master at once: stop the master first so that
        # it cannot start a new worker, then kill both.
        os.kill(first.proc.pid, signal.SIGSTOP)
        os.kill(int(owner.split(":")[-2]), signal.SIGKILL)
        first.stop(signal.SIGKILL)
    finally:
        cp.close()
    second = live_server_factory(instance_dir=str(tmp_path))
    api = Api(second.url, api.session.headers["Authorization"].split()[-1])
    # No charger has connected to the new process: its start-up did the clearing.
    assert api.get("/chargers/in-flight").json()["connected"] is False
    command = api.get(f"/commands/{sent.json()['id']}").json()
    assert command["status"] == "error"
    assert command["error"]["code"] == "Interrupted"
