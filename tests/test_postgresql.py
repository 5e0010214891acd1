"""The same server on PostgreSQL (the production database): charger traffic, commands, restart."""
from __future__ import annotations

import signal

from ocpp.v16 import call

from tests.conftest import Api
from tests.support.charger import SimCharger
from tests.support.server import query


def test_charger_traffic_and_commands_on_postgresql(postgres, live_server_factory, tmp_path):
    url = postgres.create_database("constellation_traffic")
    srv = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    api = Api(srv.url, srv.create_user("pgadmin"))
    with SimCharger(srv.ws_url, "PG-1") as cp:
        assert cp.boot(firmware_version="2.0").status == "Accepted"
        for status in ("Available", "Preparing"):
            cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))
        start = cp.call(call.StartTransaction(connector_id=1, id_tag="PGTAG", meter_start=10,
                                              timestamp="2026-05-01T10:00:00Z"))
        assert cp.call(call.StartTransaction(connector_id=1, id_tag="PGTAG", meter_start=10,
                                             timestamp="2026-05-01T10:00:00Z")
                       ).transaction_id == start.transaction_id
        cp.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                 meter_value=[{"timestamp": "2026-05-01T10:01:00Z",
                                               "sampledValue": [{"value": "0.5", "unit": "kWh"}]}]))
        body = api.post("/chargers/PG-1/commands", json={"action": "GetConfiguration"}).json()
        assert body["status"] == "completed"
        srv.stop(signal.SIGKILL)
    again = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    with SimCharger(again.ws_url, "PG-1") as cp:
        cp.call(call.StopTransaction(meter_stop=1010, timestamp="2026-05-01T10:30:00Z",
                                     transaction_id=start.transaction_id))
    assert query(again, "SELECT energy_wh FROM transactions WHERE id = ?",
                 start.transaction_id) == [(1000.0,)]
    assert query(again, "SELECT value, unit FROM meter_values WHERE transaction_id = ?",
                 start.transaction_id) == [(500.0, "Wh")]
    assert query(again, "SELECT c.status FROM connectors c JOIN chargers ch ON ch.id = "
                 "c.charger_id WHERE ch.identity = 'PG-1'") == [("Preparing",)]
    assert query(again, "SELECT count(*) FROM configuration_keys") == [(2,)]
